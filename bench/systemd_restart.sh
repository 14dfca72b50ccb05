#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Restarts under the real systemd (issue 11, point 3): python3 -m http.server
# restarted RESTARTS times with `systemctl restart` while a continuous client
# (tests/systemd/hammer.py) connects, in three set-ups, in one booted systemd
# (the systemd test tier's harness, tests/systemd/lib.sh: private
# namespaces, nothing left behind):
#   native       no socket unit, no shim: the server binds itself
#   socket-unit  docs/examples/python-http (a .socket and the shim)
#   fd-store     docs/examples/fdstore (no socket unit: SDADOPT_FDSTORE=1)
# Prints a markdown table: connections answered, refused, failed otherwise
# (a request the stopped process had accepted), and the answered ones'
# latency (p50, p99, max).  Not a test: nothing is asserted.
#   usage: bash bench/systemd_restart.sh [SHIM] [RESTARTS]   (as root)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shim=${1:-$here/build/shim/libsdadopt.so}
RESTARTS=${2:-10}
source "$here/tests/systemd/lib.sh" "$shim"
HAMMER=$SD_DIR/hammer.py
EX=$here/docs/examples
subst() { sed -E "s|/usr/lib/[^/ ]+/sdadopt/libsdadopt\.so|$SHIM|g" "$@"; }
nolimit() {
	mkdir -p "$WORK/units/$1.d"
	printf '[Unit]\nStartLimitIntervalSec=0\n' >"$WORK/units/$1.d/50-bench.conf"
}
subst "$EX/python-http/python-http.socket" | sd_unit_text python-http.socket
subst "$EX/python-http/python-http.service" | sd_unit_text python-http.service
subst "$EX/fdstore/python-http-fdstore.service" | sed -E 's|--directory /srv 8000$|--directory /srv 8002|' |
	sd_unit_text fdstore.service
subst "$EX/fdstore/python-http-fdstore.service" | sed -E '/^Environment=(LD_PRELOAD|SDADOPT_FDSTORE)=/d;
	s|--directory /srv 8000$|--directory /srv 8001|' | sd_unit_text native.service
for u in python-http.service fdstore.service native.service; do nolimit "$u"; done

listener() { sd_listen_inodes tcp "$1" 0100007F | paste -sd' ' -; }
serving() { # serving UNIT PORT OLDPID
	local b_u=$1 b_port=$2 b_old=${3:-}
	wait_for 60 "$b_u to be active (main pid other than ${b_old:-none})" \
		eval '[[ $(sd_state "$b_u") == active && $(sd_main_pid "$b_u") != 0 && $(sd_main_pid "$b_u") != "$b_old" ]]'
	MAIN=$(sd_main_pid "$b_u")
	HMAIN=$(sd_host_pid "$MAIN") || fail "$b_u: no host pid for $MAIN"
	wait_for 60 "$b_u (pid $MAIN) to listen on $b_port" \
		eval 'l=$(listener "$b_port"); [[ -n $l ]] && grep -qx "$l" <<<"$(sd_fd_inodes "$HMAIN")"'
}
# bench NAME UNIT PORT [FIRST]: one row
bench() {
	local name=$1 u=$2 port=$3 out=$WORK/$1.counts i prev hp
	if [[ ${4:-} == connect ]]; then
		sdnet timeout 60 "$PY" "$CLIENT" "http:127.0.0.1:$port" >/dev/null || fail "$name: no first reply"
	else
		sdctl start "$u" || fail "systemctl start $u"
	fi
	serving "$u" "$port" ""
	timeout $((60 + 10 * RESTARTS)) nsenter -t "$SD_PID" -n "$PY" "$HAMMER" 127.0.0.1 "$port" "$WORK/$name.stop" \
		$((30 + 5 * RESTARTS)) "$out" >/dev/null 2>&1 &
	hp=$!
	STARTED+=("$hp")
	wait_for 30 "$name: the client's first reply" test -e "$out.started"
	for ((i = 1; i <= RESTARTS; i++)); do
		prev=$MAIN
		sdctl restart "$u" || fail "$name: systemctl restart $u (#$i)"
		serving "$u" "$port" "$prev"
	done
	touch "$WORK/$name.stop"
	wait_for 60 "$name: the client to finish" test -e "$out"
	reap "$hp"
	awk -v n="$name" '{ for (i = 1; i < NF; i += 2) v[$i] = $(i + 1)
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", n, v["ok"], v["refused"], v["other"], v["p50_ms"], v["p99_ms"], v["max_ms"] }' "$out"
}

sd_boot
sdctl start python-http.socket || fail "systemctl start python-http.socket"
echo "# $RESTARTS restarts each, python3 -m http.server, systemd $(sd systemctl --version | awk 'NR == 1 { print $2 }'), $(nproc) CPUs"
echo
echo "| set-up | answered | refused | failed | p50 ms | p99 ms | max ms |"
echo "|---|---|---|---|---|---|---|"
bench native native.service 8001
bench socket-unit python-http.service 8000 connect
bench fd-store fdstore.service 8002
