#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's nodejs: a tiny http server that calls listen(PORT) with no host,
# under systemd-socket-activate -l PORT (a bare port: the dual-stack [::]:PORT
# socket that ListenStream=PORT creates, not IPV6_V6ONLY).
#     node WORK/server.js PORT TOKEN      (http.createServer(...).listen(PORT))
# With no host, node (libuv) binds [::]:PORT without IPV6_V6ONLY: the bind
# matches the activated socket exactly.  Every request is answered with
#     TOKEN REMOTE_ADDRESS REMOTE_FAMILY
# so the body shows the client as node saw it.
# Mode shim:
#   - the first request (IPv4, 127.0.0.1), queued before node exists, is
#     answered;
#   - node reports server.address() as [::]:PORT (IPv6), as without
#     activation;
#   - by inode: node holds the activated socket at fd 3 and at its own fd,
#     the kernel lists only it for the port;
#   - IPv4 clients (127.0.0.1) and IPv6 clients (::1) are answered; node sees
#     them as it does on a [::] socket of its own: ::ffff:127.0.0.1 and ::1.
# Mode noshim: node's bind() fails (EADDRINUSE, exit 1), the first request
# is not answered.
# Needs ::1 (the IPv6 client); without it the test is skipped (exit 77).
#   usage: bash node.sh SHIM shim|noshim
source "$(dirname "$0")/lib.sh"
NODE=/usr/bin/node
need "$NODE" nodejs
need /usr/bin/curl curl
have_ipv6_loopback || {
	echo "SKIP: no ::1 on this machine"
	exit 77
}
note "node $("$NODE" --version)"
TOKEN="sdadopt-node-$RANDOM$RANDOM"

# The server: node WORK/server.js PORT TOKEN
cat >"$WORK/server.js" <<'JS'
const http = require('http');
const [port, token] = process.argv.slice(2);
const srv = http.createServer((req, res) => {
  res.end(token + ' ' + req.socket.remoteAddress + ' ' + req.socket.remoteFamily + '\n');
});
srv.listen(Number(port), () => console.log('listening ' + JSON.stringify(srv.address())));
JS

configure() {
	tcp_port
	SA_OPTS=(-l "$PORT")
	SERVER=("$NODE" "$WORK/server.js" "$PORT" "$TOKEN")
}
activate configure
sa=$(ss -tlnHe "sport = :$PORT")
[[ $sa == *" v6only:0 "* ]] || fail "the activated socket is not dual-stack: $sa"
note "activated socket: $(awk '{ print $4 }' <<<"$sa") (v6only:0: dual-stack)"
http_first_request "$TOKEN" "tcp:127.0.0.1:$PORT"
last=$(tail -n1 "$WORK/first.out")
[[ $last == "$TOKEN ::ffff:127.0.0.1 IPv6" ]] ||
	fail "first request: expected '$TOKEN ::ffff:127.0.0.1 IPv6', got '$last'"
server_is "$NODE*"   # /usr/bin/node may be a link to nodejs
wait_for 20 "node to report its address" grep -q '^listening ' "$WORK/server.out"
addr=$(grep -m1 '^listening ' "$WORK/server.out")
[[ $addr == "listening {\"address\":\"::\",\"family\":\"IPv6\",\"port\":$PORT}" ]] ||
	fail "node reports '$addr', not [::]:$PORT"
note "node says: $addr"
grep -- "$ADOPT_RE" "$WORK/server.err" | grep -F >/dev/null "for bind([::]:$PORT) [exact]" ||
	fail "the [::]:$PORT bind was not adopted exactly"
assert_adopted

get() { # N HOST EXPECTED_REMOTE
	timeout 30 curl -gsS --max-time 25 -o "$WORK/body$1" "http://$2:$PORT/r$1" || fail "request $1 to $2 failed"
	[[ $(cat "$WORK/body$1") == "$TOKEN $3" ]] ||
		fail "request $1 to $2: expected '$TOKEN $3', got '$(cat "$WORK/body$1")'"
}
get 2 127.0.0.1 '::ffff:127.0.0.1 IPv6'
get 3 '[::1]' '::1 IPv6'
get 4 127.0.0.1 '::ffff:127.0.0.1 IPv6'
get 5 '[::1]' '::1 IPv6'
note "IPv4 client seen as ::ffff:127.0.0.1, IPv6 client as ::1"
assert_adopted
assert_log_count 1
assert_log_prefix node
pass "node: listen($PORT) adopted the dual-stack activated socket (inode $INODE); the queued first request and IPv4 and IPv6 clients answered"
