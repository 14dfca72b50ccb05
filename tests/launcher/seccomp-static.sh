#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# seccomp mode with a statically linked C server (LD_PRELOAD cannot reach it).
# Under the real systemd-socket-activate with the launcher as the activated
# process:
#   a. the first connection, made while the activator still waits (before
#      the program started), is answered;
#   b. the program's listening socket is the activated one (same inode), and
#      the kernel lists one listening socket on the port;
#   c. negative control: the same run without the launcher (the shim in
#      LD_PRELOAD) answers nothing, the server's bind fails.
# Then: --listen in seccomp mode, a bind in a second thread, prefork workers,
# SIGTERM forwarding and the exit status (the program's; 128+N for a signal),
# --explain's mode line and summary, --no-seccomp.
source "$SDA_SRC/tests/operator/lib.sh"
source "$SDA_SRC/tests/lib/serve.sh"
need systemd-socket-activate ss
CC=${SDA_CC:-cc}
L=$SDA_LAUNCHER
build_static_server

# ---- a, b: the launcher as the activated process --------------------------
for _ in 1 2 3; do
	P=$(free_port)
	start_ssa "127.0.0.1:$P" -- "$L" -- "$T/static-server" 127.0.0.1 "$P" && break
	stop "$SSA"
done
ssa_ino=$(inode_of_fd "$SSA" 3)
check "the activator holds the socket as fd 3" test -n "$ssa_ino"
check "nothing has started: the activator waits (no server output)" test ! -s "$T/ssa.out"
first_request "$P" "$T/reply"
check "a. the first connection (made before the program ran) is answered" \
	grep -q "^hello from static-server ino=$ssa_ino " "$T/reply"
until_ok 60 has "$T/ssa.out" "listening fd=" || true
srv=$(children "$SSA" | head -n1)
lfd=$(sed -n 's/^listening fd=\([0-9]*\) .*/\1/p' "$T/ssa.out")
check "the launcher stays the parent: the server is its child" test -n "$srv"
check "b. the program's listening fd $lfd is the activated socket (inode $ssa_ino)" \
	test -n "$lfd" -a "$(inode_of_fd "$srv" "$lfd")" = "$ssa_ino"
check "b. the kernel lists one listening socket on $P" test "$(listeners "$P")" = 1
check "b. the launcher says it adopted fd 3 for bind(127.0.0.1:$P) [exact]" \
	has "$T/ssa.err" "adopted inherited fd 3 \"unknown\" (tcp 127.0.0.1:$P) as fd $lfd for bind(127.0.0.1:$P) [exact]"
first_request "$P" "$T/reply2"
check "a second connection is answered too" grep -q "^hello from static-server ino=$ssa_ino " "$T/reply2"
((fails == 0)) || show "$T/ssa.err" "$T/ssa.out" "$T/reply"
stop "$SSA"

# the same through the launcher: --activator ssa in seccomp mode runs
# systemd-socket-activate, which starts the launcher at the first connection
P=$(free_port)
"$L" --activator ssa --listen "127.0.0.1:$P" --fdname web -- "$T/static-server" 127.0.0.1 "$P" \
	>"$T/ssa.out" 2>"$T/ssa.err" </dev/null &
SSA=$!
_bg+=("$SSA")
if until_ok 60 eval 'port_listening "$P" || ! kill -0 $SSA 2>/dev/null' && port_listening "$P"; then
	first_request "$P" "$T/reply"
	check "--activator ssa, seccomp mode: the first connection is answered" grep -q "^hello from static-server" "$T/reply"
	check "--activator ssa, seccomp mode: adopted fd 3 \"web\"" has "$T/ssa.err" "adopted inherited fd 3 \"web\" (tcp 127.0.0.1:$P)"
else
	bad "--activator ssa, seccomp mode: systemd-socket-activate never listened on $P"
fi
stop "$SSA"

# ---- c. negative control: no launcher, the shim preloaded ------------------
for _ in 1 2 3; do
	P=$(free_port)
	start_ssa "127.0.0.1:$P" -E "LD_PRELOAD=$SDA_SHIM" -- "$T/static-server" 127.0.0.1 "$P" && break
	stop "$SSA"
