#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# seccomp mode while the program serves: a statically linked C server
# (tests/launcher/static-server.c) under the real systemd-socket-activate
# with the launcher as the activated process.
#   a. outbound: connections the program makes while it serves (plain, and
#      bound to 127.0.0.1:0 first, a trapped bind()) reach a local listener
#      of the test's, and their sockets are not the activated one;
#   b. backlog: the listener keeps the activator's backlog (ss -ltn Send-Q
#      before the program ran), not the program's listen(fd, 16);
#   c. a program that closes every fd >= 3 (close_range) before it binds
#      still adopts;
#   d. a unix socket: the program's unlink() of the path before bind() is
#      kept from removing the activator's file, and the bind adopts;
#   e. a SIGALRM storm (every 100 us) while the program binds 2000 times:
#      with an SA_RESTART handler every bind adopts, none fails; with a
#      handler without SA_RESTART every bind adopts or fails with EINTR (the
#      kernel's, see sdadopt(1) LIMITS), nothing else; no hang (each run
#      is cut off only when its output stops growing for 60 s);
#   f. with --listen and standard error a pipe, the supervisor's lines
#      reach that pipe (its log fd is not replaced by the --listen socket
#      at fd 3, which killed it with SIGPIPE at its first line).
source "$SDA_SRC/tests/operator/lib.sh"
source "$SDA_SRC/tests/lib/serve.sh"
need systemd-socket-activate ss
L=$SDA_LAUNCHER
build_static_server

# sendq PORT: the Send-Q column of the listener on 127.0.0.1:PORT (its backlog)
sendq() { ss -Hltn "sport = :$1" 2>/dev/null | awk 'NR == 1 { print $3 }'; }
# ssa_server MODE [ARG]: the static server in MODE on 127.0.0.1:P under the
# activator and the launcher (SSA, P); 1 when no port could be had
ssa_server() {
	for _ in 1 2 3; do
		P=$(free_port)
		start_ssa "127.0.0.1:$P" -- "$L" -- "$T/static-server" 127.0.0.1 "$P" "$@" && return 0
		stop "$SSA"
	done
	return 1
}

# ---- a. outbound connections while serving --------------------------------
# the test's local listener: the same server, natively (no launcher)
start_native peer "$T/static-server" || true
Q=$PORT PEER=$BG
peer_ino=$(sed -n 's/^listening fd=[0-9]* ino=\([0-9]*\) .*/\1/p' "$T/peer.out")
check "the test's own listener on 127.0.0.1:$Q runs" test -n "$peer_ino"
ssa_server outbound "$Q" || bad "a. the activator never listened"
ssa_ino=$(inode_of_fd "$SSA" 3)
first_request "$P" "$T/reply"
check "a. the first connection is answered by the adopted socket" \
	grep -q "^hello from static-server ino=$ssa_ino " "$T/reply"
for kind in plain bound; do
	line=$(grep "^outbound $kind " "$T/reply" || true)
	oino=$(sed -n 's/^outbound [a-z]* ino=\([0-9]*\) .*/\1/p' <<<"$line")
	check "a. outbound ($kind) while serving reaches the local listener" \
		grep -q "got=hello from static-server ino=$peer_ino " <<<"$line"
	check "a. ... its socket is its own (inode $oino), not the activated $ssa_ino" \
		test -n "$oino" -a "$oino" != 0 -a "$oino" != "$ssa_ino"
done
first_request "$P" "$T/reply2"
check "a. again on the next connection" grep -q "^outbound bound .*got=hello from static-server ino=$peer_ino " "$T/reply2"
check "a. the launcher adopted one bind (the listener's), not the outbound one" \
	test "$(count "$T/ssa.err" "adopted inherited fd 3")" = 1
((fails == 0)) || show "$T/ssa.err" "$T/ssa.out" "$T/reply"
stop "$SSA"
stop "$PEER"

# ---- b. the activator's backlog ------------------------------------------
ssa_server serve || bad "b. the activator never listened"
before=$(sendq "$P")
check "b. the activator's listener has a backlog (Send-Q $before)" test -n "$before"
check "b. ... which is not the program's 16 (else this check could not fail)" test "$before" != 16
first_request "$P" "$T/reply"
check "b. the program runs on the adopted socket" grep -q "^hello from static-server ino=$(inode_of_fd "$SSA" 3) " "$T/reply"
check "b. its listen(fd, 16) kept the activator's backlog: Send-Q still $before" test "$(sendq "$P")" = "$before"
stop "$SSA"
# the control: the same program bound natively shows its own 16
start_native nat "$T/static-server" || true
P=$PORT NAT=$BG
check "b. control: natively its listener's Send-Q is 16" test "$(sendq "$P")" = 16
stop "$NAT"

