#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fd store (SDADOPT_FDSTORE=1), without a socket unit, in the booted
# systemd: an example of docs/examples/fdstore/ as shipped (only the shim's
# path, and for http.server the port, substituted; StartLimitIntervalSec=0
# in a drop-in), restarted RESTARTS times while a bounded client connects
# continuously:
#   - the first start hands its listening sockets to the store (journal,
#     info), the store holds that many fds, and every later start adopts
#     them back (same inodes) and hands nothing again;
#   - no connection is refused;
#   - systemctl stop empties the store: the sockets close;
#   - the same unit without the shim, restarted the same way in the same
#     run: for http.server it must refuse connections (the contrast that
#     shows the client sees refusals); for nginx the count is reported;
#   - (http.server) without NotifyAccess= and FileDescriptorStoreMax= (no
#     NOTIFY_SOCKET: FileDescriptorStoreMax= alone implies NotifyAccess=main)
#     the shim says so in one line at priority warning, and the server runs
#     as without it.
# usage: fdstore.sh SHIM [python-http|nginx]
source "$(dirname "$0")/lib.sh"
RESTARTS=10
HAMMER=$SD_DIR/hammer.py
mode=${ARGS[0]:-python-http}
case $mode in
python-http)
	ex=python-http-fdstore.service port=8000 addrs=0100007F nstore=1 ;;
nginx)
	ex=nginx-fdstore.service port=80 addrs='00000000 00000000000000000000000000000000' nstore=2 ;;
*) fail "no mode $mode" ;;
esac
ex=$SD_DIR/../../docs/examples/fdstore/$ex
[[ -f $ex ]] || fail "$ex is missing"
verify=$(timeout 60 systemd-analyze verify --man=no "$ex" 2>&1) || fail "systemd-analyze verify ${ex##*/}: $verify"
[[ -z $verify ]] || fail "systemd-analyze verify ${ex##*/} says: $verify"

# unit NAME PORT [SED]: the example as NAME.service on PORT
unit() {
	local name=$1 p=$2
	sed -E "s|/usr/lib/[^/ ]+/sdadopt/libsdadopt\.so|$SHIM|g; s|--directory /srv 8000$|--directory /srv $p|" \
		"$ex" | sed -E "${3:-s|^$||}" | sd_unit_text "$name.service"
	[[ $mode != python-http ]] || grep -q -- "--directory /srv $p\$" "$WORK/units/$name.service" ||
		fail "$name: the port substitution did not apply"
	mkdir -p "$WORK/units/$name.service.d"
	printf '[Unit]\nStartLimitIntervalSec=0\n' >"$WORK/units/$name.service.d/50-sdadopt-test.conf"
}
unit store "$port"
grep -qF "Environment=LD_PRELOAD=$SHIM" "$WORK/units/store.service" || fail "no LD_PRELOAD= line to point at the build's shim"
# the contrast: the same unit without the shim (nginx: on the same port, after the store's run)
[[ $mode == nginx ]] && native_port=$port || native_port=8001
unit native "$native_port" '/^Environment=(LD_PRELOAD|SDADOPT_FDSTORE)=/d'
grep -q '^Environment=LD_PRELOAD' "$WORK/units/native.service" && fail "native.service still preloads the shim"
[[ $mode != python-http ]] || unit nonotify 8002 '/^(NotifyAccess|FileDescriptorStoreMax)=/d'

listeners() { sd_listen_inodes tcp "$1" $addrs | sort -u | paste -sd' ' -; }
holds_all() { # holds_all HOSTPID INODES
	local have i
	have=$(sd_fd_inodes "$1")
	for i in $2; do grep -qx "$i" <<<"$have" || return 1; done
}
wait_serving() { # wait_serving UNIT PORT OLDPID N: a new main pid holds N listeners
	local w_u=$1 w_port=$2 w_old=${3:-} w_n=$4
	wait_for 60 "$w_u to be active with a main pid other than ${w_old:-none}" \
		eval '[[ $(sd_state "$w_u") == active && $(sd_main_pid "$w_u") != 0 && $(sd_main_pid "$w_u") != "$w_old" ]]'
	MAIN=$(sd_main_pid "$w_u")
	HMAIN=$(sd_host_pid "$MAIN") || fail "$w_u: no host pid for main pid $MAIN"
	wait_for 60 "$w_u (pid $MAIN) to listen on $w_port ($w_n sockets)" \
		eval 'l=$(listeners "$w_port"); [[ $(wc -w <<<"$l") == "$w_n" ]] && holds_all "$HMAIN" "$l"'
}
journal_count() { grep -cF -- "$3" <<<"$(sd_journal -p "$2..$2" "_PID=$1")" || true; }
journal_has() { (($(journal_count "$@") > 0)); }

