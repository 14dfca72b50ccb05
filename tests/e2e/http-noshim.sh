#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Negative control for http.sh: the same run WITHOUT the shim.  The server's
# own bind() collides with the activated socket (EADDRINUSE) and it exits;
# were it to run anyway, its listening socket must not be the inherited one.
# This shows that http.sh's inode checks cannot pass without adoption.
source "$(dirname "$0")/lib.sh"
need curl

mkdir "$WORK/www"
echo hello >"$WORK/www/index.html"

launch() {
	PORT=$(pick_port)
	systemd-socket-activate -l "127.0.0.1:$PORT" -- \
		"$PY" -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$PORT" \
		>"$WORK/server.out" 2>"$WORK/server.err" </dev/null &
	STARTED+=($!)
}
ready() { activator_ready "$SA_PID" 3 tcp "$PORT"; }
start_retrying 20 launch
INODE=$(sock_inode "$SA_PID" 3)

# Wake the activator.  Nothing answers through the activated socket: curl
# gets no response (the connection is dropped when the server dies).
if timeout 70 curl -sS --max-time 60 -o "$WORK/body" "http://127.0.0.1:$PORT/" 2>"$WORK/curl.err"; then
	fail "GET was answered without the shim"
fi

# Then the server either exits or runs on a socket of its own: wait for one
# of the two (not for "a while").
settled() { ! alive "$SA_PID" || net_inodes tcp "$PORT" | grep -vqx "$INODE"; }
wait_for 60 "the server without the shim to exit or bind its own socket" settled
if alive "$SA_PID"; then
	mapfile -t own < <(fds_with_inode "$SA_PID" "$INODE" | grep -vx 3)
	((${#own[@]} == 0)) || fail "without the shim the server holds the inherited socket at fd ${own[*]}"
	pass "without the shim the server runs on a different socket than the inherited [$INODE]"
else
	reap "$SA_PID"
	((REAPED != 0)) || fail "server exited with status 0 without the shim"
	grep -q 'Address already in use' "$WORK/server.err" ||
		fail "server died (status $REAPED) but not with EADDRINUSE"
	pass "without the shim the server fails with EADDRINUSE (status $REAPED)"
fi
(($(adoption_count) == 0)) || fail "adoption line without the shim?"
