#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's python3 -m http.server --bind 127.0.0.1 PORT under
# systemd-socket-activate -l 127.0.0.1:PORT.
#   usage: bash python-http.sh SHIM shim|noshim
source "$(dirname "$0")/lib.sh"
need /usr/bin/curl curl

mkdir "$WORK/www"
TOKEN="sdadopt-python-$RANDOM$RANDOM"
printf '<html><body>%s</body></html>\n' "$TOKEN" >"$WORK/www/index.html"
note "$("$PY" --version 2>&1)"

configure() {
	tcp_port
	SA_OPTS=(-l "127.0.0.1:$PORT")
	SERVER=("$PY" -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$PORT")
}
activate configure
http_first_request "$TOKEN" "tcp:127.0.0.1:$PORT"
grep -q "$TOKEN" "$WORK/first.out" || fail "first request: page not served"
server_is '*/python3*'
assert_adopted
for i in 2 3; do
	timeout 30 curl -sS --max-time 25 -o "$WORK/body$i" "http://127.0.0.1:$PORT/index.html" ||
		fail "request $i failed"
	grep -q "$TOKEN" "$WORK/body$i" || fail "request $i: page not served"
done
assert_adopted
assert_log_count 1
assert_log_prefix python3
# http.server logs every request to stderr as 'CLIENT - - [date] "GET ..." 200 -'
n=$(grep -c '^127\.0\.0\.1 - - .*"GET .* 200 ' "$WORK/server.err" || true)
others=$(grep -E '^[^ ]+ - - \[' "$WORK/server.err" | grep -v '^127\.0\.0\.1 ' || true)
((n == 3)) && [[ -z $others ]] || fail "http.server logged $n requests from 127.0.0.1 (of 3); others: $others"
pass "python3 http.server adopted the activated socket and answered the queued first and two more requests"
