#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Socket kinds beyond TCP, each under the real systemd-socket-activate with a
# legacy-style server of ours (servers.py: socket, bind, listen; it knows
# nothing about activation).  Each proves adoption by inode and counts the
# shim's adoption log lines.
#   usage: bash sockets.sh SHIM CASE
#   CASE: udp        -d -l 127.0.0.1:PORT, UDP echo
#         seqpacket  --seqpacket -l /path, message boundaries kept
#         unix       -l /path (stream); the server unlinks the path before
#                    bind, as legacy servers do, and the path survives
#         abstract   -l @name (stream)
#         fdname     two TCP sockets, --fdname=web:admin; each adoption line
#                    shows its name; a third, port-0 bind is not adopted
#         unused     two TCP sockets (used:spare), the server binds only the
#                    first: one adoption, and a warning that "spare" was
#                    never adopted
#         map        --fdname=web on one port, the server binds another;
#                    SDADOPT_MAP=ITS_ADDR=web hands it the named socket [map]
#         closeall   a TCP and a unix socket; the server first closes every
#                    fd above 2, as daemons do: the inherited ones survive
#         reload     a TCP and a unix socket; on SIGHUP the server closes
#                    both and binds again: adopted (and logged) again
source "$(dirname "$0")/lib.sh"

CASE=${2:?usage: bash sockets.sh SHIM CASE}

# Per case: the activator's options (SA_OPTS), the server's socket specs
# (SPECS), and for each inherited fd 3, 4, ...: the kernel table and key.
# Clients talk to SPECS unless TALK (the addresses actually served) is set.
setup_case() {
	SERVER_OPTS=() TALK=()
	case $CASE in
	udp)
		PORT=$(pick_port)
		SA_OPTS=(-d -l "127.0.0.1:$PORT")
		SPECS=("udp:127.0.0.1:$PORT")
		KINDS=(udp) WHERES=("$PORT")
		;;
	seqpacket)
		SA_OPTS=(--seqpacket -l "$WORK/seq.sock")
		SPECS=("seqpacket:$WORK/seq.sock")
		KINDS=(unix) WHERES=("$WORK/seq.sock")
		;;
	unix)
		SA_OPTS=(-l "$WORK/stream.sock")
		SPECS=("unix:$WORK/stream.sock")
		KINDS=(unix) WHERES=("$WORK/stream.sock")
		;;
	abstract)
		local name="@sdadopt-e2e-${WORK##*.}"
		SA_OPTS=(-l "$name")
		SPECS=("unix:$name")
		KINDS=(unix) WHERES=("$name")
		;;
	fdname)
		PORT=$(pick_port) PORT2=$(pick_port)
		while ((PORT2 == PORT)); do PORT2=$(pick_port); done
		SA_OPTS=(-l "127.0.0.1:$PORT" -l "127.0.0.1:$PORT2" --fdname=web:admin)
		SPECS=("tcp:127.0.0.1:$PORT" "tcp:127.0.0.1:$PORT2" "tcp:127.0.0.1:0")
		KINDS=(tcp tcp) WHERES=("$PORT" "$PORT2")
		;;
	unused)
		PORT=$(pick_port) PORT2=$(pick_port)
		while ((PORT2 == PORT)); do PORT2=$(pick_port); done
		SA_OPTS=(-l "127.0.0.1:$PORT" -l "127.0.0.1:$PORT2" --fdname=used:spare)
		SPECS=("tcp:127.0.0.1:$PORT")
		KINDS=(tcp) WHERES=("$PORT")
		;;
	map)
		PORT=$(pick_port) PORT2=$(pick_port)
		while ((PORT2 == PORT)); do PORT2=$(pick_port); done
		SA_OPTS=(-l "127.0.0.1:$PORT" --fdname=web -E "SDADOPT_MAP=127.0.0.1:$PORT2=web")
		SPECS=("tcp:127.0.0.1:$PORT2")
		TALK=("tcp:127.0.0.1:$PORT")
		KINDS=(tcp) WHERES=("$PORT")
		;;
	closeall)
		PORT=$(pick_port)
		SA_OPTS=(-l "127.0.0.1:$PORT" -l "$WORK/closeall.sock")
		SERVER_OPTS=(--close-all)
		SPECS=("tcp:127.0.0.1:$PORT" "unix:$WORK/closeall.sock")
		KINDS=(tcp unix) WHERES=("$PORT" "$WORK/closeall.sock")
		;;
	reload)
		PORT=$(pick_port)
		SA_OPTS=(-l "127.0.0.1:$PORT" -l "$WORK/reload.sock")
		SERVER_OPTS=(--reload-on-hup)
		SPECS=("tcp:127.0.0.1:$PORT" "unix:$WORK/reload.sock")
		KINDS=(tcp unix) WHERES=("$PORT" "$WORK/reload.sock")
		;;
	*) fail "unknown case $CASE" ;;
	esac
}

