#!/usr/bin/env bash
# shellcheck disable=SC1083 # {P}: the port placeholder that launch() fills in
# SPDX-License-Identifier: MIT
# --listen: the launcher makes the sockets, the program adopts them.  Proof:
# the program's bound fd is the same socket (inode) as the inherited fd 3,
# and the shim's "adopted" line.  No connection is made: the default
# activator starts the program at once.
source "$(dirname "$0")/lib.sh"
need systemd-socket-activate
TS=$SDA_TESTSERVER
S=(--shim "$SDA_SHIM")

# adopts OUT: the fd the testserver bound is the same socket as inherited fd 3
same_socket_as_fd3() {
	local b f
	b=$(sed -n 's/^bound fd=[0-9]* ino=\([0-9]*\)\( .*\)\{0,1\}$/\1/p' "$1" | head -n1)
	f=$(sed -n 's/^fd n=3 ino=\([0-9]*\) .*/\1/p' "$1")
	[[ -n $b && $b == "$f" ]]
}
# launch DESCRIPTION ARG...: run with a fresh port, retrying when the port
# was taken meanwhile (status 71); {P} in the arguments is the port
launch() {
	shift
	sda_free_port "$@"
}

# TCP on 127.0.0.1, named
launch tcp4 "${S[@]}" --listen 127.0.0.1:{P} --fdname web -- "$TS" bind tcp:127.0.0.1:{P} listen 16 fds && st=0 || st=$?
check "tcp 127.0.0.1: the program ran and exited 0" test "$st" = 0
check "tcp 127.0.0.1: bound fd is inherited fd 3 (same inode)" same_socket_as_fd3 "$T/out"
check "tcp 127.0.0.1: the shim's adopted line, named web, [exact]" \
	has "$T/err" "info: adopted inherited fd 3 \"web\" (tcp 127.0.0.1:$P) as fd"
check "tcp 127.0.0.1: ... for bind(127.0.0.1:$P) [exact]" has "$T/err" "for bind(127.0.0.1:$P) [exact]"
((st == 0)) || show "$T/out" "$T/err"

# PORT alone: [::] dual-stack, an IPv4 wildcard bind adopts it
if ipv6_loopback; then
	launch dual "${S[@]}" --listen {P} -- "$TS" bind tcp:0.0.0.0:{P} listen 16 name fds && st=0 || st=$?
	check "PORT: dual-stack [::] socket adopted by bind(0.0.0.0)" \
		has "$T/err" "(tcp [::]:$P) as fd"
	check "PORT: ... [dual-stack, translating addresses to IPv4]" \
		has "$T/err" "[dual-stack, translating addresses to IPv4]"
	check "PORT: getsockname says AF_INET" has "$T/out" "family=inet "
	check "PORT: same inode" same_socket_as_fd3 "$T/out"
	launch v6 "${S[@]}" --listen '[::1]:{P}' -- "$TS" bind 'tcp:[::1]:{P}' listen 16 fds && st=0 || st=$?
	check "[::1]:PORT adopted exactly" has "$T/err" "(tcp [::1]:$P) as fd"
	check "[::1]:PORT same inode" same_socket_as_fd3 "$T/out"
	# an IPv4 and an IPv6 wildcard on one port: both can be bound
	launch both "${S[@]}" --listen 0.0.0.0:{P} --listen '[::]:{P}' -- \
		"$TS" bind tcp:0.0.0.0:{P} listen 16 bind 'tcp:[::]:{P},v6only=1' listen 16 && st=0 || st=$?
	check "0.0.0.0:P and [::]:P together: both adopted" \
		test "$st:$(count "$T/err" "info: adopted")" = "0:2"
else
	bad "no IPv6 loopback (::1): the dual-stack checks need it"
fi

# unix path, abstract, datagram, seqpacket
launch unix "${S[@]}" --listen "$T/s.sock" -- "$TS" bind "unix:$T/s.sock" listen 16 fds && st=0 || st=$?
check "unix path: adopted, same inode" eval 'has "$T/err" "(stream $T/s.sock) as fd" && same_socket_as_fd3 "$T/out"'
launch abstract "${S[@]}" --listen "@sdadopt-op-$$" -- "$TS" bind "unix:@sdadopt-op-$$" listen 16 fds && st=0 || st=$?
check "abstract: adopted, same inode" eval 'has "$T/err" "(stream @sdadopt-op-$$) as fd" && same_socket_as_fd3 "$T/out"'
launch udp "${S[@]}" --datagram --listen 127.0.0.1:{P} -- "$TS" bind udp:127.0.0.1:{P} fds && st=0 || st=$?
check "--datagram: udp adopted, same inode" eval 'has "$T/err" "(udp 127.0.0.1:$P) as fd" && same_socket_as_fd3 "$T/out"'
launch seq "${S[@]}" --seqpacket --listen "@sdadopt-op-sq-$$" -- "$TS" bind "unix-seqpacket:@sdadopt-op-sq-$$" listen 16 fds && st=0 || st=$?
check "--seqpacket: adopted, same inode" eval 'has "$T/err" "(seqpacket @sdadopt-op-sq-$$) as fd" && same_socket_as_fd3 "$T/out"'

# two sockets, names in order; the second adopted by name through --map
launch two "${S[@]}" --listen 127.0.0.1:{P} --fdname web --listen "$T/admin.sock" --fdname admin -- \
	"$TS" bind "unix:$T/admin.sock" listen 16 bind tcp:127.0.0.1:{P} listen 16 && st=0 || st=$?
