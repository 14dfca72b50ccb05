#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Isolation checks of the shim, each one a mode:
#
#   children   exec'd children of an activated server (fork+exec, posix_spawn,
#              system(), before and after the adoption) inherit neither the
#              inherited fds nor LISTEN_*
#   other-pid  LISTEN_PID naming another process: the shim stays inert (no
#              adoption, no log line, the variables left alone)
#   secure     secure execution (AT_SECURE): a setgid copy of a server that
#              links the shim (DT_NEEDED, so that the loader cannot drop it)
#              runs with the shim loaded but inert; a plain copy adopts; an
#              LD_PRELOADed shim is not loaded into a setgid program at all
#   strace     hostile SDADOPT_* values never make the shim open a file for
#              writing, create, delete or rename anything (strace -f)
#   valgrind   valgrind memcheck of an activated server with the shim:
#              no error, no definite leak
#
#   bash isolation.sh MODE SHIM ACTIVATE SERVER [SECURE_SERVER]
# With SDA_PRELOAD_FIRST=LIB (a sanitized build) LIB goes first in LD_PRELOAD.
# Exit 0 pass, 1 fail, 77 skipped (a tool or a privilege is missing).
set -euo pipefail
mode=${1:?usage: isolation.sh MODE SHIM ACTIVATE SERVER [SECURE_SERVER]}
shim=$(readlink -f "${2:?}")
act=$(readlink -f "${3:?}")
srv=$(readlink -f "${4:?}")
secure_srv=${5:+$(readlink -f "$5")}

work=$(mktemp -d /tmp/sdadopt-isolation.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
skip() { echo "SKIP: $*" >&2; exit 77; }
has() { grep -q -- "$1" "$work/out" || fail "$2 (no '$1' in the output)"; }
hasnt() { if grep -q -- "$1" "$work/out"; then fail "$2: $(grep -m1 -- "$1" "$work/out")"; fi; }

# run ARGS...: hard-activate with one TCP socket and the shim; output in
# $work/out (stdout + stderr), the socket's inode in $ino
first=()
[[ -z ${SDA_PRELOAD_FIRST:-} ]] || first=(--preload-first "$SDA_PRELOAD_FIRST")
run() {
	local rc=0
	"$act" --print --timeout 300 --tcp 127.0.0.1 "${first[@]}" "$@" >"$work/out" 2>&1 || rc=$?
	ino=$(sed -n 's/^socket 0 fd=[0-9]* ino=\([0-9]*\) .*/\1/p' "$work/out")
	return $rc
}

case $mode in
children)
	# before any adoption (a forked child must not get the sockets handed
	# down), then after it; every socket of the server is CLOEXEC, so a
	# child must see no fd >= 3 at all
	run --shim "$shim" -- "$srv" --cloexec --fork-exec --spawn --system \
		--bind "tcp:127.0.0.1:{port0}" --serve --fork-exec --spawn --system --env ||
		fail "the server failed"
	cat "$work/out"
	has "bound 0 ok ino=$ino " "not adopted"
	has "serve ok" "did not serve"
	for how in child spawn system; do
		[[ $(grep -c "^$how: env none" "$work/out") == 2 ]] ||
			fail "$how: LISTEN_* reached an exec'd child"
		[[ $(grep -c "^$how: fds\$" "$work/out") == 2 ]] ||
			fail "$how: an exec'd child inherited fds: $(grep "^$how: fds" "$work/out" | tr '\n' ' ')"
		[[ $(grep -c "^$how status 0\$" "$work/out") == 2 ]] || fail "$how: the child failed"
	done
	;;
other-pid)
	run --shim "$shim" --listen-pid "{ppid}" -- "$srv" --maps --bind "tcp:127.0.0.1:{port0}" \
		--serve --env || fail "the server failed"
	cat "$work/out"
	has "shim mapped yes" "the shim was not loaded"
	has "bound 0 ok" "no native bind"
	hasnt "bound 0 ok ino=$ino " "adopted although LISTEN_PID names another process"
	hasnt "sdadopt:" "the inert shim logged"
	has "env LISTEN_PID=" "LISTEN_* of another process removed"
	;;
