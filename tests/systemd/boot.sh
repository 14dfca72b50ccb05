#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The harness itself: systemd boots as PID 1 of private namespaces, runs
# journald and nothing else of the host's, sees / read-only, and leaves
# nothing behind.
source "$(dirname "$0")/lib.sh"
filemax=$(</proc/sys/fs/file-max) nropen=$(</proc/sys/fs/nr_open)
sd_boot
[[ $(sd cat /proc/1/comm) == systemd ]] || fail "PID 1 of the namespace is not systemd"
[[ $(sd systemd-detect-virt -c || true) == container-other ]] || fail "systemd-detect-virt -c: not container-other"
sd_is systemd-journald.service active || fail "journald is not active"
up=$(sdctl show -P UnitPath)
[[ $up == /run/systemd/system ]] || fail "systemd's unit path is \"$up\", not the namespace's /run/systemd/system alone"
services=$(sdctl list-units --type=service --state=active --no-legend --plain | awk '{ print $1 }')
[[ $services == systemd-journald.service ]] || fail "services other than journald are active: $services"
if sd touch /usr/.sdadopt-probe 2>/dev/null; then
	rm -f /usr/.sdadopt-probe
	fail "/ is writable from inside"
fi
sd touch /run/.probe || fail "/run is not writable inside"
[[ ! -e /run/.probe ]] || fail "the namespace's /run is the host's"
sd sh -c 'echo hello | systemd-cat -t sdadopt-probe' || fail "systemd-cat"
wait_for 20 "the probe line in the journal" eval '[[ $(sd_journal -t sdadopt-probe) == hello ]]'
cg=$SD_CG ns=$SD_NS
pids=$(sd_pids_of_ns | wc -l)
sd_teardown
[[ ! -d $cg ]] || fail "the cgroup directory $cg is still there"
SD_NS=$ns
left=$(sd_pids_of_ns)
SD_NS=
[[ -z $left ]] || fail "processes of the namespace outlived it: $left"
[[ $(</proc/sys/fs/file-max) == "$filemax" && $(</proc/sys/fs/nr_open) == "$nropen" ]] ||
	fail "fs.file-max or fs.nr_open changed on the host"
pass "systemd booted in private namespaces ($pids processes), journald ran, the host is untouched, nothing is left"
