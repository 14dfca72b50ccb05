#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The JVM (Debian's OpenJDK 17): a few lines of com.sun.net.httpserver, compiled
# with javac in the test's temp dir, under systemd-socket-activate.  Like
# every Java server, it makes an AF_INET6 socket, clears IPV6_V6ONLY and
# binds an IPv4 address in its v4-mapped form: [::ffff:127.0.0.1]:P for
# 127.0.0.1, [::]:P for InetSocketAddress(P).  Every request is answered with
#     TOKEN REMOTE-ADDRESS
# and logged on stdout as "req REMOTE-ADDRESS".
#   usage: bash jvm.sh SHIM shim|noshim CASE
#   CASE:
#     ipv4       -l 127.0.0.1:PORT; new InetSocketAddress("127.0.0.1", PORT)
#                binds [::ffff:127.0.0.1]:PORT; adopted exactly, addresses
#                shown to the JVM as v4-mapped IPv6
#     wildcard   -l 0.0.0.0:PORT; new InetSocketAddress(PORT) binds [::]:PORT
#                (not V6ONLY); adopted by the dual-stack rule onto the IPv4
#                wildcard, addresses shown as v4-mapped IPv6
#     dualstack  -l PORT (a dual-stack [::]:PORT socket); the same [::]:PORT
#                bind, adopted exactly; IPv4 and IPv6 clients
source "$(dirname "$0")/lib.sh"
command -v javac >/dev/null || { echo "SKIP: no javac (Debian: openjdk-17-jdk-headless)" >&2; exit 77; }
need /usr/bin/curl curl
JAVA=$(readlink -f "$(command -v java)")
JAVAC=$(command -v javac)

case $CASE in
ipv4 | wildcard | dualstack) ;;
*) fail "unknown case '$CASE'" ;;
esac
TOKEN="sdadopt-jvm-$RANDOM$RANDOM"
note "$("$JAVA" -version 2>&1 | head -n2 | tr '\n' ' ')"

mkdir -p "$WORK/java"
cat >"$WORK/java/SdaHttp.java" <<'EOF'
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public class SdaHttp {
    // SdaHttp TOKEN PORT [HOST]
    public static void main(String[] a) throws Exception {
        int port = Integer.parseInt(a[1]);
        InetSocketAddress at = a.length > 2 ? new InetSocketAddress(a[2], port) : new InetSocketAddress(port);
        HttpServer s = HttpServer.create(at, 0);
        s.createContext("/", x -> {
            String peer = x.getRemoteAddress().getAddress().getHostAddress();
            System.out.println("req " + peer);
            byte[] b = (a[0] + " " + peer + "\n").getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        s.start();
        System.out.println("started " + s.getAddress());
    }
}
EOF
"$JAVAC" -d "$WORK/java" "$WORK/java/SdaHttp.java" 2>"$WORK/javac.err" || fail "javac failed: $(cat "$WORK/javac.err")"

configure() {
	tcp_port
	case $CASE in
	ipv4)
		SA_OPTS=(-l "127.0.0.1:$PORT")
		SERVER=("$JAVA" -cp "$WORK/java" SdaHttp "$TOKEN" "$PORT" 127.0.0.1)
		;;
	wildcard)
		SA_OPTS=(-l "0.0.0.0:$PORT")
		SERVER=("$JAVA" -cp "$WORK/java" SdaHttp "$TOKEN" "$PORT")
		;;
	dualstack)
		SA_OPTS=(-l "$PORT")
		SERVER=("$JAVA" -cp "$WORK/java" SdaHttp "$TOKEN" "$PORT")
		;;
	esac
}
activate configure
# (a) the queued first request, answered once the JVM runs (without the
# shim: the negative control, and the test ends)
http_first_request "$TOKEN" "tcp:127.0.0.1:$PORT"
grep -qx "$TOKEN 127.0.0.1" <(tail -n1 "$WORK/first.out") ||
	fail "first request: expected '$TOKEN 127.0.0.1', got '$(tail -n1 "$WORK/first.out")'"
server_is "$JAVA"

case $CASE in
ipv4) want="for bind([::ffff:127.0.0.1]:$PORT) [exact, translating addresses to IPv4-mapped IPv6]" ;;
wildcard) want="for bind([::]:$PORT) [dual-stack, translating addresses to IPv4-mapped IPv6]" ;;
dualstack) want="for bind([::]:$PORT) [exact]" ;;
esac
grep -- "$ADOPT_RE" "$WORK/server.err" | grep -F >/dev/null -- "$want" ||
	fail "no adoption line ending '$want':
$(grep -- 'sdadopt' "$WORK/server.err")"

# (b) further requests, from 127.0.0.1 (and ::1 on the dual-stack socket)
get() { # N URLHOST EXPECTED_REMOTE
	timeout 30 curl -gsS --max-time 25 -o "$WORK/body$1" "http://$2:$PORT/r$1" || fail "request $1 failed"
	grep -qx "$TOKEN $3" "$WORK/body$1" || fail "request $1: expected '$TOKEN $3', got '$(cat "$WORK/body$1")'"
}
get 2 127.0.0.1 127.0.0.1
get 3 127.0.0.1 127.0.0.1
n=3
if [[ $CASE == dualstack ]] && have_ipv6_loopback; then
	get 4 '[::1]' 0:0:0:0:0:0:0:1
	n=4
fi
assert_adopted
assert_log_count 1
assert_log_prefix java
wait_for 20 "$n request log lines" test "$(grep -c '^req ' "$WORK/server.out")" -ge "$n"
note "the JVM says: $(grep -m1 '^started ' "$WORK/server.out")"
bad=$(grep '^req ' "$WORK/server.out" | grep -vx 'req 127.0.0.1' | grep -vx 'req 0:0:0:0:0:0:0:1' || true)
[[ -z $bad ]] || fail "the JVM saw other client addresses: $bad"
if grep -q 'sdadopt: warning:' "$WORK/server.err"; then
	fail "the shim warned: $(grep 'sdadopt: warning:' "$WORK/server.err")"
fi
pass "JVM $CASE: adopted the activated socket (inode $INODE), answered the queued first request and $((n - 1)) more"
