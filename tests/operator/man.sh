#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man pages render with man(1) and groff without a warning, and list
# every variable with its default, every launcher option and exit status.
source "$(dirname "$0")/lib.sh"
need man groff
M1=$SDA_SRC/docs/man/sdadopt.1
M7=$SDA_SRC/docs/man/libsdadopt.7

for page in "$M1" "$M7"; do
	n=${page##*/}
	check "$n exists" test -s "$page"
	MANWIDTH=80 man --warnings -l "$page" >"$T/$n.txt" 2>"$T/$n.err" || true
	check "$n: man --warnings -l prints no warning" test ! -s "$T/$n.err"
	[[ -s $T/$n.err ]] && show "$T/$n.err"
	groff -man -ww -z "$page" 2>"$T/$n.groff" || true
	check "$n: groff -man -ww -z prints no warning" test ! -s "$T/$n.groff"
	[[ -s $T/$n.groff ]] && show "$T/$n.groff"
	check "$n: renders to text" test "$(wc -l <"$T/$n.txt")" -gt 50
	# every variable, in the rendered text
	for v in LISTEN_PID LISTEN_FDS LISTEN_FDNAMES LISTEN_PIDFDID SDADOPT_LOG SDADOPT_MAP SDADOPT_MATCH SDADOPT_STRICT; do
		check "$n lists $v" has "$T/$n.txt" "$v"
	done
done

# the defaults, in the ENVIRONMENT sections
for n in sdadopt.1 libsdadopt.7; do
	sed -n '/^ENVIRONMENT/,/^[A-Z][A-Z ]*$/p' "$T/$n.txt" | sed '$d' | tr -s ' \n' ' ' >"$T/$n.env"
	check "$n: SDADOPT_LOG default info" grep -qE 'SDADOPT_LOG .*Default: info' "$T/$n.env"
	check "$n: SDADOPT_MAP default empty" grep -qE 'SDADOPT_MAP .*Default: empty' "$T/$n.env"
	check "$n: SDADOPT_MATCH default exact" grep -qE 'SDADOPT_MATCH .*Default: exact' "$T/$n.env"
	check "$n: SDADOPT_STRICT default off" grep -qE 'SDADOPT_STRICT .*Default: off' "$T/$n.env"
	check "$n: LISTEN_* default unset" grep -qE 'LISTEN_PIDFDID[ ,].*Default: unset' "$T/$n.env"
done
check "sdadopt.1: SDADOPT_SHIM documented" has "$T/sdadopt.1.txt" "SDADOPT_SHIM"

# every option the launcher's --help lists is in sdadopt(1), and the reverse
"$SDA_LAUNCHER" --help >"$T/help"
sed -n '/^Options:/,/^Before running/p' "$T/help" | grep -oE -- '(^|[ ,])--[a-z][a-z-]+' | sed 's/^[ ,]//' | sort -u >"$T/help.opts"
grep -oE -- '(^|[ [|])--[a-z][a-z-]+' "$T/sdadopt.1.txt" | sed 's/^[ [|]//' | sort -u >"$T/man.opts"
missing=$(comm -23 "$T/help.opts" "$T/man.opts" | tr '\n' ' ')
check "every --help option is in sdadopt(1)${missing:+ (missing: $missing)}" test -z "$missing"
sed -n '/^OPTIONS/,/^ENVIRONMENT/p' "$T/sdadopt.1.txt" | grep -oE '^       -[-a-z, ]+' | grep -oE -- '--[a-z-]+' | sort -u >"$T/man.described"
missing=$(comm -23 "$T/help.opts" "$T/man.described" | tr '\n' ' ')
check "every option has an entry in OPTIONS${missing:+ (missing: $missing)}" test -z "$missing"
extra=$(comm -13 "$T/help.opts" "$T/man.described" | tr '\n' ' ')
check "OPTIONS describes no option --help lacks${extra:+ (extra: $extra)}" test -z "$extra"

# the exit statuses, in the EXIT STATUS section, as in --help
sed -n '/^EXIT STATUS/,/^LIMITS/p' "$T/sdadopt.1.txt" >"$T/exit"
for code in 64 69 70 71 126 127; do
	check "sdadopt.1 EXIT STATUS has $code" grep -qE "^       $code " "$T/exit"
	check "--help has $code too" grep -qE "^  $code " "$T/help"
done
check "sdadopt.1 says the program's own status is the launcher's" grep -q "its own exit status" "$T/exit"
tr -s ' \n' ' ' <"$T/sdadopt.1.txt" >"$T/sdadopt.1.flat"
check "sdadopt.1 LIMITS: static, Go, setuid" \
	eval 'has "$T/sdadopt.1.flat" "statically linked" && has "$T/sdadopt.1.flat" "A Go program" && has "$T/sdadopt.1.flat" "setuid"'
check "sdadopt.1 says systemd-socket-activate waits for the first connection" \
	has "$T/sdadopt.1.flat" "waits for the first connection"

finish
