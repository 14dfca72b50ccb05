#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The first connection, made BEFORE the server has even started, is answered
# by the server through the adopted socket.  The server start is gated on a
# FIFO: the activator execs `sh`, which waits on the FIFO and then execs
# http.server with the shim (LD_PRELOAD only on that exec, so the shim does
# not load into sh and consume LISTEN_* there).
source "$(dirname "$0")/lib.sh"

mkdir "$WORK/www"
TOKEN="first-connection-$RANDOM$RANDOM"
echo "$TOKEN" >"$WORK/www/index.html"
mkfifo "$WORK/gate"

launch() {
	PORT=$(pick_port)
	systemd-socket-activate -l "127.0.0.1:$PORT" -- sh -c \
		'read x < "$1"; LD_PRELOAD="$2" exec "$3" -m http.server --bind 127.0.0.1 --directory "$4" "$5"' \
		sh "$WORK/gate" "$PRELOAD" "$PY" "$WORK/www" "$PORT" \
		>"$WORK/server.out" 2>"$WORK/server.err" </dev/null &
	STARTED+=($!)
}
ready() { activator_ready "$SA_PID" 3 tcp "$PORT"; }
start_retrying 20 launch
INODE=$(sock_inode "$SA_PID" 3)

# Connect and send the request while no server exists yet.
send_first --wait 20 "http:127.0.0.1:$PORT"   # -> $WORK/first.out
exe=$(readlink "/proc/$SA_PID/exe")
[[ $exe != */python3* ]] || fail "the server had started before the request was sent"
note "request sent while pid $SA_PID is still $exe"

# Release the server.  (Opening the FIFO blocks until sh opens it: bounded.)
timeout 20 sh -c 'echo go > "$1"' sh "$WORK/gate" || fail "could not release the gate"
first_reply
((FIRST_STATUS == 0)) || fail "client failed (status $FIRST_STATUS)"
head -n1 "$WORK/first.out" | grep >/dev/null '^HTTP/1\.[01] 200' || fail "no 200 response"
grep -q "$TOKEN" "$WORK/first.out" || fail "page not in the response"
assert_adopted "$SA_PID" 3 "$INODE" tcp "$PORT"
assert_log_count 1
pass "the connection made before the server started was answered"
