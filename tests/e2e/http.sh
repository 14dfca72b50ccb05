#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# python3 -m http.server under systemd-socket-activate with the shim:
# the first GET (which is what makes the activator exec the server) and a
# second one are answered, the server's own listening fd is the inherited
# socket (same inode as fd 3), the kernel lists no second listener on the
# port, and the shim logs the adoption exactly once.
#   usage: bash http.sh SHIM [ipv4|ipv6] [sh|env]
# With a third argument the activator runs a wrapper with the shim preloaded
# (`sh -c 'exec python3 ...'` or `env python3 ...`), which execs the server
# in place: the shim in the wrapper adopts nothing and hands the sockets on.
source "$(dirname "$0")/lib.sh"
need curl

FAMILY=${2:-ipv4}
WRAPPER=()
case ${3:-} in
"") ;;
sh) WRAPPER=(sh -c 'exec "$0" "$@"') ;;
env) WRAPPER=(env) ;;
*) fail "bad wrapper $3" ;;
esac
case $FAMILY in
ipv4) HOST=127.0.0.1 URLHOST=127.0.0.1 ;;
ipv6)
	have_ipv6_loopback || {
		echo "SKIP: no ::1 on this machine" >&2
		exit 77
	}
	HOST=::1 URLHOST='[::1]'
	;;
*) fail "bad family $FAMILY" ;;
esac

mkdir "$WORK/www"
TOKEN="sdadopt-e2e-$RANDOM$RANDOM"
printf '<html><body>%s</body></html>\n' "$TOKEN" >"$WORK/www/index.html"

launch() {
	PORT=$(pick_port)
	systemd-socket-activate -l "$URLHOST:$PORT" -E LD_PRELOAD="$PRELOAD" -- \
		${WRAPPER[@]+"${WRAPPER[@]}"} "$PY" -m http.server --bind "$HOST" --directory "$WORK/www" "$PORT" \
		>"$WORK/server.out" 2>"$WORK/server.err" </dev/null &
	STARTED+=($!)
}
ready() { activator_ready "$SA_PID" 3 tcp "$PORT"; }
start_retrying 20 launch
INODE=$(sock_inode "$SA_PID" 3)
note "systemd-socket-activate (pid $SA_PID) listens on $URLHOST:$PORT as fd 3 = socket:[$INODE]"

# The first GET wakes the activator, which execs the server in place.
timeout 30 curl -gsS --max-time 25 -o "$WORK/body1" "http://$URLHOST:$PORT/" ||
	fail "first GET failed (curl status $?)"
grep -q "$TOKEN" "$WORK/body1" || fail "first GET: page not served"
[[ $(readlink "/proc/$SA_PID/exe") == */python3* ]] || fail "pid $SA_PID is not the python server"
assert_adopted "$SA_PID" 3 "$INODE" tcp "$PORT"

timeout 30 curl -gsS --max-time 25 -o "$WORK/body2" "http://$URLHOST:$PORT/index.html" ||
	fail "second GET failed (curl status $?)"
grep -q "$TOKEN" "$WORK/body2" || fail "second GET: page not served"
assert_adopted "$SA_PID" 3 "$INODE" tcp "$PORT"
assert_log_count 1
grep -- "$ADOPT_RE" "$WORK/server.err" | grep -F >/dev/null "$URLHOST:$PORT" ||
	fail "the adoption line does not name $URLHOST:$PORT"
pass "http.server ($FAMILY${3:+, through $3}) adopted the activated socket and served two GETs"
