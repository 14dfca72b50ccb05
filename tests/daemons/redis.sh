#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's redis-server under systemd-socket-activate -l 127.0.0.1:PORT:
#   redis-server --port PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize no
# The first request (PING, QUIT) is queued before redis exists; redis-cli
# then talks to it (PING, SET, GET).
#   usage: bash redis.sh SHIM shim|noshim
source "$(dirname "$0")/lib.sh"
REDIS=/usr/bin/redis-server
CLI=/usr/bin/redis-cli
need "$REDIS" redis-server
need "$CLI" redis-tools
note "$("$REDIS" --version)"
mkdir "$WORK/data"

configure() {
	tcp_port
	SA_OPTS=(-l "127.0.0.1:$PORT")
	SERVER=("$REDIS" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no
		--daemonize no --dir "$WORK/data" --logfile '')
}
activate configure
run_first_request PONG "tcp:127.0.0.1:$PORT" 'PING\r\nQUIT\r\n'
[[ $(tr -d '\r' <"$WORK/first.out") == $'+PONG\n+OK' ]] ||
	fail "first request: expected +PONG +OK, got '$(cat -v "$WORK/first.out")'"
server_is '/usr/bin/redis-*'   # redis-server is a link to redis-check-rdb
assert_adopted
cli() { timeout 20 "$CLI" -h 127.0.0.1 -p "$PORT" "$@"; }
[[ $(cli PING) == PONG ]] || fail "redis-cli PING: no PONG"
[[ $(cli SET sdadopt "$WORK") == OK ]] || fail "redis-cli SET failed"
[[ $(cli GET sdadopt) == "$WORK" ]] || fail "redis-cli GET: wrong value"
cli CLIENT LIST | grep >/dev/null 'addr=127\.0\.0\.1:' || fail "redis does not see its client as 127.0.0.1"
assert_adopted
assert_log_count 1
assert_log_prefix redis-server
pass "redis-server adopted the activated socket and answered the queued first request and redis-cli"
