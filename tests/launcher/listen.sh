#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --listen in C: what the launcher itself makes and hands over, checked from
# inside the program (python3 reads its own fds): fds 3.. after the ones the
# launcher inherited, LISTEN_PID = the program's pid (exec in place),
# LISTEN_FDS, LISTEN_FDNAMES, socket family/type, dual-stack for a bare PORT,
# IPV6_V6ONLY next to an IPv4 socket on the same port, a stale unix socket
# file replaced; errors: one line and exit 71 (in use, permission), 64 (bad
# address).
source "$SDA_SRC/tests/operator/lib.sh"
need python3 setpriv
L=$SDA_LAUNCHER
# an empty preload module: the real shim would take LISTEN_* away from the
# program, which here only looks
echo 'int sda_ln_empty;' >"$T/empty.c"
"${SDA_CC:-cc}" -shared -fPIC -o "$T/libempty.so" "$T/empty.c"
S=(--shim "$T/libempty.so")
cat >"$T/show.py" <<'PY'
import os, socket, sys
print("pid", os.getpid(), os.environ.get("LISTEN_PID"), os.environ.get("LISTEN_FDS"),
      os.environ.get("LISTEN_FDNAMES"), "PIDFDID" in os.environ and os.environ["LISTEN_PIDFDID"] or "-")
n = int(os.environ.get("LISTEN_FDS", "0"))
for fd in range(3, 3 + n):
    s = socket.socket(fileno=os.dup(fd))
    v6 = "-"
    if s.family == socket.AF_INET6:
        v6 = s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    acc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    print("fd", fd, int(s.family), int(s.type), repr(s.getsockname()), "v6only=%s" % v6, "listening=%d" % acc,
          "cloexec=%d" % (1 if os.get_inheritable(fd) is False else 0))
PY
py() { printf '%s\n' /usr/bin/python3 "$T/show.py"; }
# run ARG...: run the launcher (a fresh port for {P}; retried when taken: 71)
run() { sda_free_port "$@"; }
line() { grep "^$1" "$T/out"; }

st=0
run "${S[@]}" --listen 127.0.0.1:{P} --fdname web --listen /dev/null/x -- true || st=$?
check "an impossible unix path: 71, one line" eval 'test "$st" = 71 && [[ $(wc -l <"$T/err") == 1 ]] && grep -q "^sdadopt: error: --listen /dev/null/x: bind: Not a directory$" "$T/err"'

run "${S[@]}" --listen 127.0.0.1:{P} --fdname web --listen "$T/u.sock" -- $(py) || true
read -r _ pid lpid lfds lnames pidfdid < <(line pid)
check "LISTEN_PID is the program's own pid (exec in place)" test -n "$pid" -a "$pid" = "$lpid"
check "LISTEN_FDS=2, LISTEN_FDNAMES=web:unknown" test "$lfds:$lnames" = "2:web:unknown"
check "LISTEN_PIDFDID unset" test "$pidfdid" = "-"
check "fd 3: tcp 127.0.0.1:P, listening, inherited (not close-on-exec)" \
	grep -qE "^fd 3 2 1 \('127\.0\.0\.1', $P\) v6only=- listening=1 cloexec=0$" "$T/out"
check "fd 4: unix stream $T/u.sock, listening" grep -qE "^fd 4 1 1 '$T/u.sock' v6only=- listening=1" "$T/out"
((fails == 0)) || show "$T/out" "$T/err"

# a stale socket file is replaced (as systemd does); another file is not
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/stale.sock"
run "${S[@]}" --listen "$T/stale.sock" -- $(py) || true
check "a stale unix socket file is replaced" grep -qE "^fd 3 1 1 '$T/stale.sock'" "$T/out"
echo data >"$T/plain"
st=0
run "${S[@]}" --listen "$T/plain" -- true || st=$?
check "a regular file in the way: 71, one line" eval 'test "$st" = 71 && [[ $(wc -l <"$T/err") == 1 ]] && has "$T/err" "--listen $T/plain: bind: Address already in use"'

if ipv6_loopback; then
	run "${S[@]}" --listen {P} -- $(py) || true
	check "a bare PORT: [::]:P dual-stack (IPV6_V6ONLY=0), as systemd" \
		grep -qE "^fd 3 10 1 \('::', $P, 0, 0\) v6only=0 listening=1" "$T/out"
	run "${S[@]}" --listen 0.0.0.0:{P} --listen '[::]:{P}' -- $(py) || true
	check "[::]:P next to 0.0.0.0:P: IPV6_V6ONLY=1 (both bound)" \
		grep -qE "^fd 4 10 1 \('::', $P, 0, 0\) v6only=1 listening=1" "$T/out"
	run "${S[@]}" --listen '[::1%lo]:{P}' -- $(py) || true
	check "[IPv6%IFACE]:P: the interface is looked up, the socket bound" grep -qE "^fd 3 10 1 \('::1', $P, 0, [0-9]+\)" "$T/out"
fi
run "${S[@]}" --datagram --listen 127.0.0.1:{P} --listen "@sda-ln-$$" -- $(py) || true
check "--datagram: udp and unix dgram, not listening" \
	eval 'grep -qE "^fd 3 2 2 .* listening=0" "$T/out" && grep -qE "^fd 4 1 2 .* listening=0" "$T/out"'
run "${S[@]}" --seqpacket --listen "@sda-ln-sq-$$" -- $(py) || true
check "--seqpacket: unix seqpacket, listening" grep -qE "^fd 3 1 5 .* listening=1" "$T/out"

# sockets the launcher inherited itself come first (3..), --listen after
need "$SDA_ACTIVATE"
P=$(free_port)
timeout -k 5 "$((BACKSTOP + 10))" "$SDA_ACTIVATE" --no-preload --timeout "$BACKSTOP" --name outer --listen tcp:127.0.0.1:0 -- \
	"$L" "${S[@]}" --listen "127.0.0.1:$P" --fdname inner -- $(py) >"$T/out" 2>"$T/err" </dev/null || true
read -r _ pid lpid lfds lnames _ < <(line pid)
check "inherited + --listen: LISTEN_FDS=2 LISTEN_FDNAMES=outer:inner, LISTEN_PID ours" \
	test "$lfds:$lnames:$lpid" = "2:outer:inner:$pid"
check "inherited + --listen: fd 4 is the --listen socket" grep -qE "^fd 4 2 1 \('127\.0\.0\.1', $P\)" "$T/out"

# errors: permission (a port below 1024 as nobody), in use, bad address
chmod 755 "$T" # nobody reads the (empty) shim in it
st=0
timeout -k 5 "$BACKSTOP" setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all \
	"$L" "${S[@]}" --listen 127.0.0.1:80 -- true >"$T/out" 2>"$T/err" </dev/null || st=$?
check "a privileged port as nobody: 71" test "$st" = 71
check "... one line: bind: Permission denied" eval '[[ $(wc -l <"$T/err") == 1 ]] && has "$T/err" "sdadopt: error: --listen 127.0.0.1:80: bind: Permission denied"'
st=0
sda "$T/out" "$T/err" "${S[@]}" --listen '[::1:80' -- true || st=$?
check "a bad address: 64" test "$st" = 64
check "... names it" has "$T/err" "--listen: '[::1:80' is not PORT, IPv4:PORT, [IPv6]:PORT, /path or @abstract"

finish
