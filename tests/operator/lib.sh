# SPDX-License-Identifier: MIT
# Shared by the operator tests: checks that count, temp dir, ports, runs
# bounded in time.  Source it; it sets -euo pipefail.
set -euo pipefail
export LC_ALL=C

for v in SDA_SHIM SDA_LAUNCHER SDA_TESTSERVER SDA_SRC SDA_VERSION; do
	[[ -n ${!v:-} ]] || { echo "not ok - $v is not set (run through ctest)"; exit 1; }
done
[[ -f $SDA_SHIM ]] || { echo "not ok - shim $SDA_SHIM not built"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/sdadopt-op.XXXXXX")
_bg=()
_cleanup() {
	local p
	for p in "${_bg[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap _cleanup EXIT

passes=0 fails=0
ok() { echo "ok - $*"; passes=$((passes + 1)); }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }
# check DESCRIPTION COMMAND...: the command's success is the check
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
# has FILE TEXT: FILE contains TEXT (fixed string)
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1"; }
# count FILE TEXT: lines of FILE with TEXT
count() { grep -cF -- "$2" "$1" || true; }
show() { # show FILE...: print files for a failure's context
	local f
	for f in "$@"; do
		echo "# --- $f"
		sed 's/^/#   /' "$f" 2>/dev/null | head -60
	done
}
need() { # need TOOL...: a missing tool fails the test
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { bad "tool '$t' is missing (scripts/setup installs it)"; finish; }
	done
}
finish() {
	echo "$passes passed, $fails failed"
	((fails == 0)) && exit 0
	exit 1
}

# A port nothing on this machine uses now (TCP or UDP, IPv4 or IPv6).
free_port() {
	local p hex
	for _ in $(seq 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		hex=$(printf ':%04X ' "$p")
		if ! cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null |
			awk '{print $2}' | grep -q -- "${hex% }$"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Time: no check may fail because the machine is slow.  A wait polls for
# its event (until_ok) with a generous bound; a run of a small program is
# cut off only by a backstop (BACKSTOP seconds, status 124) far above what
# it takes on any machine; a long job (a build) only when its output has
# stopped growing (run_progressing).
BACKSTOP=120
# sda OUT ERR ARG...: run the source launcher (BACKSTOP s at most); returns its status
sda() {
	local out=$1 err=$2
	shift 2
	local st=0
	timeout -k 5 "$BACKSTOP" "$SDA_LAUNCHER" "$@" >"$out" 2>"$err" </dev/null || st=$?
	return "$st"
}
# sda_free_port ARG...: sda "$T/out" "$T/err" ARG... with a free port (P)
# for {P} in the arguments, again with another while the launcher exits 71
# (the port was taken meanwhile); returns its status
sda_free_port() {
	local a args st
	for _ in 1 2 3 4 5; do
		P=$(free_port)
		args=()
		for a in "$@"; do args+=("${a//\{P\}/$P}"); done
		st=0
		sda "$T/out" "$T/err" "${args[@]}" || st=$?
		((st == 71)) || break
	done
	return "$st"
}
# run_progressing SECS LOG CMD...: run CMD (stdin /dev/null, stdout and
# stderr to LOG) in a session of its own; kill it with everything it started
# when LOG has not grown for SECS seconds (it hangs), however long it runs
# while it makes progress.  Returns CMD's status, 124 when killed.
run_progressing() {
	local secs=$1 log=$2 pid size=-1 now last=$SECONDS st=0
	shift 2
	setsid "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	_bg+=("$pid")
	while kill -0 "$pid" 2>/dev/null; do
		now=$(stat -c %s "$log" 2>/dev/null) || now=0
		if [[ $now != "$size" ]]; then
			size=$now last=$SECONDS
		elif ((SECONDS - last >= secs)); then
			echo "run_progressing: no output for ${secs}s from: $*" >>"$log"
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			return 124
		fi
		sleep 0.2
	done
	wait "$pid" || st=$?
	return "$st"
}
# configure_deb DIR: configure the source tree in DIR with $CMAKE as a
# package is built (prefix /usr, no tests; log $T/configure.log); a
# failure ends the test
configure_deb() {
	local st=0
	"$CMAKE" -S "$SDA_SRC" -B "$1" -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF \
		${SDA_CC:+-DCMAKE_C_COMPILER="$SDA_CC"} >"$T/configure.log" 2>&1 || st=$?
	check "configure with -DCMAKE_INSTALL_PREFIX=/usr" test "$st" = 0
	((st == 0)) || { show "$T/configure.log"; finish; }
}
# build_deb DIR CHECK: build the tree configured in DIR with $CMAKE and
# pack it with $CPACK -G DEB (logs $T/build.log, $T/cpack.log); CHECK names
# the check that the package was made, deb is its file.  A failure ends
# the test.
build_deb() {
	local b=$1 st=0 debs
	# (a build is cut off only when it stops printing: see run_progressing)
	run_progressing 300 "$T/build.log" "$CMAKE" --build "$b" -j2 || st=$?
	check "build" test "$st" = 0
	((st == 0)) || { show "$T/build.log"; finish; }
	st=0
	run_progressing 300 "$T/cpack.log" env -C "$b" "$CPACK" -G DEB || st=$?
	debs=("$b"/sdadopt_*.deb)
	check "$2" test "$st" = 0 -a -f "${debs[0]}"
	((st == 0)) && [[ -f ${debs[0]} ]] || { show "$T/cpack.log"; finish; }
	deb=${debs[0]}
}
# status_of COMMAND...: print the exit status
status_of() {
	local st=0
	"$@" || st=$?
	echo "$st"
}
# inode_of_fd PID FD
inode_of_fd() { readlink "/proc/$1/fd/$2" 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p'; }
# until_ok SECONDS COMMAND...: poll
until_ok() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.05
	done
}
# port_listening PORT: a TCP socket listens on PORT (v4 or v6)
port_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v h="$hex" 'FNR > 1 { split($2, a, ":"); if (a[length(a)] == h && $4 == "0A") f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6
}
ipv6_loopback() { grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; }
multiarch() {
	local m
	m=$("${SDA_CC:-cc}" -print-multiarch 2>/dev/null) || true
	[[ -n $m ]] || m=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null) || true
	[[ -n $m ]] || m=x86_64-linux-gnu
	echo "$m"
}
