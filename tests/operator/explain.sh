#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --explain: the program runs with SDADOPT_LOG=debug, its stderr passes
# through, and a summary of the registry and of each bind follows.
source "$(dirname "$0")/lib.sh"
TS=$SDA_TESTSERVER
S=(--shim "$SDA_SHIM")

P=$(free_port) Q=$(free_port) R=$(free_port)
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --log off --explain \
	--listen "127.0.0.1:$P" --fdname web --listen "127.0.0.1:$R" --fdname idle -- \
	"$TS" bind "tcp:127.0.0.1:$P" listen 16 bind "tcp:127.0.0.1:$Q" listen 16)
check "explain: the program's status (0) is the launcher's" test "$st" = 0
check "explain: debug lines pass through (SDADOPT_LOG=debug beats --log off)" \
	has "$T/err" "sdadopt: debug: inherited fd 3 \"web\": tcp 127.0.0.1:$P, listening"
check "explain: the program's stdout is untouched" eval 'has "$T/out" "bound fd=" && hasnt "$T/out" "explain"'
check "explain: says what will be inherited" has "$T/err" "sockets from --listen (builtin): 127.0.0.1:$P 127.0.0.1:$R"
check "explain: a summary" has "$T/err" "sdadopt: explain: summary"
check "summary: the exit status" has "$T/err" "exited with status 0"
check "summary: fd 3 adopted, by which bind" \
	grep -qE "^    fd 3 \"web\": tcp 127\.0\.0\.1:$P, listening -> adopted by bind\(127\.0\.0\.1:$P\) by sda-testserver\[[0-9]+\] \[exact\]" "$T/err"
check "summary: fd 4 never adopted" \
	grep -qE "^    fd 4 \"idle\": tcp 127\.0\.0\.1:$R, listening -> NEVER ADOPTED \(reported at exit\)" "$T/err"
check "summary: the adopting bind" \
	grep -qE "^    bind\(127\.0\.0\.1:$P\) in sda-testserver\[[0-9]+\] -> adopted inherited fd 3 \"web\" as fd [0-9]+ \[exact\]" "$T/err"
check "summary: the native bind" \
	grep -qE "^    bind\(127\.0\.0\.1:$Q\) in sda-testserver\[[0-9]+\] -> bound natively: no inherited socket serves it" "$T/err"
check "summary: no hint when nothing shares a port" hasnt "$T/err" "hint:"
(($(count "$T/err" "sdadopt: explain: summary") == 1)) && ok "one summary" || bad "one summary"
[[ $fails == 0 ]] || show "$T/err"

# a bind of an inherited port on another address: the hint
P=$(free_port)
sda "$T/out" "$T/err" "${S[@]}" --explain --listen "127.0.0.1:$P" --fdname web -- \
	"$TS" bind "tcp:0.0.0.0:$P" || true
check "hint: names the native bind and the inherited fd" \
	has "$T/err" "hint: the program bound 0.0.0.0:$P itself while inherited fd 3 serves port $P;"
check "hint: suggests --match port and --map" has "$T/err" "--match port, or --map 0.0.0.0:$P=web, makes that bind adopt fd 3"

# strict refusals and ignored fds appear in the summary
if ipv6_loopback; then
	P=$(free_port)
	sda "$T/out" "$T/err" "${S[@]}" --strict --explain --listen "[::1]:$P" -- "$TS" bind "tcp:127.0.0.1:$P" || true
	check "summary: a strict refusal" \
		grep -qE "bind\(127\.0\.0\.1:$P\) in sda-testserver\[[0-9]+\] -> failed with EADDRINUSE \(strict\)" "$T/err"
fi

# activated by the caller (ExecStart=sdadopt --explain -- server): the
# launcher forks, so the program must get LISTEN_PID = its own pid
if [[ -x ${SDA_ACTIVATE:-} ]]; then
	timeout -k 5 "$((BACKSTOP + 10))" "$SDA_ACTIVATE" --no-preload --timeout "$BACKSTOP" --name fromsystemd --listen tcp:127.0.0.1:0 -- \
		"$SDA_LAUNCHER" "${S[@]}" --explain -- "$TS" bind 'tcp:127.0.0.1:{port0}' listen 4 \
		>"$T/out" 2>"$T/err" </dev/null || true
	check "explain under an activator: says what it inherited" has "$T/err" "LISTEN_FDS=1 LISTEN_FDNAMES=fromsystemd from the activator"
	check "explain under an activator: the program (a child) adopts" has "$T/err" "adopted inherited fd 3 \"fromsystemd\""
else
	bad "SDA_ACTIVATE (tests/helpers/sda-activate) is not set or not built"
fi

# not activated: the shim says nothing, the summary says why
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --explain -- sh -c 'exit 3')
check "no activation: the program's status (3)" test "$st" = 3
check "no activation: announced before the run" has "$T/err" "no --listen and no LISTEN_FDS for this process"
check "no activation: the summary explains the silence" has "$T/err" "the shim logged nothing"

# --run-for stops a server that would run forever; killed by a signal.
# (Were --run-for ignored, sda's backstop would end the run: status 124.)
P=$(free_port)
start=$SECONDS
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --explain --run-for 1 --listen "127.0.0.1:$P" -- \
	/usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); time.sleep(3600)' "$P")
check "--run-for 1: stopped by SIGTERM (143), not by the test's backstop (124)" test "$st" = 143
check "--run-for 1: not before 1 s" test $((SECONDS - start)) -ge 1
check "--run-for: the summary says killed by signal 15" has "$T/err" "killed by signal 15 (status 143)"
check "--run-for: the adoption is in the summary" has "$T/err" "-> adopted by bind(127.0.0.1:$P) by python3["

# SIGTERM to the launcher reaches the program, the summary follows
P=$(free_port)
timeout -k 5 "$BACKSTOP" "$SDA_LAUNCHER" "${S[@]}" --explain --listen "127.0.0.1:$P" -- \
	/usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); print("listening", flush=True); time.sleep(3600)' "$P" \
	>"$T/out" 2>"$T/err" </dev/null &
l=$!
_bg+=("$l")
check "SIGTERM to the launcher: the program is up first" until_ok 60 has "$T/out" listening
kill -TERM "$l"
st=0
wait "$l" || st=$?
check "SIGTERM to the launcher: the program's status 143" test "$st" = 143
check "SIGTERM to the launcher: the summary follows" has "$T/err" "sdadopt: explain: summary"

finish
