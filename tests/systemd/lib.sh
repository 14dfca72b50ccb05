# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The systemd tier: boot the real systemd as PID 1 in private pid, mount,
# net, uts, ipc and cgroup namespaces (ns-init.sh), drive it with nsenter,
# tear it down.  The host is left as it was: a read-only view of /, private
# /run, /tmp and /dev, journald inside, no host service started, nothing
# running afterwards.  Sourced by the tier's scripts, run by ctest as
#   bash SCRIPT SHIM [ARG...]
# Every wait is a bounded poll (wait_for), every call into the namespace
# runs under `timeout`.  Exit 77 (skipped) only when the kernel refuses the
# namespaces.
set -euo pipefail
export LC_ALL=C
SD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SD_DIR/../lib/common.sh"

SHIM=${1:?usage: SCRIPT SHIM [ARG...]}
shift
resolve_shim
ARGS=("$@")

# the namespaces, probed once: refused -> skipped, with one line
if ! sd_probe_err=$(unshare --pid --fork --mount --net --uts --ipc --cgroup true 2>&1); then
	echo "SKIP: the kernel refuses new pid/mount/net/uts/ipc/cgroup namespaces here: ${sd_probe_err:-unshare failed}"
	exit 77
fi
for t in /lib/systemd/systemd unshare nsenter setpriv findmnt "$PY" journalctl systemctl; do
	command -v "$t" >/dev/null || fail "$t is missing (bash scripts/setup installs it)"
done

SD_PID=                 # host pid of the namespace's PID 1 (systemd)
SD_SUP=                 # the console supervisor (our child)
SD_CG=                  # the cgroup2 directory the namespace is rooted at
SD_NS=                  # its pid namespace (pid:[INODE]): never signal a reused pid
SD_BOOTED=0

# cgroup2 on the host: the unified tree of a mixed layout, or /sys/fs/cgroup
sd_cgroup_base() {
	local d
	for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[[ $(stat -f -c %T "$d" 2>/dev/null) == cgroup2fs ]] && { echo "$d"; return; }
	done
	fail "no cgroup2 mount on this host (/sys/fs/cgroup/unified or /sys/fs/cgroup)"
}

# sd_unit FILE...: units to install before boot (copied as they are)
mkdir_units() { mkdir -p "$WORK/units"; }
sd_unit() {
	mkdir_units
	cp "$@" "$WORK/units/"
}
# sd_unit_text NAME: the unit NAME from stdin
sd_unit_text() {
	mkdir_units
	cat >"$WORK/units/$1"
}

sd_children() { cat "/proc/$1/task/$1/children" 2>/dev/null || true; }

# sd_boot: boot, wait until `systemctl is-system-running` says running
sd_boot() {
	local base unshare_pid t0=$SECONDS
	base=$(sd_cgroup_base)
	SD_CG=$(mktemp -d "$base/sdadopt-test.XXXXXX")
	mkdir_units
	SD_WORK=$WORK SD_CGROUP=$SD_CG "$PY" "$SD_DIR/console.py" "$WORK/console.log" "$WORK/unshare.pid" \
		unshare --kill-child=SIGKILL --pid --fork --mount --mount-proc --net --uts --ipc \
		--propagation private bash "$SD_DIR/ns-init.sh" stage1 &
	SD_SUP=$!
	wait_for 20 "the namespace's unshare to start" test -s "$WORK/unshare.pid"
	unshare_pid=$(<"$WORK/unshare.pid")
	wait_for 20 "PID 1 of the namespace" eval '[[ -n $(sd_children "$unshare_pid") ]]'
	SD_PID=$(sd_children "$unshare_pid")
	SD_PID=${SD_PID%% *}
	SD_NS=$(readlink "/proc/$SD_PID/ns/pid")
	wait_for 30 "systemd to be PID 1" eval '[[ $(readlink "/proc/$SD_PID/exe" 2>/dev/null) == */systemd ]]'
	wait_for 30 "systemd's private bus" test -S "/proc/$SD_PID/root/run/systemd/private"
	wait_for 60 "is-system-running = running" sd_running
	SD_BOOTED=1
	note "systemd booted as PID 1 (host pid $SD_PID) in $((SECONDS - t0))s"
}

sd_running() {
	local st
	st=$(timeout 10 nsenter -t "$SD_PID" -a systemctl is-system-running 2>/dev/null) || true
	[[ $st == running ]] || { [[ $st == degraded ]] && fail "the namespace's systemd is degraded: $(sdctl --failed --no-legend 2>&1)"; false; }
}

# sd CMD...: run CMD in all the namespaces (bounded)
sd() { timeout 30 nsenter -t "$SD_PID" -a "$@"; }
sdctl() { sd systemctl --no-pager "$@"; }
# sdnet CMD...: run CMD in the network namespace only (a client)
sdnet() { timeout 60 nsenter -t "$SD_PID" -n "$@"; }
# sd_root: the namespace's root directory, seen from the host
sd_root() { echo "/proc/$SD_PID/root"; }