launch() {
	setup_case
	systemd-socket-activate "${SA_OPTS[@]}" -E LD_PRELOAD="$PRELOAD" -- \
		"$PY" "$SERVERS" ${SERVER_OPTS[@]+"${SERVER_OPTS[@]}"} "${SPECS[@]}" \
		>"$WORK/server.out" 2>"$WORK/server.err" </dev/null &
	STARTED+=($!)
}
ready() {
	local i
	for i in "${!KINDS[@]}"; do
		activator_ready "$SA_PID" $((3 + i)) "${KINDS[i]}" "${WHERES[i]}" || return 1
	done
}
start_retrying 20 launch
INODES=()
for i in "${!KINDS[@]}"; do INODES+=("$(sock_inode "$SA_PID" $((3 + i)))"); done
note "systemd-socket-activate (pid $SA_PID) ${SA_OPTS[*]}: inherited socket(s) ${INODES[*]}"

# talk SPEC MSG... -> the replies, one per line (the first call wakes the activator)
talk() { timeout 30 "$PY" "$CLIENT" --wait 20 "$@" 2>>"$WORK/client.err"; }

expect_echo() { # SPEC MSG...
	local spec=$1 got want=""
	shift
	got=$(talk "$spec" "$@") || fail "client for $spec failed"
	case $spec in
	udp:* | seqpacket:*) printf -v want 'echo:%s\n' "$@" ;;
	*) want="echo:$(printf '%s' "$@")" ;;
	esac
	[[ $got == "${want%$'\n'}" ]] || fail "$spec: expected reply '${want%$'\n'}', got '$got'"
}

# exchange ROUND: talk to every socket (the first exchange wakes the activator)
exchange() {
	local i spec
	for i in "${!KINDS[@]}"; do
		spec=${TALK[i]:-${SPECS[i]}}
		case $spec in
		seqpacket:*) expect_echo "$spec" "one-$1" "two-$1" "three-$1" ;;
		*) expect_echo "$spec" "hello-$1" ;;
		esac
	done
}

# check_adopted: every inherited socket is held by the fd the server reported.
check_adopted() {
	local i appfd
	for i in "${!KINDS[@]}"; do
		appfd=$(server_fd "${SPECS[i]}")
		[[ -n $appfd ]] || fail "server did not report its fd for ${SPECS[i]}"
		assert_adopted "$SA_PID" $((3 + i)) "${INODES[i]}" "${KINDS[i]}" "${WHERES[i]}" "$appfd"
	done
}

exchange 1
exchange 2
check_adopted
assert_log_count "${#KINDS[@]}"

case $CASE in
unix | seqpacket)
	[[ -S ${WHERES[0]} ]] || fail "the server's unlink() removed systemd's socket path ${WHERES[0]}"
	;;
fdname)
	grep -- "$ADOPT_RE" "$WORK/server.err" | grep -F '"web"' | grep -F >/dev/null "127.0.0.1:$PORT)" ||
		fail "no adoption line names \"web\" for 127.0.0.1:$PORT"
	grep -- "$ADOPT_RE" "$WORK/server.err" | grep -F '"admin"' | grep -F >/dev/null "127.0.0.1:$PORT2)" ||
		fail "no adoption line names \"admin\" for 127.0.0.1:$PORT2"
	# The port-0 bind is the server's own socket, untouched by the shim.
	eph=$(server_fd "tcp:127.0.0.1:0")
	[[ -n $eph ]] || fail "server did not report its port-0 socket"
	ino=$(sock_inode "$SA_PID" "$eph") || fail "port-0 fd $eph is not a socket"
	[[ " ${INODES[*]} " != *" $ino "* ]] || fail "the port-0 bind was given an inherited socket"
	ephport=$(awk '$1 == "BOUND" && $2 == "tcp:127.0.0.1:0" { sub(/.*:/, "", $4); print $4 }' "$WORK/server.out")
	expect_echo "tcp:127.0.0.1:$ephport" "ephemeral"
	;;
map)
	grep -- "$ADOPT_RE" "$WORK/server.err" | grep -F '"web"' | grep -F "bind(127.0.0.1:$PORT2)" | grep -F >/dev/null '[map]' ||
		fail "no [map] adoption line for bind(127.0.0.1:$PORT2) onto \"web\""
	[[ -z $(net_inodes tcp "$PORT2") ]] || fail "something listens on the mapped-from port $PORT2"
	;;
unused)
	# The shim reports the never-adopted socket when the server starts serving.
	grep -F 'warning: inherited fd 4 "spare"' "$WORK/server.err" | grep -F >/dev/null 'was never adopted' ||
		fail "no warning that inherited fd 4 \"spare\" was never adopted"
	[[ $(net_inodes tcp "$PORT2") == "$(sock_inode "$SA_PID" 4)" ]] ||
		fail "the unused inherited socket on port $PORT2 is no longer listening"
	;;
reload)
	bound() { (($(grep -c '^BOUND ' "$WORK/server.out") == 2 * ${#KINDS[@]})); }
	kill -HUP "$SA_PID"
	wait_for 20 "the server to bind again after SIGHUP" bound
	exchange 3
	check_adopted
	assert_log_count $((2 * ${#KINDS[@]}))
	[[ -S ${WHERES[1]} ]] || fail "the reload's unlink() removed systemd's socket path ${WHERES[1]}"
	;;
esac
pass "$CASE: adoption proven by inode, served, logged once per adoption"
