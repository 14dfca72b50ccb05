#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A unit pair of docs/examples, installed into the namespace's systemd as
# shipped (only the shim's path substituted, and for memcached-unix the
# TCP address by a unix path), run for real:
#   - the service stays inactive until the first connection, which it answers;
#   - the adoption line is in the journal at priority info (_PID= of the
#     service), a warning at priority warning;
#   - the service's listening sockets are the socket unit's (inodes);
#   - reload (where the daemon has one) and restart keep them;
#   - stopping the service leaves the socket unit listening, and the next
#     connection starts it again;
#   - a unix socket keeps its path (the file's inode) across all of it.
# usage: examples.sh SHIM nginx|python-http|redis|memcached|memcached-unix
source "$(dirname "$0")/lib.sh"
ex=${ARGS[0]:?usage: examples.sh SHIM EXAMPLE}
EX=$SD_DIR/../../docs/examples
reload=0 kind=tcp
case $ex in
nginx)
	dir=nginx unit=nginx where=80 reload=1 addrs='00000000 00000000000000000000000000000000'
	req=(http:127.0.0.1:80) want='HTTP/1.1 200 OK' ;;
python-http)
	dir=python-http unit=python-http where=8000 addrs=0100007F
	req=(http:127.0.0.1:8000) want='HTTP/1.0 200 OK' ;;
redis)
	dir=redis unit=redis-server where=6379 addrs=0100007F
	req=(tcp:127.0.0.1:6379 'PING\r\nQUIT\r\n') want='+PONG' ;;
memcached)
	dir=memcached unit=memcached where=11211 addrs=0100007F
	req=(tcp:127.0.0.1:11211 'version\r\nquit\r\n') want='VERSION 1.' ;;
memcached-unix)
	dir=memcached unit=memcached kind=unix where=/run/memcached.sock addrs=
	req=(unix:/run/memcached.sock 'version\r\nquit\r\n') want='VERSION 1.' ;;
*) fail "no example $ex" ;;
esac
sock=$unit.socket svc=$unit.service