done
first_request "$P" "$T/reply"
check "c. without the launcher the first connection gets no answer" test ! -s "$T/reply"
until_ok 60 eval '! kill -0 $SSA 2>/dev/null' || true
check "c. ... the static server's own bind failed (the port is taken)" has "$T/ssa.err" "bind 127.0.0.1:$P failed: Address already in use"
stop "$SSA"

# ---- --listen, seccomp mode: status and signals ------------------------------
# run_listen MODE: the launcher with --listen 127.0.0.1:P in the background (LN)
run_listen() {
	local mode=$1
	shift
	for _ in 1 2 3; do
		P=$(free_port)
		start_server ln "$L" "$@" --listen "127.0.0.1:$P" -- "$T/static-server" 127.0.0.1 "$P" "$mode" &&
			{ LN=$BG; return 0; }
	done
	return 1
}
conn_ok() { # conn_ok PORT: a connection is answered
	timeout "$BACKSTOP" bash -c 'exec 7<>"/dev/tcp/127.0.0.1/$1" && cat <&7' x "$1" 2>/dev/null | grep -q "^hello from static-server"
}
run_listen exit42
check "--listen: the static server runs" has "$T/ln.out" "listening fd="
check "--listen: a connection is answered" conn_ok "$P"
check "--listen: adopted (the launcher's line)" has "$T/ln.err" "(tcp 127.0.0.1:$P) as fd"
kill -TERM "$LN"
st=0
wait "$LN" || st=$?
check "SIGTERM to the launcher reaches the program: its exit status 42" test "$st" = 42
run_listen serve
srv=$(children "$LN" | head -n1)
kill -TERM "$LN"
st=0
wait "$LN" || st=$?
check "a program killed by SIGTERM: the launcher exits 143 (128+15)" test "$st" = 143
check "... and the program is gone" eval '! kill -0 "$srv" 2>/dev/null'
run_listen serve
kill -USR1 "$LN"
st=0
wait "$LN" || st=$?
check "SIGUSR1 is forwarded too: 138 (128+10)" test "$st" = 138
((fails == 0)) || show "$T/ln.err"

# a bind in a second thread
run_listen thread
ln_ino=$(inode_of_fd "$LN" 3)
srv=$(children "$LN" | head -n1)
lfd=$(sed -n 's/^listening fd=\([0-9]*\) .*/\1/p' "$T/ln.out")
check "thread: the bind in a second thread adopts the --listen socket (inode)" \
	test -n "$ln_ino" -a "$(inode_of_fd "$srv" "$lfd")" = "$ln_ino"
stop "$LN"

# prefork: two workers accept on the adopted socket
run_listen prefork
until_ok 60 eval '(($(children "$(children "$LN" | head -n1)" | wc -l) >= 2))' || true
pids=""
for _ in $(seq 12); do
	r=$(timeout "$BACKSTOP" bash -c 'exec 7<>"/dev/tcp/127.0.0.1/$1" && cat <&7' x "$P" 2>/dev/null) || true
	pids+=" $(sed -n 's/.* pid=\([0-9]*\)$/\1/p' <<<"$r")"
done
check "prefork: the workers answer on the adopted socket" test "$(tr ' ' '\n' <<<"$pids" | grep -c .)" = 12
check "prefork: one listening socket on $P" test "$(listeners "$P")" = 1
kill -TERM "$LN"
st=0
wait "$LN" || st=$?
check "prefork: the master's status 42" test "$st" = 42

# --explain: the mode and why, and the summary from the supervisor's lines
for _ in 1 2 3; do
	P=$(free_port)
	st=0
	timeout -k 5 "$BACKSTOP" "$L" --explain --run-for 1 --listen "127.0.0.1:$P" --fdname web -- \
		"$T/static-server" 127.0.0.1 "$P" >"$T/out" 2>"$T/err" </dev/null || st=$?
	((st == 71)) || break
done
check "--explain: says seccomp mode and why (no PT_INTERP)" \
	has "$T/err" "explain: mode: $T/static-server is statically linked (no PT_INTERP program header): seccomp mode"
check "--explain: --run-for stopped it: 143" test "$st" = 143
check "--explain: summary: fd 3 adopted by the bind" \
	grep -qE "^    fd 3 \"web\": tcp 127\.0\.0\.1:$P, listening -> adopted by bind\(127\.0\.0\.1:$P\) by static-server\[[0-9]+\] \[exact\]" "$T/err"
((fails == 0)) || show "$T/err"

