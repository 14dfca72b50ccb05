# SPDX-License-Identifier: MIT
# Shared helpers for the end-to-end tests (sourced, not run).
#
# Every test is run by ctest as:  bash TEST.sh /path/to/libsdadopt.so
# and drives the real systemd-socket-activate (systemd 252 on Debian 12).
#
# Rules kept here so each test stays short:
#   - every wait is a poll loop with a deadline (wait_for), never a bare sleep;
#   - every client command runs under `timeout`;
#   - network only on 127.0.0.1, ::1 and unix sockets in a private temp dir;
#   - TCP/UDP ports are picked at random and the start is retried when the
#     activator cannot bind them (start_retrying).
#
# Note on systemd-socket-activate without -a: it creates the sockets, waits
# for the first connection (or datagram) on any of them and then execs the
# command IN PLACE, so the server has the activator's PID.  It passes only
# TERM, PATH, USER, HOME, LISTEN_* and what -E names to the server.

set -euo pipefail

SHIM=${1:?usage: bash $0 /path/to/libsdadopt.so}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3             # Debian's python, never a pyenv/venv wrapper
SERVERS=$E2E_DIR/servers.py
CLIENT=$E2E_DIR/client.py
ADOPT_RE='sdadopt: info: adopted'

note() { printf '# %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'PASS: %s\n' "$*" >&2; }

# Missing tools: fail under CI (scripts/setup installs them), skip otherwise.
need() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			if [[ -n ${CI:-} ]]; then fail "required tool missing: $t (run scripts/setup)"; fi
			echo "SKIP: required tool missing: $t (run scripts/setup)" >&2
			exit 77
		fi
	done
}
need systemd-socket-activate timeout "$PY" mkfifo readlink awk
[[ -f $SHIM ]] || fail "shim not found: $SHIM"
SHIM=$(readlink -f "$SHIM")
# What the servers preload: the shim, after the sanitizer runtime when the
# shim was built with SDADOPT_SANITIZE (CMakeLists.txt sets the variable).
PRELOAD=$SHIM
if [[ -n ${SDADOPT_E2E_PRELOAD_FIRST:-} ]]; then
	[[ -f $SDADOPT_E2E_PRELOAD_FIRST ]] || fail "sanitizer runtime not found: $SDADOPT_E2E_PRELOAD_FIRST"
	PRELOAD=$SDADOPT_E2E_PRELOAD_FIRST:$SHIM
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdadopt-e2e.XXXXXX")
STARTED=()     # PIDs this test started (and must stop)

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

cleanup() {
	local rc=$? p f
	trap - EXIT
	for p in ${STARTED[@]+"${STARTED[@]}"}; do stop_pid "$p"; done
	if ((rc != 0)); then
		for f in "$WORK"/*.log "$WORK"/*.out "$WORK"/*.err; do
			[[ -f $f ]] || continue
			printf '\n----- %s -----\n' "${f##*/}" >&2
			cat "$f" >&2 || true
		done
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z && $st != X ]]
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

# A free-looking TCP/UDP port outside the usual ephemeral range.
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

# Once the activator is up: fd N is a socket and the kernel lists it bound/listening.
activator_ready() { # PID FD KIND WHERE
	local ino
	ino=$(sock_inode "$1" "$2") || return 1
	grep -qx "$ino" <<<"$(net_inodes "$3" "$4")"
}

# start_retrying SECS LAUNCH_FN: call LAUNCH_FN (which picks its ports, starts
# the activator in the background with `&`, and appends $! to STARTED); set
# SA_PID; wait until the activator listens (the launch function's `ready`
# check) and retry with new ports when it died with "Address already in use".
start_retrying() {
	local secs=$1 launch=$2 try end
	for try in 1 2 3 4 5 6 7 8; do
		"$launch"
		SA_PID=${STARTED[-1]}
		end=$((SECONDS + secs))
		while :; do
			if ready; then return 0; fi
			if ! alive "$SA_PID"; then
				reap "$SA_PID"
				if grep -qi 'address already in use' "$WORK"/server.err 2>/dev/null; then
					note "port busy, retrying ($try)"
					continue 2
				fi
				fail "systemd-socket-activate exited before listening"
			fi
			((SECONDS < end)) || fail "timed out after ${secs}s waiting for systemd-socket-activate to listen"
			sleep 0.05
		done
	done
	fail "could not find free ports in 8 tries"
}

# adoption_count: how many adoption log lines the server wrote to stderr.
adoption_count() { grep -c -- "$ADOPT_RE" "$WORK/server.err" || true; }

# assert_adopted PID INHFD INODE KIND WHERE [APPFD]
# ADOPTION PROVEN BY INODE: INODE is the socket systemd-socket-activate
# created and handed over as fd INHFD (3, 4, ...; recorded before the exec).
# Afterwards:
#   - the kernel lists exactly one bound/listening socket for WHERE: INODE;
#   - the server still has the inherited socket at fd INHFD (the registry's
#     copy, FD_CLOEXEC) and holds it at another fd of its own (its bind());
#   - APPFD, when the server told us its own fd number, is that socket.
assert_adopted() {
	local pid=$1 inh=$2 ino=$3 kind=$4 where=$5 appfd=${6:-} net fds own=() f flags
	net=$(net_inodes "$kind" "$where" | sort -u)
	[[ $net == "$ino" ]] || fail "$kind $where: expected exactly the inherited socket [$ino] bound/listening, kernel lists: [${net//$'\n'/, }]"
	mapfile -t fds < <(fds_with_inode "$pid" "$ino")
	for f in "${fds[@]}"; do [[ $f == "$inh" ]] || own+=("$f"); done
	((${#own[@]} >= 1)) || fail "server $pid holds socket [$ino] only at fd(s) '${fds[*]}': its own bind() did not adopt it"
	[[ " ${fds[*]} " == *" $inh "* ]] || fail "server $pid no longer holds the inherited socket [$ino] at fd $inh"
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$pid/fdinfo/$inh")
	(((8#$flags & 8#2000000) != 0)) || fail "inherited fd $inh is not FD_CLOEXEC (flags $flags)"
	if [[ -n $appfd ]]; then
		[[ $(sock_inode "$pid" "$appfd") == "$ino" ]] || fail "the server's own fd $appfd is not the inherited socket [$ino]"
	fi
	note "$kind $where: inherited fd $inh = socket:[$ino]; server's own fd(s) ${own[*]} = socket:[$ino]; kernel lists only [$ino]"
}

# assert_log_count N: the adoption line appears exactly N times.
assert_log_count() {
	local n
	n=$(adoption_count)
	[[ $n == "$1" ]] || fail "expected $1 adoption log line(s) on stderr, found $n"
}

# server_fd SPEC: the fd number servers.py last reported for the socket SPEC.
server_fd() {
	awk -v n="$1" '$1 == "BOUND" && $2 == n { sub(/^fd=/, "", $3); fd = $3 } END { print fd }' "$WORK/server.out"
}
