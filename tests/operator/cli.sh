#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The launcher's command line: --help, --version, usage errors (64), shim
# not found (69), command not found (127) or not executable (126), and the
# program's own exit status.
source "$(dirname "$0")/lib.sh"
S=(--shim "$SDA_SHIM")

# --help: usage on stdout, status 0, every exit code documented
st=$(status_of sda "$T/out" "$T/err" --help)
check "--help exits 0" test "$st" = 0
check "--help prints usage on stdout" has "$T/out" "Usage: sdadopt [OPTION]... [--] COMMAND [ARG]..."
check "--help writes nothing on stderr" test ! -s "$T/err"
for code in 64 69 70 71 126 127; do
	check "--help documents exit status $code" grep -qE "^  $code " "$T/out"
done
for opt in --map --log --match --strict --listen --datagram --seqpacket --fdname --activator --explain --run-for --shim --help --version; do
	check "--help lists $opt" grep -qE -- "(^|[ ,])$opt( |,|=|$)" "$T/out"
done
st=$(status_of sda "$T/out" "$T/err" -h)
check "-h exits 0 with usage" eval 'test "$st" = 0 && has "$T/out" Usage:'

# --version
st=$(status_of sda "$T/out" "$T/err" --version)
check "--version exits 0" test "$st" = 0
check "--version prints 'sdadopt $SDA_VERSION'" test "$(cat "$T/out")" = "sdadopt $SDA_VERSION"

# usage errors: 64, a message on stderr, nothing run
usage64() { # usage64 DESCRIPTION ARG...
	local d=$1 st
	shift
	rm -f "$T/ran"
	st=$(status_of sda "$T/out" "$T/err" "${S[@]}" "$@")
	if [[ $st == 64 && -s $T/err && ! -e $T/ran ]]; then ok "$d -> 64"; else
		bad "$d -> 64 (got $st)"
		show "$T/err"
	fi
}
usage64 "unknown option" --bogus -- touch "$T/ran"
usage64 "unknown short option" -x -- touch "$T/ran"
usage64 "no command" --strict
usage64 "no command after --" --
usage64 "--map without a value" --map
usage64 "--log with a bad level" --log loud -- touch "$T/ran"
usage64 "--match with a bad policy" --match fuzzy -- touch "$T/ran"
usage64 "--activator with a bad name" --activator inetd -- touch "$T/ran"
usage64 "--listen with a host name" --listen localhost:80 -- touch "$T/ran"
usage64 "--listen with port 0" --listen 127.0.0.1:0 -- touch "$T/ran"
usage64 "--listen with port 70000" --listen 70000 -- touch "$T/ran"
usage64 "--fdname with a colon" --listen 127.0.0.1:9 --fdname a:b -- touch "$T/ran"
usage64 "--fdname without --listen" --fdname web -- touch "$T/ran"
usage64 "more --fdname than --listen" --listen 127.0.0.1:9 --fdname a --fdname b -- touch "$T/ran"
usage64 "--datagram without --listen" --datagram -- touch "$T/ran"
usage64 "--seqpacket on an IP address" --seqpacket --listen 127.0.0.1:9 -- touch "$T/ran"
usage64 "--run-for without --explain" --run-for 1 -- touch "$T/ran"
usage64 "--run-for not a number" --explain --run-for soon -- touch "$T/ran"
usage64 "--strict with a value" --strict=1 -- touch "$T/ran"
check "a usage error says 'Try sdadopt --help'" has "$T/err" "Try 'sdadopt --help'"

# the shim not found: 69
st=$(status_of sda "$T/out" "$T/err" --shim "$T/nonexistent.so" -- touch "$T/ran")
check "--shim to a missing file -> 69" test "$st" = 69
check "... names the path" has "$T/err" "$T/nonexistent.so"
check "... and runs nothing" test ! -e "$T/ran"
st=$(SDADOPT_SHIM=$T/none.so status_of sda "$T/out" "$T/err" -- touch "$T/ran")
check "SDADOPT_SHIM to a missing file -> 69" test "$st" = 69
check "... names SDADOPT_SHIM" has "$T/err" "SDADOPT_SHIM=$T/none.so"
# a launcher copied away from any build or install finds no shim
mkdir -p "$T/lonely/launcher"
cp "$SDA_LAUNCHER" "$T/lonely/launcher/sdadopt"
st=0
(unset SDADOPT_SHIM; timeout "$BACKSTOP" "$T/lonely/launcher/sdadopt" -- true) >"$T/out" 2>"$T/err" || st=$?
check "no shim anywhere -> 69" test "$st" = 69
check "... suggests --shim" has "$T/err" "--shim"
# the build tree's default: BUILD/launcher/sdadopt preloads BUILD/shim/libsdadopt.so
mkdir -p "$T/lonely/shim"
cp "$SDA_SHIM" "$T/lonely/shim/libsdadopt.so"
st=0
(unset SDADOPT_SHIM; timeout "$BACKSTOP" "$T/lonely/launcher/sdadopt" -- sh -c 'echo "$LD_PRELOAD"') >"$T/out" 2>"$T/err" || st=$?
check "build tree: ../shim/libsdadopt.so is the default" \
	test "$st:$(cat "$T/out")" = "0:$T/lonely/shim/libsdadopt.so"

# command not found / not executable
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" -- sdadopt-no-such-command-$$)
check "command not found -> 127" test "$st" = 127
check "... says so" has "$T/err" "command not found"
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" -- "$T/no/such/file")
check "missing path -> 127" test "$st" = 127
printf 'plain text\n' >"$T/notexec"
chmod 644 "$T/notexec"
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" -- "$T/notexec")
check "not executable -> 126" test "$st" = 126
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" -- "$T")
check "a directory -> 126" test "$st" = 126

# the program's own status, stdout and arguments pass through
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" -- sh -c 'printf "%s|" "$@"; exit 42' sh a 'b c' '')
check "the program's exit status (42) is the launcher's" test "$st" = 42
check "arguments pass unchanged" test "$(cat "$T/out")" = "a|b c||"
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" sh -c 'exit 7')
check "COMMAND without -- works too" test "$st" = 7
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --log=debug --match=port -- sh -c 'echo "$SDADOPT_LOG $SDADOPT_MATCH"')
check "--opt=value form" test "$st:$(cat "$T/out")" = "0:debug port"
# in place: the program has the launcher's pid (what LISTEN_PID needs)
timeout "$BACKSTOP" bash -c 'echo $$ >"$1"; exec "$2" --shim "$3" -- sh -c "echo \$\$ >\"\$1\"" sh "$4"' \
	x "$T/p1" "$SDA_LAUNCHER" "$SDA_SHIM" "$T/p2" </dev/null >/dev/null 2>&1 || true
check "exec keeps the pid of the launcher" test -s "$T/p1" -a "$(cat "$T/p1")" = "$(cat "$T/p2" 2>/dev/null)"

finish
