# SPDX-License-Identifier: MIT
# Helpers for the real-daemon tests (sourced, not run).  Those tests/e2e
# needs too are in tests/lib/common.sh, sourced below.
#
# Every test is run by ctest as:  bash TEST.sh /path/to/libsdadopt.so MODE [CASE]
#   MODE shim    systemd-socket-activate ... -E LD_PRELOAD=SHIM -- DAEMON ...
#   MODE noshim  the same command without the shim: the negative control
#
# Each test runs a real, unmodified Debian daemon under the real
# systemd-socket-activate (systemd 252).  Without -a, the activator creates
# the socket, waits for the first connection (or datagram) and then execs the
# daemon IN PLACE: the daemon has the activator's PID and the socket as fd 3.
#
# What every shim-mode test proves (see run_first_request, assert_adopted):
#   a. the first request, sent while the activator is still waiting (it is
#      frozen with SIGSTOP, so no daemon exists yet), sits in the activated
#      socket's queue and is answered once the daemon runs;
#   b. further requests are answered;
#   c. the daemon's listening fd(s) (in every process of its tree) are the
#      socket the activator created: same inode; the kernel lists exactly one
#      listening (or bound) socket for the port or path;
# and every noshim-mode test (assert_not_adopted) that the same daemon
# without the shim does NOT get the activated socket.
#
# Rules: every wait is a poll loop with a deadline (wait_for); every client
# call runs under `timeout`; network only on 127.0.0.1, ::1 (and [::] where
# the dual-stack case needs systemd-socket-activate's default) and unix
# sockets in a private temp dir; random high ports, checked free, and a
# retry when the activator finds its port taken; everything started is
# killed (with its process tree) by the EXIT trap.  A missing daemon is a
# FAILURE, never a skip: scripts/setup installs them.

set -euo pipefail

SHIM=${1:?usage: bash $0 /path/to/libsdadopt.so shim|noshim [CASE]}
MODE=${2:?usage: bash $0 /path/to/libsdadopt.so shim|noshim [CASE]}
CASE=${3:-}
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"   # PY, CLIENT, ADOPT_RE, note/fail/pass, ...
SSA=/usr/bin/systemd-socket-activate

case $MODE in
shim | noshim) ;;
*) fail "MODE must be shim or noshim, not '$MODE'" ;;
esac

# need PATH PACKAGE: the program must be there; a missing one FAILS the test.
need() {
	[[ -x $1 ]] || fail "$1 is missing: install the Debian package '$2' (scripts/setup does)"
}
need "$SSA" systemd
need /usr/bin/timeout coreutils
need "$PY" python3
need /usr/bin/awk mawk
need /usr/bin/ss iproute2
resolve_shim

STOP=stop_tree                  # cleanup stops each process with its tree
LOGS+=('*/*.log')               # and shows the daemons' own logs too,
LOG_TAIL=60                     # the last 60 lines of each
make_work daemons
chmod 755 "$WORK"               # daemons drop privileges (nginx workers: nobody)

# ---------------------------------------------------------------- processes

dead() { ! alive "$1"; }

# stopped PID: the process is in the stopped state (SIGSTOP).
stopped() {
	local st
	st=$(proc_state "$1") || return 1
	[[ $st == T ]]
}

# children PID: its direct children (all threads' children).
children() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | awk 'NF' || true
}

# tree PID: PID and all its descendants.
tree() {
	local c
	echo "$1"
	for c in $(children "$1"); do tree "$c"; done
}