# ------------------------------------------------------------ the units
install_example() {
	local f out
	for f in "$EX/$dir/$sock" "$EX/$dir/$svc"; do
		[[ -f $f ]] || fail "$f is missing"
		out=$WORK/units/${f##*/}
		mkdir_units
		sed -E "s|/usr/lib/[^/ ]+/sdadopt/libsdadopt\.so|$SHIM|g" "$f" >"$out"
		if [[ $ex == memcached-unix ]]; then
			sed -i -E 's|^ListenStream=127\.0\.0\.1:11211$|ListenStream=/run/memcached.sock|;
				s| -p 11211 -l 127\.0\.0\.1| -s /run/memcached.sock|' "$out"
		fi
	done
	grep -qF "Environment=LD_PRELOAD=$SHIM" "$WORK/units/$svc" || fail "$svc: no LD_PRELOAD= line to point at the build's shim"
	if [[ $ex == memcached-unix ]]; then
		grep -qx 'ListenStream=/run/memcached.sock' "$WORK/units/$sock" &&
			grep -q -- '-s /run/memcached.sock' "$WORK/units/$svc" || fail "the unix-socket substitution did not apply"
	fi
}

# ------------------------------------------------------------- checks
# the listeners on the socket unit's addresses (redis also binds [::1]:6379
# itself: not the unit's)
listeners() { sd_listen_inodes "$kind" "$where" $addrs | sort -u | paste -sd' ' -; }
held_by() { sd_fd_inodes "$1" | sort -u; }
# the listeners PID holds
holds_all() {
	local have i
	have=$(held_by "$1")
	for i in $2; do grep -qx "$i" <<<"$have" || return 1; done
}
path_inode() { stat -c %i "$(sd_root)$where"; }

ask() { # ask TAG: one request, its reply must have $want
	local st=0
	# a unix path is in the namespace's /run: the client needs its mounts too
	if [[ $kind == unix ]]; then in=sd; else in=sdnet; fi
	"$in" timeout 60 "$PY" "$CLIENT" "${req[@]}" >"$WORK/$1.out" 2>"$WORK/$1.err" || st=$?
	[[ $st == 0 ]] || fail "$1: the client failed (status $st)"
	grep -qF -- "$want" "$WORK/$1.out" || fail "$1: the reply lacks \"$want\""
}

# the service runs and its main pid has a journal line at PRIO with TEXT
journal_has() { grep -qF -- "$3" <<<"$(sd_journal -p "$2..$2" "_PID=$1")"; }
wait_main() { # wait_main OLDPID: the service is active with a main pid other than OLDPID
	wait_for 60 "$svc to be active (main pid other than ${1:-none})" \
		eval '[[ $(sd_state "$svc") == active && $(sd_main_pid "$svc") != 0 && $(sd_main_pid "$svc") != "${1:-}" ]]'
	MAIN=$(sd_main_pid "$svc")
	HMAIN=$(sd_host_pid "$MAIN") || fail "no host pid for $svc's main pid $MAIN"
}
check_adopted() { # check_adopted STEP: adoption line, same inodes
	wait_for 30 "$1: the adoption line at priority info (_PID=$MAIN)" \
		journal_has "$MAIN" info 'sdadopt: info: adopted inherited fd'
	wait_for 30 "$1: $svc (pid $MAIN) to hold the socket unit's sockets ($UNIT_INODES)" \
		holds_all "$HMAIN" "$UNIT_INODES"
	[[ $(listeners) == "$UNIT_INODES" ]] || fail "$1: the listeners are $(listeners), not the socket unit's $UNIT_INODES"
	if [[ $kind == unix ]]; then
		[[ $(path_inode) == "$PATH_INODE" ]] || fail "$1: $where is another file now"
	fi
	note "$1: $svc (pid $MAIN) holds the socket unit's sockets $UNIT_INODES"
}

install_example
sd_boot
sdctl start "$sock" || fail "systemctl start $sock"
wait_for 30 "$sock to listen" eval '[[ $(sd_state "$sock") == active && -n $(listeners) ]]'
UNIT_INODES=$(listeners)
holds_all "$SD_PID" "$UNIT_INODES" || fail "systemd does not hold the listeners $UNIT_INODES"
[[ $kind != unix ]] || PATH_INODE=$(path_inode)
# inactive until the first connection: looked at over a second
for _ in 1 2 3 4 5; do
	sd_is "$svc" inactive || fail "$svc started before any connection ($(sd_state "$svc"))"
	sleep 0.2
done

ask first
wait_main ""
check_adopted "first connection"
first=$MAIN

if ((reload)); then
	sdctl reload "$svc" || fail "systemctl reload $svc"
	wait_for 30 "$svc to be active after reload" sd_is "$svc" active
	[[ $(sd_main_pid "$svc") == "$first" ]] || fail "reload changed the main pid"
	ask reload
	[[ $(listeners) == "$UNIT_INODES" ]] || fail "reload: the listeners are $(listeners), not $UNIT_INODES"
	holds_all "$HMAIN" "$UNIT_INODES" || fail "reload: $svc no longer holds $UNIT_INODES"
	note "reload: same main pid, same sockets"
fi

sdctl restart "$svc" || fail "systemctl restart $svc"
wait_main "$first"
ask restart
check_adopted "restart"

sdctl stop "$svc" || fail "systemctl stop $svc"
sd_is "$svc" inactive || fail "$svc is $(sd_state "$svc") after stop"
sd_is "$sock" active || fail "$sock is $(sd_state "$sock") after stopping $svc"
[[ $(listeners) == "$UNIT_INODES" ]] || fail "stop: the listeners are $(listeners), not $UNIT_INODES"
[[ $kind != unix || $(path_inode) == "$PATH_INODE" ]] || fail "stop: $where is another file now"
note "stop: $sock still listens on $UNIT_INODES"
ask after-stop
wait_main "$first"
check_adopted "connection after stop"

# a warning goes to the journal at priority warning (a bad SDADOPT_LOG:
# one line, and the shim goes on at info)
d=$(sd_root)/run/systemd/system/$svc.d
mkdir -p "$d"
printf '[Service]\nEnvironment=SDADOPT_LOG=loud\n' >"$d/50-sdadopt-test.conf"
sdctl daemon-reload
prev=$MAIN
sdctl restart "$svc" || fail "systemctl restart $svc (with SDADOPT_LOG=loud)"
wait_main "$prev"
ask warning
wait_for 30 "the SDADOPT_LOG warning at priority warning" \
	journal_has "$MAIN" warning 'sdadopt: warning: SDADOPT_LOG=loud is not a level'
check_adopted "restart with a warning"
grep -qF 'SDADOPT_LOG=loud' <<<"$(sd_journal -p info..info "_PID=$MAIN")" && fail "the warning is at priority info too"
pass "$ex: activated on the first connection, adopted its socket unit's sockets ($UNIT_INODES)$( ((reload)) && echo ", kept them over reload"), restart and stop; journal priorities info and warning"
