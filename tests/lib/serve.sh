# SPDX-License-Identifier: MIT
# Servers in the background for the launcher's seccomp-mode tests
# (tests/launcher/seccomp-*.sh): under the real systemd-socket-activate, or
# on their own, and what a test asks of them.  Sourced after
# tests/operator/lib.sh (T, _bg, bad, show, finish, has, until_ok,
# port_listening, BACKSTOP).

# build_static_server: tests/launcher/static-server.c linked -static as
# $T/static-server; a failure ends the test
build_static_server() {
	"${SDA_CC:-cc}" -O1 -static -pthread -o "$T/static-server" "$SDA_SRC/tests/launcher/static-server.c" 2>"$T/cc.err" ||
		{ bad "cannot build a -static server (libc6-dev)"; show "$T/cc.err"; finish; }
}

# children PID: the children of PID
children() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+$' || true; }
# listeners PORT: how many TCP sockets listen on PORT (v4 and v6)
listeners() { ss -Hltn "sport = :$1" 2>/dev/null | wc -l; }
# stop PID: SIGTERM, and reap it
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# start_ssa ADDR ARG...: systemd-socket-activate -l ADDR ARG... in the
# background (SSA, output in $T/ssa.out and $T/ssa.err), waiting until it
# listens: on the port of ADDR ([HOST:]PORT), or on the unix path ADDR;
# 1 when it did not (the port was taken)
start_ssa() {
	local a=$1
	shift
	: >"$T/ssa.out"
	: >"$T/ssa.err"
	systemd-socket-activate -l "$a" "$@" >"$T/ssa.out" 2>"$T/ssa.err" </dev/null &
	SSA=$!
	_bg+=("$SSA")
	if [[ $a == /* ]]; then
		until_ok 60 eval '[[ -S $a ]] || ! kill -0 $SSA 2>/dev/null' || return 1
		[[ -S $a ]] && kill -0 "$SSA" 2>/dev/null
	else
		until_ok 60 eval 'port_listening "${a##*:}" || ! kill -0 $SSA 2>/dev/null' || return 1
		port_listening "${a##*:}" && kill -0 "$SSA" 2>/dev/null
	fi
}
# first_request PORT OUT: connect to 127.0.0.1:PORT (this wakes the
# activator) and read the reply
first_request() {
	timeout "$BACKSTOP" bash -c 'exec 7<>"/dev/tcp/127.0.0.1/$1" && cat <&7' x "$1" >"$2" 2>/dev/null || true
}

# start_server NAME CMD...: CMD in the background (BG, output in $T/NAME.out
# and $T/NAME.err), waiting until it says "listening fd="; 1 when it exited
# first (reaped)
start_server() {
	local out=$T/$1.out err=$T/$1.err
	shift
	: >"$out"
	"$@" >"$out" 2>"$err" </dev/null &
	BG=$!
	_bg+=("$BG")
	until_ok 60 eval 'has "$out" "listening fd=" || ! kill -0 $BG 2>/dev/null' || true
	has "$out" "listening fd=" && return 0
	wait "$BG" 2>/dev/null || true
	return 1
}
# start_native NAME SERVER [ARG...]: SERVER (tests/launcher/static-server.c)
# on its own on 127.0.0.1 and a free port (PORT) as start_server NAME starts
# it (BG); another port when that one was taken meanwhile
start_native() {
	local name=$1 srv=$2
	shift 2
	for _ in 1 2 3; do
		PORT=$(free_port)
		start_server "$name" "$srv" 127.0.0.1 "$PORT" "$@" && return 0
	done
	return 1
}
