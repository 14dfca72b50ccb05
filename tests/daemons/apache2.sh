#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's apache2 (mpm_event, 2 worker processes) under
# systemd-socket-activate -l 127.0.0.1:PORT, with a config in the test's temp
# dir (Listen 127.0.0.1:PORT, ErrorLog to stderr, an access log with the
# client address, User/Group www-data):
#     apache2 -DFOREGROUND -f WORK/apache/httpd.conf
# Mode shim:
#   - the first request, queued before apache exists, is answered;
#   - by inode: the parent and both workers hold the activated socket, the
#     kernel lists only it for the port;
#   - two graceful restarts, SIGUSR1 and `apache2 -k graceful` (which sends
#     SIGUSR1 through the PidFile), while a client loop keeps making requests
#     (one connection each, paced, bounded in count and time): each restart
#     brings a new generation of workers on the SAME socket (same inode,
#     still one adoption: apache reuses its listener across restarts), and
#     not one of the loop's requests is refused, reset or unanswered;
#   - the access log shows every client as 127.0.0.1.
# Mode noshim: apache's bind() fails (AH00072, EADDRINUSE), it exits 1 and
# the first request is not answered.
#   usage: bash apache2.sh SHIM shim|noshim
source "$(dirname "$0")/lib.sh"
APACHE=/usr/sbin/apache2
MODS=/usr/lib/apache2/modules
need "$APACHE" apache2-bin
need /usr/bin/curl curl
[[ -f $MODS/mod_mpm_event.so && -f $MODS/mod_authz_core.so ]] || {
	echo "SKIP: $MODS/mod_mpm_event.so is missing: install the Debian package 'apache2-bin' (scripts/setup does)"
	exit 77
}
id www-data >/dev/null 2>&1 || fail "no user www-data"
note "$("$APACHE" -v | head -n1)"

AW=$WORK/apache
mkdir -p "$AW/run" "$AW/logs" "$AW/www"
TOKEN="sdadopt-apache-$RANDOM$RANDOM"
echo "$TOKEN" >"$AW/www/t.txt"
WORKERS=2

write_conf() {
	cat >"$AW/httpd.conf" <<-EOF
		ServerRoot $AW
		LoadModule mpm_event_module $MODS/mod_mpm_event.so
		LoadModule authz_core_module $MODS/mod_authz_core.so
		ServerName 127.0.0.1
		Listen 127.0.0.1:$PORT
		PidFile $AW/run/apache2.pid
		DefaultRuntimeDir $AW/run
		ErrorLog /proc/self/fd/2
		LogLevel info
		LogFormat "%a %>s %U" short
		CustomLog $AW/logs/access.log short
		User www-data
		Group www-data
		StartServers $WORKERS
		ServerLimit 4
		ThreadsPerChild 4
		MinSpareThreads 4
		MaxSpareThreads 16
		MaxRequestWorkers 16
		KeepAlive Off
		DocumentRoot $AW/www
		<Directory $AW/www>
		    Require all granted
		</Directory>
	EOF
}
APACHE_CMD=("$APACHE" -DFOREGROUND -f "$AW/httpd.conf")

configure() {
	tcp_port
	SA_OPTS=(-l "127.0.0.1:$PORT")
	write_conf
	SERVER=("${APACHE_CMD[@]}")
}
activate configure
http_first_request "$TOKEN" "tcp:127.0.0.1:$PORT" /t.txt
grep -qx "$TOKEN" <(tr -d '\r' <"$WORK/first.out") || fail "first request: not apache's answer"
server_is "$APACHE"

get() { # N
	timeout 30 curl -sS --max-time 25 -o "$WORK/body$1" "http://127.0.0.1:$PORT/t.txt" || fail "request $1 failed"
	grep -qx "$TOKEN" "$WORK/body$1" || fail "request $1: expected '$TOKEN', got '$(cat "$WORK/body$1")'"
}
# (each of these is re-evaluated at every poll of wait_for)
has_workers() { (($(children "$SA_PID" | wc -l) == WORKERS)); }
logged_restarts() { (($(grep -c 'AH00493: SIGUSR1 received' "$WORK/server.err" || true) >= $1)); }
access_lines() { (($(wc -l <"$AW/logs/access.log") >= $1)); }
wait_for 20 "$WORKERS workers" has_workers
get 2
get 3
assert_adopted "$WORKERS"
assert_log_count 1

