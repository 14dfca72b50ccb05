#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Containers: podman passes a service's activated sockets into the container
# as fds 3.. with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID=1, and the
# program is PID 1 of the container's pid namespace.  Here the booted
# systemd's socket unit activates a service that does what podman does
# without podman: `unshare --pid --fork` (a new pid namespace) and
# `env LISTEN_PID=1 LD_PRELOAD=<shim>` in front of python3 -m http.server,
# so the shim runs in PID 1 of that namespace.  Checked: the server is PID 1
# there, adopts the socket unit's socket (inode, journal line), answers,
# and keeps the socket over a restart; with the LISTEN_PID systemd set (the
# unshare process's), the shim is inert and the bind fails (EADDRINUSE),
# which is why the container must see LISTEN_PID=1.
source "$(dirname "$0")/lib.sh"

sd_unit_text ct.socket <<'UNIT'
[Socket]
ListenStream=127.0.0.1:8000
FileDescriptorName=web
UNIT
sd_unit_text ct.service <<UNIT
[Unit]
Requires=ct.socket
After=ct.socket
StartLimitIntervalSec=0
[Service]
Type=exec
# PID 1 of a pid namespace ignores the signals it has no handler for
# (http.server has none for SIGTERM), and unshare --fork ignores SIGTERM
# while it waits: as with \`podman stop\`, only SIGKILL ends it at once
KillSignal=SIGKILL
# LD_PRELOAD only for the program in the "container", never for unshare
ExecStart=/usr/bin/unshare --pid --fork --kill-child=SIGKILL --mount-proc /usr/bin/env LISTEN_PID=1 LD_PRELOAD=$SHIM PYTHONUNBUFFERED=1 $PY -m http.server --bind 127.0.0.1 --directory /srv 8000
UNIT
# the contrast: LISTEN_PID as systemd set it, the unshare process's pid
sd_unit_text ct-nopid.service <<UNIT
[Unit]
StartLimitIntervalSec=0
[Service]
Type=exec
Sockets=ct.socket
KillSignal=SIGKILL
ExecStart=/usr/bin/unshare --pid --fork --kill-child=SIGKILL --mount-proc /usr/bin/env LD_PRELOAD=$SHIM PYTHONUNBUFFERED=1 $PY -m http.server --bind 127.0.0.1 --directory /srv 8000
UNIT

listener() { sd_listen_inodes tcp 8000 0100007F | paste -sd' ' -; }
# the server: the child of the service's main process (unshare); its pid
# as journald sees it (the systemd namespace's) and as it sees itself
server() {
	local main hmain
	main=$(sd_main_pid ct.service) && [[ $main != 0 ]] || return 1
	hmain=$(sd_host_pid "$main") || return 1
	SRV_HOST=$(sd_children "$hmain")
	SRV_HOST=${SRV_HOST%% *}
	[[ -n $SRV_HOST ]] || return 1
	read -r -a nspid < <(awk '/^NSpid:/ { $1 = ""; print }' "/proc/$SRV_HOST/status")
	((${#nspid[@]} == 3)) || return 1
	SRV_PID=${nspid[1]} SRV_INNER=${nspid[2]}
	[[ $(readlink "/proc/$SRV_HOST/exe") == */python3* ]]
}
journal_has() { grep -qF -- "$3" <<<"$(sd_journal -p "$2..$2" "_PID=$1")"; }
ask() {
	sdnet timeout 60 "$PY" "$CLIENT" http:127.0.0.1:8000 >"$WORK/$1.out" 2>"$WORK/$1.err" || fail "$1: no reply"
	grep -qF 'HTTP/1.0 200 OK' "$WORK/$1.out" || fail "$1: the reply is not a 200"
}
check_container() { # check_container STEP
	wait_for 60 "$1: the server in its pid namespace" server
	[[ $SRV_INNER == 1 ]] || fail "$1: the server is pid $SRV_INNER in its namespace, not 1"
	wait_for 30 "$1: the adoption line (_PID=$SRV_PID)" journal_has "$SRV_PID" info \
		'sdadopt: info: adopted inherited fd 3 "web" (tcp 127.0.0.1:8000)'
	wait_for 30 "$1: the server to hold the socket unit's socket $UNIT_INODE" \
		eval 'grep -qx "$UNIT_INODE" <<<"$(sd_fd_inodes "$SRV_HOST")"'
	[[ $(listener) == "$UNIT_INODE" ]] || fail "$1: the listeners are $(listener), not $UNIT_INODE"
	note "$1: the server is PID 1 of its pid namespace (pid $SRV_PID outside) and holds $UNIT_INODE"
}

sd_boot
sdctl start ct.socket || fail "systemctl start ct.socket"
wait_for 30 "ct.socket to listen" eval '[[ -n $(listener) ]]'
UNIT_INODE=$(listener)
ask first
check_container "first connection"
first=$SRV_PID
sdctl restart ct.service || fail "systemctl restart ct.service"
wait_for 60 "a new server after restart" eval 'server && [[ $SRV_PID != "$first" ]]'
ask restart
check_container "restart"

# the contrast: LISTEN_PID names unshare, not PID 1 of the namespace
sdctl stop ct.service
sdctl start ct-nopid.service || fail "systemctl start ct-nopid.service"
wait_for 60 "ct-nopid.service to fail (EADDRINUSE)" \
	eval 'grep -qF "Address already in use" <<<"$(sd_journal -u ct-nopid.service)"'
sd_journal -u ct-nopid.service | grep -qF 'sdadopt:' && fail "the shim spoke with a LISTEN_PID that is not its pid"
[[ $(listener) == "$UNIT_INODE" ]] || fail "ct.socket's socket changed"
pass "container: the shim as PID 1 of a pid namespace with LISTEN_PID=1 adopted the socket unit's socket $UNIT_INODE, kept over a restart; with another LISTEN_PID it stays inert"