# ---- c. fds closed before the bind -----------------------------------------
ssa_server closefds || bad "c. the activator never listened"
ssa_ino=$(inode_of_fd "$SSA" 3)
first_request "$P" "$T/reply"
check "c. a program that closed every fd >= 3 first still adopts (inode $ssa_ino)" \
	grep -q "^hello from static-server ino=$ssa_ino " "$T/reply"
srv=$(children "$SSA" | head -n1)
lfd=$(sed -n 's/^listening fd=\([0-9]*\) .*/\1/p' "$T/ssa.out")
check "c. ... its listening fd $lfd is the activated socket" test -n "$lfd" -a "$(inode_of_fd "$srv" "$lfd")" = "$ssa_ino"
((fails == 0)) || show "$T/ssa.err" "$T/ssa.out"
stop "$SSA"

# ---- d. a unix socket under the activator ------------------------------------
U=$T/srv.sock
start_ssa "$U" -- "$L" --log debug -- "$T/static-server" "$U" 0 || bad "d. the activator never made $U"
u_ino=$(inode_of_fd "$SSA" 3)
file_ino=$(stat -c %i "$U")
timeout "$BACKSTOP" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(float(sys.argv[2])); s.connect(sys.argv[1])
print(s.recv(200).decode(), end="")' "$U" "$BACKSTOP" >"$T/reply" 2>&1 || true
check "d. unix: the first connection is answered by the adopted socket" \
	grep -q "^hello from static-server ino=$u_ino " "$T/reply"
check "d. unix: the program's unlink() was kept" has "$T/ssa.err" "kept $U: it is inherited fd 3's socket path"
check "d. unix: the activator's file is still there (same inode)" test -S "$U" -a "$(stat -c %i "$U" 2>/dev/null)" = "$file_ino"
((fails == 0)) || show "$T/ssa.err" "$T/ssa.out" "$T/reply"
stop "$SSA"

# ---- e. a signal storm while binding ---------------------------------------
N=2000
for mode in storm-restart storm-intr; do
	P=$(free_port)
	# the connection that wakes the activator, and later reads the summary
	(
		until_ok 60 port_listening "$P" || exit 0
		first_request "$P" "$T/$mode.reply"
	) &
	waker=$!
	_bg+=("$waker")
	st=0
	run_progressing 60 "$T/$mode.log" systemd-socket-activate -l "127.0.0.1:$P" -- \
		"$L" -- "$T/static-server" 127.0.0.1 "$P" "$mode" "$N" || st=$?
	wait "$waker" 2>/dev/null || true
	r=$(cat "$T/$mode.reply" 2>/dev/null || true)
	echo "# $mode: ${r:-no reply}"
	check "e. $mode: no hang, exit 0 (the program's)" test "$st" = 0
	check "e. $mode: the storm ran (signals > 0)" grep -qE "signals=[1-9]" <<<"$r"
	check "e. $mode: every adopted bind got the same activated socket" grep -q "same_ino=1 " <<<"$r"
	check "e. $mode: no bind failed otherwise (other=0)" grep -q " other=0 " <<<"$r"
	if [[ $mode == storm-restart ]]; then
		check "e. $mode: all $N binds adopted, no EINTR" grep -q "^storm binds=$N adopted=$N eintr=0 " <<<"$r"
		check "e. $mode: the launcher logged $((N + 1)) adoptions" \
			test "$(count "$T/$mode.log" "adopted inherited fd 3")" = $((N + 1))
	else
		a=$(sed -n 's/.* adopted=\([0-9]*\) .*/\1/p' <<<"$r")
		e=$(sed -n 's/.* eintr=\([0-9]*\) .*/\1/p' <<<"$r")
		check "e. $mode: every bind adopted or failed with EINTR ($a + $e = $N)" \
			test -n "$a" -a -n "$e" -a "$((${a:-0} + ${e:-0}))" = "$N"
	fi
	((fails == 0)) || show "$T/$mode.log"
done

# ---- f. the supervisor's log through a pipe, with --listen ---------------------
P=$(free_port)
set +e
timeout -k 5 "$BACKSTOP" "$L" --seccomp --listen "127.0.0.1:$P" -- /bin/true 2>&1 </dev/null | cat >"$T/pipe.err"
st=("${PIPESTATUS[@]}")
set -e
check "f. --listen, stderr a pipe: the launcher exits with the program's 0 (not SIGPIPE: 141)" test "${st[0]}" = 0
check "f. ... and its warning came through the pipe" has "$T/pipe.err" "was never adopted at exit"
((fails == 0)) || show "$T/pipe.err"

finish