check "two --listen: fd 3 is web, fd 4 is admin" \
	eval 'has "$T/err" "inherited fd 3 \"web\" (tcp 127.0.0.1:$P)" && has "$T/err" "inherited fd 4 \"admin\" (stream $T/admin.sock)"'

# the address is taken: 71, the program does not run
P=$(free_port)
# (the holder runs until it is killed below; the timeout is a backstop)
timeout "$BACKSTOP" /usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("up", flush=True); time.sleep(3600)' "$P" >"$T/holder" &
holder=$!
_bg+=("$holder")
check "the holder listens on $P" until_ok 60 port_listening "$P"
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --listen "127.0.0.1:$P" -- touch "$T/ran")
check "--listen on a taken address -> 71" test "$st" = 71
check "... with the bind error" has "$T/err" "bind: Address already in use"
check "... and the program did not run" test ! -e "$T/ran"
kill "$holder" 2>/dev/null || true

# --activator ssa: starts the program at the first connection
P=$(free_port)
timeout -k 5 "$BACKSTOP" "$SDA_LAUNCHER" "${S[@]}" --activator ssa --listen "127.0.0.1:$P" --fdname web -- \
	"$TS" bind "tcp:127.0.0.1:$P" listen 16 fds >"$T/out" 2>"$T/err" </dev/null &
ssa=$!
_bg+=("$ssa")
# waits_for_connection PID: the child of PID (timeout; the launcher execs
# systemd-socket-activate in place) is systemd-socket-activate, asleep in
# its wait for a first connection
waits_for_connection() {
	local c
	c=$(cat /proc/"$1"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
	[[ -n $c && $(readlink "/proc/$c/exe" 2>/dev/null) == */systemd-socket-activate ]] &&
		[[ $(sed 's/^.*) //' "/proc/$c/stat" 2>/dev/null | cut -d' ' -f1) == S ]] &&
		grep -qE 'poll|select' "/proc/$c/wchan" 2>/dev/null
}
if until_ok 60 port_listening "$P"; then
	# not "after a while": it is blocked waiting, so it can start nothing
	check "ssa: systemd-socket-activate waits for the first connection" until_ok 60 waits_for_connection "$ssa"
	check "ssa: the program has not started before a connection" hasnt "$T/out" "bound"
	exec 7<>"/dev/tcp/127.0.0.1/$P" || true
	exec 7<&- 7>&-
	st=0
	wait "$ssa" || st=$?
	check "ssa: after the first connection it ran and exited 0" test "$st" = 0
	check "ssa: adopted, named web, same inode" \
		eval 'has "$T/err" "adopted inherited fd 3 \"web\" (tcp 127.0.0.1:$P)" && same_socket_as_fd3 "$T/out"'
	check "ssa: the launcher said it waits for the first connection" has "$T/err" "at the first connection"
else
	bad "ssa: systemd-socket-activate never listened on $P"
	show "$T/err"
fi
# ssa passes the environment through -E
P=$(free_port)
SDADOPT_OP_MARK=kept timeout -k 5 "$BACKSTOP" "$SDA_LAUNCHER" "${S[@]}" --activator ssa --datagram --listen "127.0.0.1:$P" -- \
	sh -c 'echo "mark=$SDADOPT_OP_MARK"' >"$T/out" 2>"$T/err" </dev/null &
ssa=$!
_bg+=("$ssa")
# once the socket is bound, one datagram waits in it for the activator
udp_bound() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v h="$hex" 'FNR > 1 { split($2, a, ":"); if (a[length(a)] == h) f = 1 } END { exit !f }' \
		/proc/net/udp /proc/net/udp6
}
if until_ok 60 udp_bound "$P"; then
	echo x >"/dev/udp/127.0.0.1/$P" || true
else
	bad "ssa --datagram: systemd-socket-activate never bound udp $P"
fi
wait "$ssa" || true
check "ssa: the environment reaches the program" has "$T/out" "mark=kept"

# activated already (systemd runs "ExecStart=sdadopt -- server"): the
# inherited sockets pass through, in front of --listen ones
need "$SDA_ACTIVATE"
P=$(free_port)
timeout -k 5 "$((BACKSTOP + 10))" "$SDA_ACTIVATE" --no-preload --timeout "$BACKSTOP" --name fromsystemd --listen tcp:127.0.0.1:0 -- \
	"$SDA_LAUNCHER" "${S[@]}" --listen "127.0.0.1:$P" --fdname extra -- \
	"$TS" bind 'tcp:127.0.0.1:{port0}' listen 16 bind "tcp:127.0.0.1:$P" listen 16 >"$T/out" 2>"$T/err" </dev/null || true
check "inherited from the activator: fd 3 adopted" has "$T/err" "adopted inherited fd 3 \"fromsystemd\""
check "and the --listen socket follows as fd 4" has "$T/err" "adopted inherited fd 4 \"extra\" (tcp 127.0.0.1:$P)"
timeout -k 5 "$((BACKSTOP + 10))" "$SDA_ACTIVATE" --no-preload --timeout "$BACKSTOP" --name fromsystemd --listen tcp:127.0.0.1:0 -- \
	"$SDA_LAUNCHER" "${S[@]}" -- "$TS" bind 'tcp:127.0.0.1:{port0}' listen 16 >"$T/out" 2>"$T/err" </dev/null || true
check "ExecStart=sdadopt -- server: the server adopts (same pid)" has "$T/err" "adopted inherited fd 3 \"fromsystemd\""

finish
