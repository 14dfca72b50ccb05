# SPDX-License-Identifier: MIT
# Helpers for the end-to-end tests (sourced, not run).  Those tests/daemons
# needs too are in tests/lib/common.sh, sourced below.
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
# shellcheck source=../lib/common.sh
source "$E2E_DIR/../lib/common.sh"   # PY, CLIENT, ADOPT_RE, note/fail/pass, ...
SERVERS=$E2E_DIR/servers.py

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
resolve_shim
# What the servers preload: the shim, after the sanitizer runtime when the
# shim was built with SDADOPT_SANITIZE (CMakeLists.txt sets the variable).
PRELOAD=$SHIM
if [[ -n ${SDADOPT_E2E_PRELOAD_FIRST:-} ]]; then
	[[ -f $SDADOPT_E2E_PRELOAD_FIRST ]] || fail "sanitizer runtime not found: $SDADOPT_E2E_PRELOAD_FIRST"
	PRELOAD=$SDADOPT_E2E_PRELOAD_FIRST:$SHIM
fi

make_work e2e   # WORK, STARTED; the EXIT trap stops them (stop_pid), shows the logs

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

# server_fd SPEC: the fd number servers.py last reported for the socket SPEC.
server_fd() {
	awk -v n="$1" '$1 == "BOUND" && $2 == n { sub(/^fd=/, "", $3); fd = $3 } END { print fd }' "$WORK/server.out"
}
