#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's socat as a forking echo server (EXEC:/bin/cat per client) under
# systemd-socket-activate.
#   usage: bash socat.sh SHIM shim|noshim CASE
#   CASE:
#     tcp   -l 127.0.0.1:PORT   socat TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork
#     unix  -l DIR/echo.sock    socat UNIX-LISTEN:DIR/echo.sock,fork,unlink-early
#           socat unlinks its socket path before bind (unlink-early) and at
#           exit: systemd's path must survive both.  (Without unlink-early,
#           socat 1.7.4 refuses to start because the path exists: with or
#           without the shim, see docs/compatibility.md.)
#     udp   -d -l 127.0.0.1:PORT  socat UDP-RECVFROM:PORT,bind=127.0.0.1,reuseaddr,fork
#           (one child per datagram; the first datagram wakes the activator)
source "$(dirname "$0")/lib.sh"
SOCAT=/usr/bin/socat
need "$SOCAT" socat
note "$("$SOCAT" -V | grep -m1 'socat version')"

configure() {
	case $CASE in
	tcp)
		PORT=$(pick_port)
		KIND=tcp WHERE=$PORT ADDR=tcp:127.0.0.1:$PORT
		SA_OPTS=(-l "127.0.0.1:$PORT")
		SERVER=("$SOCAT" -d -d "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork" EXEC:/bin/cat)
		;;
	unix)
		KIND=unix WHERE=$WORK/echo.sock ADDR=unix:$WORK/echo.sock
		SA_OPTS=(-l "$WORK/echo.sock")
		SERVER=("$SOCAT" -d -d "UNIX-LISTEN:$WORK/echo.sock,fork,unlink-early" EXEC:/bin/cat)
		;;
	udp)
		PORT=$(pick_port)
		KIND=udp WHERE=$PORT ADDR=udp:127.0.0.1:$PORT
		SA_OPTS=(-d -l "127.0.0.1:$PORT")
		SERVER=("$SOCAT" -d -d -T 5 "UDP-RECVFROM:$PORT,bind=127.0.0.1,reuseaddr,fork" EXEC:/bin/cat)
		;;
	*) fail "unknown case '$CASE'" ;;
	esac
}
activate configure
[[ $KIND != unix ]] || PATH_INODE=$(stat -c %i "$WHERE")   # the file, not the socket

# The client options: stream clients shut their write side down so that
# cat sees EOF and the connection ends.
COPTS=(--shut)
[[ $KIND == udp ]] && COPTS=()

# echo_req N: send "TOKEN-N" to the echo server; the reply must be the same.
echo_req() {
	local got
	got=$(timeout 30 "$PY" "$CLIENT" --wait 20 ${COPTS[@]+"${COPTS[@]}"} "$ADDR" "$TOKEN-$1\n" 2>>"$WORK/client.err") ||
		fail "request $1: client failed (status $?)"
	[[ $got == "$TOKEN-$1" ]] || fail "request $1: expected echo '$TOKEN-$1', got '$got'"
}

TOKEN="sdadopt-socat-$RANDOM$RANDOM"
run_first_request "$TOKEN" ${COPTS[@]+"${COPTS[@]}"} "$ADDR" "$TOKEN-1\n"
[[ $(cat "$WORK/first.out") == "$TOKEN-1" ]] ||
	fail "first request: expected echo '$TOKEN-1', got '$(cat "$WORK/first.out")'"
server_is /usr/bin/socat
assert_adopted
for i in 2 3 4; do echo_req $i; done
assert_adopted
assert_log_count 1
assert_log_prefix socat
if [[ $KIND != unix ]]; then
	# socat -d -d names each client: "accepting connection from AF=2
	# 127.0.0.1:N" (tcp), "receiving packet from AF=2 127.0.0.1:N" (udp).
	peers=$(grep -Eo '(accepting connection|receiving packet) from AF=[0-9]+ [^ ]+' "$WORK/server.err" |
		awk '{ print $(NF - 1), $NF }' | sed 's/:[0-9]*$//' | sort | uniq -c | tr -s ' \n' ' ')
	note "socat saw its clients as: $peers"
	[[ $peers =~ ^\ ?[0-9]+\ AF=2\ 127\.0\.0\.1\ ?$ ]] || fail "socat saw clients other than AF=2 127.0.0.1: $peers"
fi

if [[ $KIND == unix ]]; then
	grep -q "sdadopt: debug: kept $WHERE" "$WORK/server.err" ||
		fail "no log line shows the shim keeping $WHERE from socat's unlink-early"
	[[ $(stat -c %i "$WHERE") == "$PATH_INODE" ]] || fail "$WHERE is not systemd's socket file any more"
	# socat unlinks its listening path when it exits: the shim must keep
	# systemd's socket file.
	kill -TERM "$SA_PID"
	wait_for 20 "socat to exit" dead "$SA_PID"
	reap "$SA_PID"
	[[ -S $WHERE ]] || fail "socat's exit removed systemd's socket path $WHERE"
	[[ $(stat -c %i "$WHERE") == "$PATH_INODE" ]] || fail "$WHERE is not systemd's socket file any more"
	kept=$(grep -c "sdadopt: debug: kept $WHERE" "$WORK/server.err" || true)
	((kept >= 2)) || fail "expected the shim to keep $WHERE at socat's unlink-early and at its exit, logged $kept time(s)"
	note "after socat exited (status $REAPED), $WHERE is still there: $(stat -c '%F, inode %i' "$WHERE")"
fi
pass "socat $CASE: adopted the activated socket and echoed the queued first request and 3 more"