secure)
	[[ -n $secure_srv ]] || skip "no secure server given"
	# a copy we may make setgid: a group other than our real one
	if ((EUID == 0)); then
		grp=nogroup
	else
		grp=$(id -Gn | tr ' ' '\n' | grep -vx "$(id -gn)" | head -1 || true)
	fi
	[[ -n $grp ]] || skip "no second group to make a setgid copy with (run as root)"
	cp "$secure_srv" "$work/secure-server"
	cp "$srv" "$work/preload-server"
	chgrp "$grp" "$work/secure-server" "$work/preload-server" 2>/dev/null || skip "chgrp $grp failed"
	chmod 755 "$work"
	# 1. control: not setgid -> the DT_NEEDED shim adopts
	run -- "$work/secure-server" --secure --maps --bind "tcp:127.0.0.1:{port0}" --serve --env ||
		fail "control run failed"
	cat "$work/out"
	has "at_secure 0" "control run in secure mode"
	has "bound 0 ok ino=$ino " "control run: the linked shim did not adopt"
	# 2. setgid -> AT_SECURE, the shim is loaded but must do nothing
	chmod 2755 "$work/secure-server" "$work/preload-server"
	run -- "$work/secure-server" --secure --maps --bind "tcp:127.0.0.1:{port0}" --serve --env ||
		fail "setgid run failed"
	cat "$work/out"
	grep -q "at_secure 1" "$work/out" || skip "setgid did not give AT_SECURE (nosuid mount?)"
	has "shim mapped yes" "setgid run: the linked shim is not loaded"
	has "bound 0 ok" "setgid run: no native bind"
	hasnt "bound 0 ok ino=$ino " "setgid run: adopted in secure mode"
	hasnt "sdadopt:" "setgid run: the shim logged in secure mode"
	has "env LISTEN_PID=" "setgid run: LISTEN_* touched in secure mode"
	# 3. setgid + LD_PRELOAD with a path: the loader ignores the shim
	run --shim "$shim" -- "$work/preload-server" --secure --maps --bind "tcp:127.0.0.1:{port0}" \
		--serve || fail "setgid LD_PRELOAD run failed"
	cat "$work/out"
	has "shim mapped no" "the loader preloaded a path into a setgid program"
	hasnt "bound 0 ok ino=$ino " "setgid LD_PRELOAD run adopted"
	;;
strace)
	command -v strace >/dev/null || skip "strace missing (apt-get install strace)"
	strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace not allowed)"
	canary=$work/canary
	values=("$canary-log" "../../../..$canary-rel" "file:$canary-url" "|touch $canary-pipe"
		"%n%s%x$canary" "debug:$canary" "$(printf 'x%.0s' {1..5000})")
	for v in "${values[@]}"; do
		rc=0
		# (LeakSanitizer cannot run under ptrace: a sanitized build's
		# leak check is off here)
		ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$work/trace" \
			-e trace=open,openat,openat2,creat,unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,truncate,ftruncate,symlink,symlinkat,link,linkat,mknod,mknodat \
			"$act" --timeout 300 --tcp 127.0.0.1 --shim "$shim" "${first[@]}" \
			--env "SDADOPT_LOG=$v" --env "SDADOPT_MAP=$canary-map.sock=s0,$v=s0" \
			--env "SDADOPT_MATCH=$v" --env "SDADOPT_STRICT=$v" --env "SDADOPT_FILE=$v" \
			-- "$srv" --bind "tcp:127.0.0.1:{port0}" --serve >"$work/out" 2>&1 || rc=$?
		((rc == 0)) || fail "SDADOPT_*=${v:0:40}: the server failed ($rc)"
		grep -q "adopted inherited fd 3" "$work/out" || fail "SDADOPT_*=${v:0:40}: not adopted"
		# every open is read-only; nothing is created, removed or renamed
		if grep -E 'O_(WRONLY|RDWR|CREAT|TRUNC|APPEND)|^[0-9]+ +(creat|unlink|unlinkat|rename|renameat|renameat2|mkdir|mkdirat|truncate|ftruncate|symlink|symlinkat|link|linkat|mknod|mknodat)\(' \
			"$work/trace" | grep -v -E 'openat\(AT_FDCWD, "/dev/(null|tty)"' >"$work/bad"; then
			fail "SDADOPT_*=${v:0:40}: file system changes: $(head -3 "$work/bad" | tr '\n' ' ')"
		fi
		if grep -F "$canary" "$work/trace" >"$work/bad"; then
			fail "SDADOPT_*=${v:0:40}: a path from a variable was used: $(head -2 "$work/bad")"
		fi
	done
	if ls "$work" | grep -q canary; then fail "files appeared: $(ls "$work")"; fi
	echo "checked ${#values[@]} hostile value sets: $(wc -l <"$work/trace") traced calls in the last run"
	;;
valgrind)
	command -v valgrind >/dev/null || skip "valgrind missing (apt-get install valgrind)"
	[[ -z ${SDA_PRELOAD_FIRST:-} ]] || skip "valgrind cannot run a sanitized build"
	# valgrind runs in place (same pid), so LISTEN_PID names the server;
	# on Debian /usr/bin/valgrind is a shell script that execs the tool:
	# the shim hands the sockets down across those execs
	run --shim "$shim" -- valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		"$srv" --bind "tcp:127.0.0.1:{port0}" --serve --env --fork-exec ||
		fail "valgrind reported errors or the server failed (exit $?)"
	cat "$work/out"
	has "bound 0 ok ino=$ino " "not adopted under valgrind"
	has "serve ok" "did not serve under valgrind"
	has "sdadopt: info: adopted inherited fd 3" "no adoption line"
	hasnt "definitely lost" "definite leak"
	hasnt "Invalid \|uninitialised\|Syscall param" "memcheck error"
	;;
*)
	echo "unknown mode $mode" >&2
	exit 2
	;;
esac
if ((fails)); then
	echo "FAIL: $mode: $fails check(s) failed" >&2
	exit 1
fi
echo "PASS: $mode"