# ExecStart=sdadopt --explain -- static-server: LISTEN_* from the caller
# (it forks the supervisor, which must see them as its own)
need "$SDA_ACTIVATE"
timeout -k 5 "$((BACKSTOP + 10))" "$SDA_ACTIVATE" --no-preload --timeout "$BACKSTOP" --name fromsystemd \
	--listen tcp:127.0.0.1:0 -- "$L" --explain --run-for 1 -- "$T/static-server" 127.0.0.1 '{port0}' \
	>"$T/out" 2>"$T/err" </dev/null || true
check "explain under an activator: says what it inherited" has "$T/err" "LISTEN_FDS=1 LISTEN_FDNAMES=fromsystemd from the activator"
check "explain under an activator: the static server adopts fd 3" \
	grep -qE "adopted inherited fd 3 \"fromsystemd\" \(tcp 127\.0\.0\.1:[0-9]+\) as fd [0-9]+ for bind" "$T/err"
((fails == 0)) || show "$T/err"

# --no-seccomp: as before seccomp mode: the warning, and no adoption
P=$(free_port)
st=0
timeout -k 5 "$BACKSTOP" "$L" --no-seccomp --shim "$SDA_SHIM" --listen "127.0.0.1:$P" -- \
	"$T/static-server" 127.0.0.1 "$P" >"$T/out" 2>"$T/err" </dev/null || st=$?
check "--no-seccomp: the static warning" has "$T/err" "is statically linked: without a dynamic loader"
check "--no-seccomp: the server's bind fails (3)" test "$st" = 3
st=0
timeout -k 5 "$BACKSTOP" "$L" --no-seccomp --strict --shim "$SDA_SHIM" -- "$T/static-server" 127.0.0.1 1 \
	>"$T/out" 2>"$T/err" </dev/null || st=$?
check "--no-seccomp --strict: 70" test "$st" = 70
# a unix path: the server unlink()s it before bind() (trapped: the
# activator's file stays) and binds it: adopted
for _ in 1 2 3; do
	P=0
	st=0
	timeout -k 5 "$BACKSTOP" "$L" --explain --run-for 1 --listen "$T/u.sock" -- \
		"$T/static-server" "$T/u.sock" 0 >"$T/out" 2>"$T/err" </dev/null || st=$?
	((st == 71)) || break
done
check "unix path: adopted (stream $T/u.sock)" has "$T/err" "(stream $T/u.sock) as fd"
check "unix path: the server's unlink() kept the activator's file" has "$T/err" "kept $T/u.sock: it is inherited fd 3's socket path"
check "unix path: the socket file is still there" test -S "$T/u.sock"
((fails == 0)) || show "$T/err"

# a seccomp policy that forbids new filters: one line, 69
"$CC" -O1 -o "$T/deny-seccomp" "$SDA_SRC/tests/launcher/deny-seccomp.c"
P=$(free_port)
st=0
timeout -k 5 "$BACKSTOP" "$T/deny-seccomp" "$L" --listen "127.0.0.1:$P" -- "$T/static-server" 127.0.0.1 "$P" \
	>"$T/out" 2>"$T/err" </dev/null || st=$?
check "seccomp forbidden: exit 69" test "$st" = 69
check "seccomp forbidden: one clear line" eval '[[ $(wc -l <"$T/err") == 1 ]] && has "$T/err" "sdadopt: error: seccomp mode: the kernel refused the filter (Permission denied): a seccomp policy"'
check "seccomp forbidden: the program did not run" hasnt "$T/out" "listening"
((fails == 0)) || show "$T/err"

# --seccomp forces it for a dynamic program too
"$CC" -O1 -pthread -o "$T/dynamic-server" "$SDA_SRC/tests/launcher/static-server.c"
for _ in 1 2 3; do
	P=$(free_port)
	st=0
	timeout -k 5 "$BACKSTOP" "$L" --seccomp --explain --run-for 1 --listen "127.0.0.1:$P" -- \
		"$T/dynamic-server" 127.0.0.1 "$P" >"$T/out" 2>"$T/err" </dev/null || st=$?
	((st == 71)) || break
done
check "--seccomp on a dynamic program: mode --seccomp" has "$T/err" "explain: mode: --seccomp"
check "--seccomp on a dynamic program: adopted" has "$T/err" "(tcp 127.0.0.1:$P) as fd"

finish