# sd_journal ARGS...: journalctl inside (the journal is flushed first)
sd_journal() {
	sd journalctl --sync >/dev/null 2>&1 || true
	sd journalctl --no-pager -q -o cat "$@"
}

# sd_prop UNIT PROPERTY: one property's value
sd_prop() { sdctl show -P "$2" "$1"; }

# sd_main_pid UNIT: the service's main pid, in the namespace's numbering
sd_main_pid() { sd_prop "$1" MainPID; }
# sd_host_pid NSPID: the host pid of a namespace pid (for /proc/PID/fd)
sd_host_pid() {
	local p
	for p in $(sd_pids_of_ns); do
		[[ $(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null) == "$1" ]] && { echo "$p"; return 0; }
	done
	return 1
}
# every host pid in the namespace's pid namespace
sd_pids_of_ns() {
	local p
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/ns/pid" 2>/dev/null) == "$SD_NS" ]] && echo "${p#/proc/}"
	done
	return 0
}

# sd_active UNIT: ActiveState is active
sd_state() { sd_prop "$1" ActiveState 2>/dev/null || echo unknown; }
sd_is() { [[ $(sd_state "$1") == "$2" ]]; }

# sd_listen_inodes KIND WHERE: like net_inodes, inside the namespace
sd_listen_inodes() {
	case $1 in
	tcp)
		# tcp PORT: every listener on PORT; tcp PORT HEXADDR...: only those
		# on these addresses, as /proc/net/tcp{,6} spells them (0100007F)
		local hex
		printf -v hex '%04X' "$2"
		awk -v port="$hex" -v addrs="${*:3}" 'BEGIN { n = split(addrs, w, " "); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
			FNR > 1 { split($2, a, ":"); if (a[2] == port && $4 == "0A" && (n == 0 || a[1] in ok)) print $10 }' \
			"/proc/$SD_PID/net/tcp" "/proc/$SD_PID/net/tcp6"
		;;
	unix)
		awk -v path="$2" 'NR > 1 && $8 == path && $4 == "00010000" { print $7 }' "/proc/$SD_PID/net/unix"
		;;
	*) fail "sd_listen_inodes: bad kind $1" ;;
	esac
}

# sd_fd_inodes HOSTPID: the socket inodes PID holds
sd_fd_inodes() {
	local f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		[[ $l =~ ^socket:\[([0-9]+)\]$ ]] && echo "${BASH_REMATCH[1]}"
	done
	return 0
}

# sd_teardown: SIGKILL to PID 1 ends the pid namespace; reap; remove the
# cgroup directories depth first.  Idempotent; bounded.
sd_teardown() {
	local end
	if [[ -n $SD_PID && -n $SD_SUP ]]; then
		if ((SD_BOOTED)) && [[ -d $WORK ]]; then
			sd journalctl --no-pager -o short-monotonic >"$WORK/journal.log" 2>&1 || true
		fi
		[[ $(readlink "/proc/$SD_PID/ns/pid" 2>/dev/null) == "$SD_NS" ]] && { kill -KILL "$SD_PID" 2>/dev/null || true; }
	fi
	if [[ -n $SD_SUP ]]; then
		end=$((SECONDS + 20))
		while alive "$SD_SUP" && ((SECONDS < end)); do sleep 0.05; done
		if alive "$SD_SUP"; then
			note "the console supervisor outlived the namespace: killing it"
			[[ -s $WORK/unshare.pid ]] && kill -KILL "$(<"$WORK/unshare.pid")" 2>/dev/null || true
			kill -KILL "$SD_SUP" 2>/dev/null || true
		fi
		wait "$SD_SUP" 2>/dev/null || true
	fi
	if [[ -n $SD_CG && -d $SD_CG ]]; then
		end=$((SECONDS + 20))
		until find "$SD_CG" -depth -type d -exec rmdir {} + 2>/dev/null; [[ ! -d $SD_CG ]]; do
			((SECONDS < end)) || { note "cannot remove $SD_CG: $(cat "$SD_CG/cgroup.procs" 2>&1 | head -3)"; break; }
			sleep 0.05
		done
	fi
	SD_PID='' SD_SUP='' SD_CG='' SD_BOOTED=0
}

LOGS=('console.log' 'journal.log' '*.out' '*.err')
LOG_TAIL=80
make_work systemd
trap 'sd_rc_=$?; set +e; sd_teardown; (exit "$sd_rc_"); cleanup' EXIT
# The namespace gets a private /tmp and /var/tmp, and the example units
# PrivateTmp=: a build tree there (a clone under /tmp) is not seen by the
# services.  So the units preload a copy of the shim that ns-init.sh puts in
# the namespace's own /run (SD_SHIM_COPY).
cp "$SHIM" "$WORK/libsdadopt.so"
SHIM=/run/sdadopt-test/libsdadopt.so
# and a client run inside its mount namespace (nsenter -a, for unix
# sockets on its /run) finds its copy in the work dir, which stays visible
cp "$CLIENT" "$WORK/client.py"
CLIENT=$WORK/client.py