# run NAME PORT: RESTARTS restarts under the client; sets COUNTS and INODES
run() {
	local name=$1 u=$1.service port=$2 i out=$WORK/$1.counts hp prev
	local -a inodes=()
	sdctl start "$u" || fail "systemctl start $u"
	wait_serving "$u" "$port" "" "$nstore"
	inodes+=("$(listeners "$port")")
	if [[ $name == store ]]; then
		wait_for 30 "the hand-over lines at priority info" \
			eval '[[ $(journal_count "$MAIN" info "sdadopt: info: handed fd") == "$nstore" ]]'
		[[ $(sd_prop "$u" NFileDescriptorStore) == "$nstore" ]] ||
			fail "the store holds $(sd_prop "$u" NFileDescriptorStore) fds, not $nstore"
	fi
	timeout 150 nsenter -t "$SD_PID" -n "$PY" "$HAMMER" 127.0.0.1 "$port" "$WORK/$name.stop" 120 "$out" \
		>"$WORK/$name-hammer.out" 2>"$WORK/$name-hammer.err" &
	hp=$!
	STARTED+=("$hp")
	wait_for 30 "the client's first reply from $u" test -e "$out.started"
	for ((i = 1; i <= RESTARTS; i++)); do
		prev=$MAIN
		sdctl restart "$u" || fail "systemctl restart $u (#$i)"
		wait_serving "$u" "$port" "$prev" "$nstore"
		inodes+=("$(listeners "$port")")
		if [[ $name == store ]]; then
			wait_for 30 "restart $i: $nstore adoption lines" \
				eval '[[ $(journal_count "$MAIN" info "sdadopt: info: adopted inherited fd") == "$nstore" ]]'
			journal_has "$MAIN" info "handed fd" && fail "restart $i: an adopted socket was handed to the store again"
		fi
	done
	touch "$WORK/$name.stop"
	wait_for 30 "the client of $u to finish" test -e "$out"
	reap "$hp"
	COUNTS=$(<"$out")
	INODES=$(printf '%s\n' "${inodes[@]}" | sort -u | paste -sd' ' -)
	note "$u: $RESTARTS restarts: $COUNTS; listening sockets over the run: $INODES"
}
count() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$1"; }

sd_boot
sd_is store.service inactive || fail "store.service started by itself"

run store "$port"
store_counts=$COUNTS store_inodes=$INODES
[[ $(count "$store_counts" refused) == 0 ]] || fail "with the fd store, $(count "$store_counts" refused) connections were refused over $RESTARTS restarts"
(($(count "$store_counts" ok) > 0)) || fail "no connection was answered"
(($(wc -w <<<"$store_inodes") == nstore)) || fail "the listening sockets changed over the restarts: $store_inodes"
[[ $(sd_prop store.service NFileDescriptorStore) == "$nstore" ]] ||
	fail "after the restarts the store holds $(sd_prop store.service NFileDescriptorStore) fds, not $nstore"
if [[ $mode == nginx ]]; then
	sdnet timeout 30 "$PY" "$CLIENT" 'http:[::1]:80' >"$WORK/ipv6.out" || fail "no reply on [::1]:80"
	grep -qF 'HTTP/1.1 200 OK' "$WORK/ipv6.out" || fail "the reply on [::1]:80 is not a 200"
fi

# stop empties the store: the sockets close
sdctl stop store.service || fail "systemctl stop store.service"
wait_for 30 "the stored sockets to close after stop" eval '[[ -z $(listeners "$port") ]]'
[[ $(sd_prop store.service NFileDescriptorStore) == 0 ]] || fail "the store is not empty after stop"

run native "$native_port"
native_counts=$COUNTS
if [[ $mode == python-http ]]; then
	(($(count "$native_counts" refused) > 0)) ||
		fail "the contrast without the shim refused nothing ($native_counts): the client does not see refusals"

	# no NOTIFY_SOCKET: one warning line, and the server runs as without the shim
	sdctl start nonotify.service || fail "systemctl start nonotify.service"
	wait_serving nonotify.service 8002 "" 1
	wait_for 30 "the NOTIFY_SOCKET warning at priority warning" journal_has "$MAIN" warning \
		"sdadopt: warning: SDADOPT_FDSTORE=1 but NOTIFY_SOCKET is unset"
	n=$(sd_journal "_PID=$MAIN" | grep -c 'sdadopt:' || true)
	[[ $n == 1 ]] || fail "expected one sdadopt line without NOTIFY_SOCKET, found $n"
	sdnet timeout 30 "$PY" "$CLIENT" http:127.0.0.1:8002 >"$WORK/nonotify.out" || fail "nonotify.service does not answer"
	grep -qF 'HTTP/1.0 200' "$WORK/nonotify.out" || fail "nonotify.service's reply is not a 200"
fi
pass "fd store ($mode): $RESTARTS restarts with no socket unit, the same $nstore socket(s) throughout ($store_inodes): $store_counts; without the shim: $native_counts"