# new_generation OLD...: exactly WORKERS children, none of them an old one.
new_generation() {
	local k
	mapfile -t kids < <(children "$SA_PID")
	((${#kids[@]} == WORKERS)) || return 1
	for k in "${kids[@]}"; do [[ " $* " != *" $k "* ]] || return 1; done
}

# The client loop: one connection per request, paced (5 ms), at most 4000
# requests and 25 s, until $WORK/loop.stop appears.  Every request must get
# a 200 with the token; a refused/reset connection, a timeout or a wrong
# answer is counted as bad.  It writes "OK BAD" to $WORK/loop.count after
# every request and its errors to $WORK/loop.err.
"$PY" - "$PORT" "$TOKEN" "$WORK/loop.stop" "$WORK/loop.count" >"$WORK/loop.out" 2>"$WORK/loop.err" <<-'EOF' &
	import os, socket, sys, time
	port, token, stop, countf = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], sys.argv[4]
	req = b"GET /t.txt HTTP/1.0\r\nHost: sdadopt\r\n\r\n"
	ok = bad = 0
	end = time.monotonic() + 25
	while ok + bad < 4000 and time.monotonic() < end and not os.path.exists(stop):
	    try:
	        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
	            s.sendall(req)
	            data = b""
	            while True:
	                b = s.recv(65536)
	                if not b:
	                    break
	                data += b
	        if data.startswith(b"HTTP/1.1 200 ") and data.rstrip().endswith(token):
	            ok += 1
	        else:
	            bad += 1
	            print("bad answer:", data[:120], file=sys.stderr)
	    except OSError as e:
	        bad += 1
	        print("request failed:", repr(e), file=sys.stderr)
	    with open(countf + ".new", "w") as f:
	        f.write("%d %d\n" % (ok, bad))
	    os.replace(countf + ".new", countf)
	    time.sleep(0.005)
	print(ok, bad, "stopped" if os.path.exists(stop) else "limit")
EOF
LOOP_PID=$!
STARTED+=("$LOOP_PID")
loop_ok() { awk '{ print $1 }' "$WORK/loop.count" 2>/dev/null || echo 0; }
# loop_past N: the loop has answered N more requests than now.
loop_past() { local base=$(($(loop_ok) + $1)); wait_for 20 "the client loop to make $1 more requests" loop_at_least "$base"; }
loop_at_least() { (($(loop_ok) >= $1)); }
loop_past 20

restarts=0
# graceful HOW: one graceful restart while the loop runs.
graceful() {
	local old before after
	mapfile -t old < <(children "$SA_PID")
	before=$(loop_ok)
	case $1 in
	SIGUSR1) kill -USR1 "$SA_PID" ;;
	-k) timeout 30 "$APACHE" -k graceful -f "$AW/httpd.conf" >>"$WORK/signal.err" 2>&1 || fail "apache2 -k graceful failed" ;;
	esac
	restarts=$((restarts + 1))
	wait_for 20 "apache to log restart $restarts" logged_restarts "$restarts"
	wait_for 30 "a new generation of $WORKERS workers after $1" new_generation "${old[@]}"
	after=$(loop_ok)
	loop_past 20
	assert_adopted "$WORKERS"
	assert_log_count 1
	note "graceful restart $restarts ($1): workers ${old[*]} -> ${kids[*]}; socket:[$INODE] throughout; the loop got $((after - before)) answers while the restart ran"
}
graceful SIGUSR1
graceful -k
touch "$WORK/loop.stop"
wait_for 30 "the client loop to finish" dead "$LOOP_PID"
reap "$LOOP_PID"
((REAPED == 0)) || fail "the client loop failed (status $REAPED): $(cat "$WORK/loop.err")"
read -r ok bad why <"$WORK/loop.out"
[[ $why == stopped ]] || fail "the client loop hit its limit before the restarts were done ($ok ok, $bad bad)"
((bad == 0)) || fail "$bad of $((ok + bad)) requests during the graceful restarts failed:
$(head -n 5 "$WORK/loop.err")"
note "client loop: $ok requests, all answered, none refused, across $restarts graceful restarts"
get 4

# The access log: every request a 200 from 127.0.0.1 (apache writes it as
# each request ends; the loop's are all done).
n=$((ok + 4))
wait_for 20 "$n access log lines" access_lines "$n"
bad=$(awk '$1 != "127.0.0.1" || $2 != 200' "$AW/logs/access.log")
[[ -z $bad ]] || fail "access log: a request not from 127.0.0.1 or not 200:
$(head -n 5 <<<"$bad")"
note "access log: $(wc -l <"$AW/logs/access.log") lines, all '127.0.0.1 200'"
assert_log_prefix apache2
pass "apache2: adopted the activated socket (inode $INODE), answered the queued first request; 2 graceful restarts on the same socket, $ok loop requests, none refused"
