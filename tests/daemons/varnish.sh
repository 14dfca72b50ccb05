#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's varnish (7.1) under systemd-socket-activate -l 127.0.0.1:PORT:
#     varnishd -F -a 127.0.0.1:PORT -T none -f WORK/synth.vcl -n WORK/n -s malloc,16m
# varnish sweeps its fds: the manager closes a range before it binds, and
# the cache child it forks closes every fd from 3 up to the highest it
# knows, puts /dev/null on each that was open, and asserts that the next
# ten close() fail with EBADF (mgt_child.c).  The shim's own fds (the
# registry's copy of the socket, its log) must stay out of that way.
# Mode shim:
#   - the first request, queued before varnish exists, is answered by the
#     cache child ("Child launched OK", no "Assert error");
#   - by inode: the kernel lists only the activated socket for the port, and
#     the manager and its cache child hold it;
#   - more requests are answered.
# Mode noshim: varnish's sweep closes the activated socket, which resets the
# queued first request, and it binds a socket of its own.
#   usage: bash varnish.sh SHIM shim|noshim
source "$(dirname "$0")/lib.sh"
VARNISHD=/usr/sbin/varnishd
need "$VARNISHD" varnish
need /usr/bin/curl curl
note "$("$VARNISHD" -V 2>&1 | head -1)"
# a synthetic answer: no backend needed
cat >"$WORK/synth.vcl" <<'VCL'
vcl 4.1;
backend default none;
sub vcl_recv { return (synth(200, "ok")); }
sub vcl_synth {
	set resp.http.Content-Type = "text/plain";
	set resp.body = "hello from varnish";
	return (deliver);
}
VCL

configure() {
	tcp_port
	SA_OPTS=(-l "127.0.0.1:$PORT")
	rm -rf "$WORK/n"
	SERVER=("$VARNISHD" -F -a "127.0.0.1:$PORT" -T none -f "$WORK/synth.vcl"
		-n "$WORK/n" -s malloc,16m)
}
activate configure
first_request "tcp:127.0.0.1:$PORT" 'GET / HTTP/1.0\r\nHost: t\r\n\r\n'

if [[ $MODE == noshim ]]; then
	# varnish's own sweep closes the activated socket (its only copy: the
	# activator exec'd varnish in place), which resets the queued request,
	# and binds a socket of its own
	own_listener() { net_inodes tcp "$PORT" | grep -vqx "$INODE"; }
	wait_for 60 "varnish without the shim to listen on a socket of its own" own_listener
	first_reply
	if grep -q 'hello from varnish' "$WORK/first.out"; then
		fail "the first request was answered without the shim"
	fi
	[[ -z $(fds_with_inode "$SA_PID" "$INODE") ]] || fail "varnish holds the activated socket without the shim"
	pass "$MODE: varnish closes the activated socket in its fd sweep and binds its own ([$(net_inodes tcp "$PORT" | sort -u | tr '\n' ' ')] not [$INODE]); the queued first request is lost (client status $FIRST_STATUS)"
	exit 0
fi

first_reply
((FIRST_STATUS == 0)) || fail "first request: client status $FIRST_STATUS"
grep -q 'hello from varnish' "$WORK/first.out" ||
	fail "first request: no answer from varnish: '$(head -c 300 "$WORK/first.out" | cat -v)'"
server_is "$VARNISHD"
if grep -E 'Assert error|Child failed on launch|Child .* died' "$WORK/server.err" "$WORK/server.out"; then
	fail "varnish's cache child did not start"
fi
grep -q 'Child launched OK' "$WORK/server.err" "$WORK/server.out" || fail "no 'Child launched OK'"

net=$(net_inodes tcp "$PORT" | sort -u)
[[ $net == "$INODE" ]] ||
	fail "tcp $PORT: expected exactly the activated socket [$INODE], the kernel lists: [${net//$'\n'/, }]"
mapfile -t mfds < <(fds_with_inode "$SA_PID" "$INODE")
((${#mfds[@]} >= 1)) || fail "the manager $SA_PID does not hold the activated socket [$INODE]"
held=
for p in $(children "$SA_PID"); do
	mapfile -t cfds < <(fds_with_inode "$p" "$INODE")
	((${#cfds[@]} >= 1)) && held="$p:${cfds[*]}"
done
[[ -n $held ]] || fail "no child of the manager holds the activated socket [$INODE]"
note "tcp $PORT: the kernel lists only [$INODE]; manager $SA_PID holds it at fd(s) ${mfds[*]}, the cache child at $held"
for i in 1 2 3; do
	out=$(timeout 20 curl -s "http://127.0.0.1:$PORT/$i") || fail "request $i: curl failed"
	[[ $out == 'hello from varnish' ]] || fail "request $i: got '$out'"
done
grep -q 'sdadopt: info: adopted inherited fd 3 ' "$WORK/server.err" || fail "no adoption line"
grep -q 'sdadopt: debug: moved inherited fd' "$WORK/server.err" ||
	fail "the shim never moved its fds: did varnish not sweep them?"
! grep -q 'cannot move' "$WORK/server.err" || fail "the shim could not move a fd out of the way"
pass "varnishd adopted the activated socket; its cache child swept its fds, launched, and answered the queued first request and 3 more"
