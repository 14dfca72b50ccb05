#!/bin/bash
# SPDX-License-Identifier: MIT
# The init of the systemd tier's namespaces, run by lib.sh (sd_boot) as
#   unshare --kill-child=SIGKILL --pid --fork --mount --mount-proc --net
#           --uts --ipc --propagation private bash ns-init.sh stage1
# so it starts as PID 1 of a new pid namespace.  stage1 moves itself into a
# new cgroup2 directory (SD_CGROUP, made by lib.sh) and re-execs under
# `unshare --cgroup`, so that the cgroup namespace is rooted there.  stage2
# builds the view systemd gets (read-only /, private /run, /tmp, /dev,
# /proc/sys read-only, a fresh sysfs and cgroup2, the pty SD_CONSOLE_FD as
# /dev/console, only SD_WORK writable), writes the private default target,
# journald's settings and the only units systemd may load (its unit path is
# /run/systemd/system alone), copies the units of SD_WORK/units there, drops the capabilities PID 1 would use host-wide,
# and execs systemd.  Any failure ends PID 1, and with it the namespace.
set -euo pipefail

stage1() {
	echo 0 >"$SD_CGROUP/cgroup.procs"
	exec unshare --cgroup bash "$0" stage2
}

ro_remount_all() {
	local t
	mount --bind "$SD_WORK" "$SD_WORK"
	# every mount but /proc, /sys, /dev (replaced below) and SD_WORK; the
	# flag is per mount: the host's mounts stay as they are
	while read -r t; do
		t=$(printf '%b' "$t")            # findmnt -r escapes blanks as \x20
		case $t in
		/proc | /proc/* | /sys | /sys/* | /dev | /dev/* | "$SD_WORK") continue ;;
		esac
		mount -o remount,bind,ro "$t"
	done < <(findmnt -rn -o TARGET)
}

make_dev() {
	local n spec pty
	# the pty, by its path in this mount namespace (a bind of the fd itself
	# would name the host's mount: EINVAL), kept on /run while /dev changes
	pty=$(readlink "/proc/self/fd/$SD_CONSOLE_FD")
	touch /run/.console
	mount --bind "$pty" /run/.console
	mount -t tmpfs -o mode=755,nosuid,size=1m tmpfs /dev
	for spec in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
		IFS=: read -r n a b <<<"$spec"
		mknod -m 666 "/dev/$n" c "$a" "$b"
	done
	mkdir -m 755 /dev/pts
	mkdir -m 1777 /dev/shm
	mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
	ln -s pts/ptmx /dev/ptmx
	mount -t tmpfs -o mode=1777,nosuid,nodev,size=16m tmpfs /dev/shm
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	touch /dev/console
	mount --move /run/.console /dev/console
}

# what the daemons of docs/examples write, on tmpfs (the host's stay as
# they are): their logs, redis's dump, nginx's temp files
private_var() {
	local d
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
	mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /var/log
	for d in /var/lib/nginx /var/lib/redis /var/lib/systemd; do
		[[ -d $d ]] && mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$d"
	done
	if id redis >/dev/null 2>&1; then
		mkdir -p /var/log/redis
		chown redis:redis /var/log/redis /var/lib/redis
		chmod 750 /var/lib/redis
	fi
	mkdir -p /var/log/nginx
}

write_units() {
	local u=/run/systemd/system
	mkdir -p "$u" /run/systemd/journald.conf.d
	cat >"$u/sdadopt-test.target" <<-'UNIT'
	[Unit]
	Description=sdadopt test tier: journald and nothing else
	DefaultDependencies=no
	Wants=systemd-journald.service
	After=systemd-journald.service
	UNIT
	cat >/run/systemd/journald.conf.d/sdadopt-test.conf <<-'CONF'
	[Journal]
	Storage=volatile
	RateLimitIntervalSec=0
	ForwardToConsole=no
	ForwardToWall=no
	CONF
	ln -s /dev/null "$u/systemd-journald-audit.socket"
	# systemd reads units from here only (SYSTEMD_UNIT_PATH): none of the
	# host's units, no .wants of its sysinit.target (swap, binfmt, sysctl,
	# modules, tmpfiles ...), no generated ones.  journald as installed; the
	# targets and slice that default dependencies name, empty.
	for t in systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket; do
		cp "/lib/systemd/system/$t" "$u/"
	done
	for t in sysinit basic sockets timers paths local-fs remote-fs network network-online \
		nss-lookup nss-user-lookup multi-user shutdown slices; do
		printf '[Unit]\nDescription=%s.target (empty: sdadopt test tier)\nDefaultDependencies=no\n' \
			"$t" >"$u/$t.target"
	done
	printf '[Unit]\nDescription=system.slice (sdadopt test tier)\nDefaultDependencies=no\n' >"$u/system.slice"
	if [[ -d $SD_WORK/units ]]; then
		cp -r "$SD_WORK/units/." "$u/"
	fi
}

stage2() {
	mount --make-rprivate /
	ro_remount_all
	mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
	# SD_WORK may be under /tmp: kept aside while /tmp is replaced
	mkdir /run/.work
	mount --move "$SD_WORK" /run/.work
	private_var
	mkdir -p "$SD_WORK"
	mount --move /run/.work "$SD_WORK"
	rmdir /run/.work
	# the shim the units preload (lib.sh): on /run, which no unit hides
	if [[ -f $SD_WORK/libsdadopt.so ]]; then
		mkdir -p -m 755 /run/sdadopt-test
		install -m 644 "$SD_WORK/libsdadopt.so" /run/sdadopt-test/libsdadopt.so
	fi
	make_dev
	mount --bind /proc/sys /proc/sys
	mount -o remount,bind,ro /proc/sys
	mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
	mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
	write_units
	exec setpriv --bounding-set=-sys_module,-sys_rawio,-sys_time,-syslog \
		env -i container=sdadopt-test PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMD_UNIT_PATH=/run/systemd/system \
		/lib/systemd/systemd --unit=sdadopt-test.target
}

case ${1:-} in
stage1) stage1 ;;
stage2) stage2 ;;
*) echo "usage: ns-init.sh stage1" >&2; exit 2 ;;
esac
