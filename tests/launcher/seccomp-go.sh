#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# seccomp mode with a Go net/http server built with CGO_ENABLED=0 (static,
# raw system calls: LD_PRELOAD cannot reach it).  It calls
# http.ListenAndServe(":P"), a dual-stack [::]:P socket, what
# `systemd-socket-activate -l P` makes.  Under the real activator with the
# launcher as the activated process:
#   a. the first request, sent while the activator still waits (before the
#      program started), is answered;
#   b. the program's listening socket is the activated one (inode), and the
#      kernel lists one listening socket on the port;
#   c. negative control: without the launcher (the shim in LD_PRELOAD) the
#      first request gets no answer and the server's listen fails.
#   d. an outbound connection the Go server makes while serving (net.Dial
#      to a local listener of the test's) works.
# And SIGTERM forwarding: the launcher exits with the program's status.
source "$SDA_SRC/tests/operator/lib.sh"
source "$SDA_SRC/tests/lib/serve.sh"
need systemd-socket-activate ss curl go
L=$SDA_LAUNCHER
cp "$SDA_SRC/tests/launcher/go-server.go" "$T/main.go"
st=0
# (a backstop only: a build is cut off when it stops making progress)
(cd "$T" && HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath GOFLAGS= GO111MODULE=off CGO_ENABLED=0 \
	timeout 1200 go build -o "$T/go-server" main.go) >"$T/go.log" 2>&1 || st=$?
check "go build (CGO_ENABLED=0)" test "$st" = 0
((st == 0)) || { show "$T/go.log"; finish; }
check "the Go server is statically linked" eval '! ldd "$T/go-server" >/dev/null 2>&1 || ldd "$T/go-server" 2>&1 | grep -q "not a dynamic"'

# has_socket PID INO: one of PID's fds is socket INO
has_socket() {
	local f
	for f in /proc/"$1"/fd/*; do
		[[ $(readlink "$f" 2>/dev/null) == "socket:[$2]" ]] && return 0
	done
	return 1
}
# ---- a, b ------------------------------------------------------------------
for _ in 1 2 3; do
	P=$(free_port)
	start_ssa "$P" -- "$L" -- "$T/go-server" "$P" && break
	stop "$SSA"
done
ssa_ino=$(inode_of_fd "$SSA" 3)
check "the activator holds [::]:$P as fd 3" test -n "$ssa_ino"
check "nothing has started: the activator waits" test ! -s "$T/ssa.out"
# the first request wakes the activator: it is sent before the program runs
body=$(curl -s --max-time "$BACKSTOP" "http://127.0.0.1:$P/") || true
check "a. the first request (sent before the program ran) is answered" grep -q '^hello from go-server pid=' <<<"$body"
srv=$(children "$SSA" | head -n1)
check "the launcher stays the parent: the Go server is its child" test -n "$srv"
check "b. the Go server holds the activated socket (inode $ssa_ino)" has_socket "$srv" "$ssa_ino"
check "b. the kernel lists one listening socket on $P" test "$(listeners "$P")" = 1
check "b. the launcher says it adopted fd 3 for bind([::]:$P) [exact]" \
	grep -qE "adopted inherited fd 3 \"unknown\" \(tcp \[::\]:$P\) as fd [0-9]+ for bind\(\[::\]:$P\) \[exact\]" "$T/ssa.err"
check "Go's start-up probes of port 0 were left alone (no error)" hasnt "$T/ssa.err" "error"
if ipv6_loopback; then
	body=$(curl -s --max-time "$BACKSTOP" "http://[::1]:$P/") || true
	check "IPv6 too, through the same dual-stack socket" grep -q '^hello from go-server' <<<"$body"
fi
# d. outbound, to the test's own listener (tests/launcher/static-server.c,
# natively: it greets each connection with one line)
"${SDA_CC:-cc}" -O1 -pthread -o "$T/peer" "$SDA_SRC/tests/launcher/static-server.c"
start_native peer "$T/peer" || true
Q=$PORT PEER=$BG
peer_ino=$(sed -n 's/^listening fd=[0-9]* ino=\([0-9]*\) .*/\1/p' "$T/peer.out")
body=$(curl -s --max-time "$BACKSTOP" "http://127.0.0.1:$P/outbound/$Q") || true
check "d. outbound while serving: net.Dial to 127.0.0.1:$Q reaches the test's listener" \
	grep -q "^outbound got=hello from static-server ino=$peer_ino " <<<"$body"
stop "$PEER"
check "d. ... and the listener was adopted once only" \
	test "$(grep -c 'adopted inherited fd 3' "$T/ssa.err")" = 1
((fails == 0)) || { show "$T/ssa.err" "$T/ssa.out"; echo "# body: $body"; }
# SIGTERM to the launcher (the activated process) reaches the Go server
kill -TERM "$SSA"
st=0
wait "$SSA" || st=$?
check "SIGTERM forwarded: the launcher exits with the Go server's status (143)" test "$st" = 143
check "... and the Go server is gone" eval '! kill -0 "$srv" 2>/dev/null'

# ---- c. negative control -----------------------------------------------------
for _ in 1 2 3; do
	P=$(free_port)
	start_ssa "$P" -E "LD_PRELOAD=$SDA_SHIM" -- "$T/go-server" "$P" && break
	stop "$SSA"
done
body=$(curl -s --max-time "$BACKSTOP" "http://127.0.0.1:$P/") || true
check "c. without the launcher the first request gets no answer" test -z "$body"
until_ok 60 eval '! kill -0 $SSA 2>/dev/null' || true
check "c. ... the Go server's own listen failed: address already in use" has "$T/ssa.err" "address already in use"
stop "$SSA"

# ---- --explain names the mode and the reason ----------------------------------
for _ in 1 2 3; do
	P=$(free_port)
	st=0
	timeout -k 5 "$BACKSTOP" "$L" --explain --run-for 2 --listen "$P" -- "$T/go-server" "$P" \
		>"$T/out" 2>"$T/err" </dev/null || st=$?
	((st == 71)) || break
done
check "--explain: a statically linked Go program (build info): seccomp mode" \
	grep -qE "explain: mode: $T/go-server is a statically linked Go program \(its (\.go\.buildinfo section|Go build-id note)\): seccomp mode" "$T/err"
check "--explain: adopted by Go's bind([::]:$P)" grep -qE "adopted by bind\(\[::\]:$P\) by go-server\[[0-9]+\] \[exact\]" "$T/err"
((fails == 0)) || show "$T/err"

finish
