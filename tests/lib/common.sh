# SPDX-License-Identifier: MIT
# Helpers shared by the two end-to-end tiers, tests/e2e and tests/daemons
# (sourced by their lib.sh, not run).  What only one tier needs stays in
# that tier's lib.sh.
#
# The sourcing lib.sh has `set -euo pipefail` on; it sets SHIM and calls
# resolve_shim, then make_work NAME (the private temp dir and the EXIT trap).
#
# Rules kept here: every wait is a poll loop with a deadline (wait_for), never
# a bare sleep; every client call runs under `timeout`; no `grep -q` at the
# end of a pipefail pipeline (grep -q exits at the first match, the writer
# may die of SIGPIPE and the pipeline then fails: read files or here-strings).

COMMON_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3             # Debian's python, never a pyenv/venv wrapper
CLIENT=$COMMON_DIR/client.py
ADOPT_RE='sdadopt: info: adopted'

note() { printf '# %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'PASS: %s\n' "$*" >&2; }

# resolve_shim: SHIM must exist; make it an absolute path.
resolve_shim() {
	[[ -f $SHIM ]] || fail "shim not found: $SHIM"
	SHIM=$(readlink -f "$SHIM")
}

# ------------------------------------------------- work dir and cleanup

# What cleanup does; a tier's lib.sh may change these before make_work:
STOP=stop_pid                    # the function that stops one PID of STARTED
LOGS=('*.log' '*.out' '*.err')   # logs in $WORK shown when the test failed
LOG_TAIL=                        # show only their last N lines (empty: all)

# make_work NAME: a private temp dir WORK (sdadopt-NAME.XXXXXX), an empty
# STARTED (the PIDs this test started and must stop), cleanup as EXIT trap.
make_work() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdadopt-$1.XXXXXX")
	STARTED=()
	trap cleanup EXIT
}

cleanup() {
	local rc=$? p g f
	trap - EXIT
	for p in ${STARTED[@]+"${STARTED[@]}"}; do "$STOP" "$p"; done
	if ((rc != 0)); then
		for g in "${LOGS[@]}"; do
			for f in "$WORK"/$g; do
				[[ -f $f ]] || continue
				printf '\n----- %s -----\n' "${f#"$WORK"/}" >&2
				if [[ -n $LOG_TAIL ]]; then
					tail -n "$LOG_TAIL" "$f" >&2 || true
				else
					cat "$f" >&2 || true
				fi
			done
		done
	fi
	rm -rf "$WORK"
	exit "$rc"
}

# ------------------------------------------------------------ processes

# proc_state PID: the state letter in /proc/PID/stat (fails without one).
proc_state() {
	awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null
}

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	st=$(proc_state "$1") || return 1
	[[ -n $st && $st != Z && $st != X ]]
}

# forget PID: drop it from STARTED (once reaped, its PID may be reused).
forget() {
	local p keep=()
	for p in ${STARTED[@]+"${STARTED[@]}"}; do [[ $p == "$1" ]] || keep+=("$p"); done
	STARTED=(${keep[@]+"${keep[@]}"})
}

# reap PID: wait for a child we started (the caller bounds how long it may
# run); its exit status goes to REAPED.
reap() {
	REAPED=0
	wait "$1" || REAPED=$?
	forget "$1"
}

# Stop one process we started: TERM, bounded wait, then KILL; reap it.
stop_pid() {
	local pid=$1 end=$((SECONDS + 10))
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		while alive "$pid" && ((SECONDS < end)); do sleep 0.05; done
		if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
	fi
	wait "$pid" 2>/dev/null || true
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD until it succeeds, or fail.
wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs))
	until "$@"; do
		((SECONDS < end)) || fail "timed out after ${secs}s waiting for: $what"
		sleep 0.05
	done
}

# -------------------------------------------------------------- sockets

# A free-looking TCP/UDP port (IPv4 and IPv6) outside the usual ephemeral
# range.  (grep reads the tables itself: see the pipefail rule above.)
pick_port() {
	local p hex
	while :; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		printf -v hex ':%04X ' "$p"
		if ! grep -qs "$hex" /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; then
			echo "$p"
			return
		fi
	done
}

have_ipv6_loopback() {
	grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null
}

# sock_inode PID FD: inode of the socket at that fd (fails if not a socket).
sock_inode() {
	local l
	l=$(readlink "/proc/$1/fd/$2" 2>/dev/null) || return 1
	[[ $l =~ ^socket:\[([0-9]+)\]$ ]] || return 1
	echo "${BASH_REMATCH[1]}"
}

# fds_with_inode PID INODE: the fds of PID that are that socket.
fds_with_inode() {
	local f
	for f in /proc/"$1"/fd/*; do
		[[ $(readlink "$f" 2>/dev/null) == "socket:[$2]" ]] && echo "${f##*/}"
	done
	return 0
}

# net_inodes KIND WHERE: inodes the kernel lists for a bound endpoint.
#   tcp PORT   -> LISTEN sockets on PORT (IPv4 and IPv6)
#   udp PORT   -> sockets bound to PORT (IPv4 and IPv6)
#   unix PATH  -> listening unix sockets named PATH (or @abstract)
net_inodes() {
	case $1 in
	tcp | udp)
		local hex
		printf -v hex '%04X' "$2"
		awk -v port="$hex" -v kind="$1" 'FNR > 1 {
			split($2, a, ":")
			if (a[2] == port && (kind == "udp" || $4 == "0A")) print $10
		}' /proc/net/"$1" /proc/net/"$1"6 2>/dev/null
		;;
	unix)
		# Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = listening
		awk -v path="$2" 'NR > 1 && $8 == path && $4 == "00010000" { print $7 }' /proc/net/unix
		;;
	*) fail "net_inodes: bad kind $1" ;;
	esac
}

# activator_ready PID FD KIND WHERE: the activator is up: its fd FD is a
# socket and the kernel lists it bound/listening for KIND WHERE.
activator_ready() {
	local ino
	ino=$(sock_inode "$1" "$2") || return 1
	grep -qx "$ino" <<<"$(net_inodes "$3" "$4")"
}

# ------------------------------------------------------- client and log

# send_first CLIENT_ARGS...: start client.py (under `timeout 60`) in the
# background and wait until it has sent its request (its --marker file):
# the request is then in the kernel, whether or not a server reads it yet.
# Its PID (in STARTED) is FIRST_PID; its output goes to $WORK/first.out,
# its stderr to $WORK/first.err.  first_reply collects it.
send_first() {
	timeout 60 "$PY" "$CLIENT" --marker "$WORK/first.sent" "$@" \
		>"$WORK/first.out" 2>"$WORK/first.err" &
	FIRST_PID=$!
	STARTED+=("$FIRST_PID")
	wait_for 20 "the first request to be sent" test -e "$WORK/first.sent"
}

# first_reply: wait for that client (bounded by its timeout); its exit
# status goes to FIRST_STATUS, its output is $WORK/first.out.
first_reply() {
	reap "$FIRST_PID"
	FIRST_STATUS=$REAPED
}

# adoption_count: how many adoption log lines the server wrote to stderr.
adoption_count() { grep -c -- "$ADOPT_RE" "$WORK/server.err" || true; }

# assert_log_count N: the adoption line appears exactly N times.
assert_log_count() {
	local n
	n=$(adoption_count)
	[[ $n == "$1" ]] || fail "expected $1 adoption log line(s) on stderr, found $n"
}