# Stop one process we started and everything under it: CONT (it may be
# frozen), TERM, bounded wait, then KILL; reap it.
stop_tree() {
	local pid=$1 end=$((SECONDS + 10)) all p
	mapfile -t all < <(tree "$pid")
	for p in "${all[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
	kill -TERM "$pid" 2>/dev/null || true
	for p in "${all[@]}"; do
		while alive "$p" && ((SECONDS < end)); do sleep 0.05; done
	done
	for p in "${all[@]}"; do
		if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
	done
	wait "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------------ sockets

# socket_inodes PID: the inodes of every socket PID holds.
socket_inodes() {
	local f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		[[ $l =~ ^socket:\[([0-9]+)\]$ ]] && echo "${BASH_REMATCH[1]}"
	done | sort -u
}

# all_listening_inodes: every listening TCP/unix socket and every bound UDP
# socket (any port) the kernel lists in this network namespace.
all_listening_inodes() {
	{
		awk 'FNR > 1 && $4 == "0A" { print $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
		awk 'FNR > 1 { split($2, a, ":"); if (a[2] != "0000") print $10 }' /proc/net/udp /proc/net/udp6 2>/dev/null
		awk 'NR > 1 && $4 == "00010000" { print $7 }' /proc/net/unix
	} | sort -u
}

# listening_inodes PID: the listening (or bound UDP) sockets PID holds.
listening_inodes() {
	comm -12 <(socket_inodes "$1") <(all_listening_inodes)
}

# queued KIND INODE: how much waits unread in that socket: the accept queue
# of a listening TCP or unix socket, the receive queue (bytes) of a UDP one.
queued() {
	case $1 in
	tcp | udp)
		local hex
		hex=$(awk -v ino="$2" 'FNR > 1 && $10 == ino { split($5, q, ":"); print q[2]; exit }' \
			/proc/net/"$1" /proc/net/"$1"6 2>/dev/null)
		if [[ -n $hex ]]; then echo $((16#$hex)); fi
		;;
	unix)
		# ss: Netid State Recv-Q Send-Q Local Port Peer Port; Recv-Q of a
		# listening unix socket is its accept queue, Port its inode.
		ss -xlnH 2>/dev/null | awk -v ino="$2" '$6 == ino { print $3; exit }'
		;;
	esac
}

# ---------------------------------------------------------------- activator

# start_activator: start "$SSA" "${SA_OPTS[@]}" -- "${SERVER[@]}" in the
# background, with -E LD_PRELOAD=SHIM in shim mode; stdout/stderr go to
# $WORK/server.out and $WORK/server.err.
start_activator() {
	local pre=()
	if [[ $MODE == shim ]]; then
		pre=(-E "LD_PRELOAD=$SHIM" -E SDADOPT_LOG=debug)
	fi
	"$SSA" "${SA_OPTS[@]}" "${pre[@]}" -- "${SERVER[@]}" \
		>"$WORK/server.out" 2>"$WORK/server.err" </dev/null &
	STARTED+=($!)
}

# tcp_port: for a CONFIGURE_FN of a TCP test: a new free PORT, and KIND=tcp
# WHERE=PORT, the endpoint the checks look at.
tcp_port() {
	PORT=$(pick_port)
	KIND=tcp WHERE=$PORT
}

# activate CONFIGURE_FN: call CONFIGURE_FN (which picks ports and sets
# SA_OPTS, SERVER, KIND, WHERE), start the activator, wait until it listens;
# retry with new ports when it found its address taken.  Sets SA_PID and
# INODE (the socket the activator created, handed over as fd 3).
activate() {
	local configure=$1 try end
	for try in 1 2 3 4 5 6 7 8; do
		"$configure"
		start_activator
		SA_PID=${STARTED[-1]}
		end=$((SECONDS + 20))
		while ! activator_ready "$SA_PID" 3 "$KIND" "$WHERE"; do
			if ! alive "$SA_PID"; then
				reap "$SA_PID"
				if grep -qi 'address already in use' "$WORK/server.err" 2>/dev/null; then
					note "address busy, retrying ($try)"
					continue 2
				fi
				fail "systemd-socket-activate exited before listening"
			fi
			((SECONDS < end)) || fail "timed out after 20s waiting for systemd-socket-activate to listen"
			sleep 0.05
		done
		INODE=$(sock_inode "$SA_PID" 3)
		note "$MODE: systemd-socket-activate (pid $SA_PID) ${SA_OPTS[*]}: fd 3 = socket:[$INODE]"
		note "server: ${SERVER[*]}"
		return 0
	done
	fail "could not find a free address in 8 tries"
}

# first_request CLIENT_ARGS...: the first request, made before the daemon
# exists.  The activator is frozen (SIGSTOP) so that it cannot exec the
# daemon; the client connects and sends its request, which the kernel queues
# on the activated socket; the queue is checked; then the activator is let
# go (SIGCONT), sees the connection and execs the daemon.  The client keeps
# running in the background (FIRST_PID); its output goes to $WORK/first.out.
first_request() {
	local exe q
	kill -STOP "$SA_PID"
	wait_for 10 "the activator to stop" stopped "$SA_PID"
	send_first "$@"
	exe=$(readlink "/proc/$SA_PID/exe")
	[[ $exe == "$SSA" ]] || fail "pid $SA_PID is already $exe: the request was not made before the daemon started"
	q=$(queued "$KIND" "$INODE")
	[[ -n $q ]] && ((q > 0)) ||
		fail "the first request is not queued on socket:[$INODE] (queue: '${q}')"
	note "first request sent while pid $SA_PID is still $exe (frozen); queued on socket:[$INODE]: $q"
	kill -CONT "$SA_PID"
}

# run_first_request WANT CLIENT_ARGS...: the first request (first_request
# CLIENT_ARGS...), then by MODE:
#   noshim  the negative control, assert_not_adopted WANT (WANT: what only an
#           answer from the daemon holds), and the test ends there (exit 0);
#   shim    the first client's answer is collected (first_reply) and the
#           client must have succeeded; the test goes on with its checks of
#           $WORK/first.out.
run_first_request() {
	local want=$1
	shift
	first_request "$@"
	if [[ $MODE == noshim ]]; then
		assert_not_adopted "$want"
		exit 0
	fi
	first_reply
	((FIRST_STATUS == 0)) || fail "first request: client status $FIRST_STATUS"
}

# http_first_request WANT TARGET [PATH]: run_first_request for the HTTP/1.0
# request GET PATH (default /) to TARGET (tcp:HOST:PORT); in shim mode the
# answer must be a 200.
http_first_request() {
	run_first_request "$1" "$2" "GET ${3:-/} HTTP/1.0\r\nHost: sdadopt\r\n\r\n"
	head -n1 "$WORK/first.out" | grep >/dev/null '^HTTP/1\.[01] 200' || fail "first request: no 200 response"
}

# server_is EXE_GLOB: the activator's PID now runs the daemon.
server_is() {
	local exe
	exe=$(readlink "/proc/$SA_PID/exe" 2>/dev/null) || fail "pid $SA_PID is gone"
	# shellcheck disable=SC2053
	[[ $exe == $1 ]] || fail "pid $SA_PID runs $exe, not $1"
}

# ------------------------------------------------------------ the assertions

# assert_adopted [WORKERS]
# ADOPTION PROVEN BY INODE.  INODE is the socket systemd-socket-activate
# created (fd 3 before the exec).  Now:
#   - the kernel lists exactly one listening/bound socket for KIND WHERE: INODE;
#   - the daemon (pid SA_PID) holds INODE at fd 3 (the shim's registry copy,
#     FD_CLOEXEC) and at fd(s) of its own: what its bind() returned;
#   - no process of the daemon's tree holds any other listening socket;
#   - with WORKERS=N: the daemon has N children and each holds INODE at a
#     fd other than 3 (the listener it inherited from the master).
assert_adopted() {
	local workers=${1:-} net own=() fds f flags p others kids=()
	net=$(net_inodes "$KIND" "$WHERE" | sort -u)
	[[ $net == "$INODE" ]] ||
		fail "$KIND $WHERE: expected exactly the activated socket [$INODE], the kernel lists: [${net//$'\n'/, }]"
	mapfile -t fds < <(fds_with_inode "$SA_PID" "$INODE")
	for f in "${fds[@]}"; do [[ $f == 3 ]] || own+=("$f"); done
	((${#own[@]} >= 1)) ||
		fail "daemon $SA_PID holds socket [$INODE] only at fd(s) '${fds[*]}': its own bind() did not adopt it"
	[[ " ${fds[*]} " == *" 3 "* ]] || fail "daemon $SA_PID no longer holds the activated socket [$INODE] at fd 3"
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$SA_PID/fdinfo/3")
	(((8#$flags & 8#2000000) != 0)) || fail "the registry's fd 3 is not FD_CLOEXEC (flags $flags)"
	for p in $(tree "$SA_PID"); do
		others=$(listening_inodes "$p" | grep -vx "$INODE" || true)
		[[ -z $others ]] ||
			fail "process $p ($(cat "/proc/$p/comm" 2>/dev/null)) holds another listening socket: [${others//$'\n'/, }]"
	done
	note "$KIND $WHERE: daemon $SA_PID holds socket:[$INODE] at fd 3 and at its own fd(s) ${own[*]}; the kernel lists only [$INODE]"
	if [[ -n $workers ]]; then
		mapfile -t kids < <(children "$SA_PID")
		((${#kids[@]} == workers)) || fail "expected $workers worker(s), the daemon has ${#kids[@]}: ${kids[*]}"
		for p in "${kids[@]}"; do
			mapfile -t fds < <(fds_with_inode "$p" "$INODE")
			own=()
			for f in "${fds[@]}"; do [[ $f == 3 ]] || own+=("$f"); done
			((${#own[@]} >= 1)) || fail "worker $p does not hold the activated socket [$INODE] (fds: ${fds[*]})"
			note "worker $p holds socket:[$INODE] at fd(s) ${own[*]}"
		done
	fi
}

# assert_log_prefix PROG: every shim log line is "PROG[PID]: sdadopt: LEVEL: "
# with the daemon's PID or one of its children's (docs/CONTRACT.md).
assert_log_prefix() {
	local bad
	bad=$(grep -- 'sdadopt: ' "$WORK/server.err" |
		grep -Ev "^$1\[[0-9]+\]: sdadopt: (error|warning|info|debug): " || true)
	[[ -z $bad ]] || fail "shim log line(s) without the contract's '$1[PID]: sdadopt: LEVEL: ' prefix:
$bad"
}

# assert_not_adopted EXPECT_ANSWER_RE
# THE NEGATIVE CONTROL (mode noshim).  Without the shim the daemon's own
# bind() must not get the activated socket.  Wait until the daemon has
# either exited or bound a socket of its own, then:
#   - exited: with a failure status and EADDRINUSE on stderr; the first
#     request was not answered (its connection died with the socket);
#   - running: no process of its tree holds INODE (other than the fd 3
#     the activator passed), the kernel lists its own, second socket for the
#     same endpoint, and the first request still sits unread in INODE.
assert_not_adopted() {
	local want=$1 own=() p fds f q status
	settled() { ! alive "$SA_PID" || net_inodes "$KIND" "$WHERE" | grep -vqx "$INODE"; }
	wait_for 60 "the daemon without the shim to exit or bind its own socket" settled
	if ! alive "$SA_PID"; then
		reap "$SA_PID"
		status=$REAPED
		((status != 0)) || fail "daemon exited with status 0 without the shim"
		grep -qi 'address already in use' "$WORK/server.err" "$WORK/server.out" ||
			fail "daemon died (status $status) without the shim, but not with EADDRINUSE"
		first_reply
		if grep -Eq -- "$want" "$WORK/first.out"; then
			fail "the first request was answered without the shim"
		fi
		note "the daemon said: $(cat "$WORK/server.err" "$WORK/server.out" | grep -i -m1 'address already in use')"
		note "first client: status $FIRST_STATUS, no answer"
		pass "$MODE: the daemon fails to bind (EADDRINUSE, exit status $status); the first request is not answered"
	else
		for p in $(tree "$SA_PID"); do
			mapfile -t fds < <(fds_with_inode "$p" "$INODE")
			for f in "${fds[@]}"; do [[ $p == "$SA_PID" && $f == 3 ]] || own+=("$p:$f"); done
		done
		((${#own[@]} == 0)) || fail "without the shim the daemon holds the activated socket at ${own[*]}"
		note "the kernel lists for $KIND $WHERE: $(net_inodes "$KIND" "$WHERE" | sort -u | tr '\n' ' ')(activated: $INODE)"
		q=$(queued "$KIND" "$INODE")
		[[ -n $q ]] && ((q > 0)) || fail "the first request no longer waits in socket:[$INODE] (queue '$q')"
		if grep -Eq -- "$want" "$WORK/first.out"; then
			fail "the first request was answered without the shim"
		fi
		pass "$MODE: the daemon runs on a second socket of its own; the activated [$INODE] keeps the first request unread ($q)"
	fi
	(($(adoption_count) == 0)) || fail "adoption line without the shim?"
}
