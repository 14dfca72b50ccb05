#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Programs that cannot load the shim: statically linked (no PT_INTERP),
# Go (build info), setuid/setgid (secure mode), and scripts run by such an
# interpreter.  The launcher warns (stderr) and runs them; with --strict it
# refuses (70) and runs nothing.  A normal program gets no warning.
source "$(dirname "$0")/lib.sh"
CC=${SDA_CC:-cc}
need "$CC" od grep stat
ma=$(multiarch)
[[ -f /usr/lib/$ma/libc.a || -f /usr/lib/libc.a ]] || { bad "libc.a missing (libc6-dev): cannot build a static program"; finish; }
S=(--shim "$SDA_SHIM")

# The program: creates the argument that ends in /ran, says whether the shim is mapped, exits 5.
cat >"$T/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	char line[512];
	int shim = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, "libsdadopt"))
			shim = 1;
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n > 4 && !strcmp(argv[i] + n - 4, "/ran") && (f = fopen(argv[i], "w")))
			fclose(f);
	}
	printf("shim-mapped=%d\n", shim);
	return 5;
}
C
# The same with Go's build-information marker, as Go linkers write it.
sed 's/^int main/__attribute__((section(".go.buildinfo"), used)) static const char go_buildinfo[32] = "\\xff Go buildinf:\\x08\\x02";\nint main/' \
	"$T/prog.c" >"$T/goprog.c"
"$CC" -O1 -o "$T/dynamic" "$T/prog.c"
"$CC" -O1 -static -o "$T/static" "$T/prog.c"
"$CC" -O1 -static-pie -o "$T/static-pie" "$T/prog.c" 2>/dev/null || cp "$T/static" "$T/static-pie"
"$CC" -O1 -o "$T/go-dynamic" "$T/goprog.c"
"$CC" -O1 -static -o "$T/go-static" "$T/goprog.c"
check "ldd agrees the static program is not dynamic" \
	eval '! ldd "$T/static" >/dev/null 2>&1 || ldd "$T/static" 2>&1 | grep -q "statically linked"'
# setuid/setgid copies owned by another user/group than ours: secure mode
((EUID == 0)) || { bad "run as root: the setuid/setgid copies must belong to nobody/nogroup"; finish; }
nobody_uid=$(id -u nobody) nogroup_gid=$(getent group nogroup | cut -d: -f3)
chmod 755 "$T"
mkdir -m 1777 "$T/m"    # the setuid copy runs as nobody: it writes here
cp "$T/dynamic" "$T/setuid"
chown nobody "$T/setuid"
chmod 4755 "$T/setuid"
cp "$T/dynamic" "$T/setgid"
chgrp "$nogroup_gid" "$T/setgid"
chmod 2755 "$T/setgid"
# scripts whose interpreter is static, directly and through env
printf '#!%s\n' "$T/static" >"$T/script-direct"
printf '#!/usr/bin/env %s\n' "$T/static" >"$T/script-env"
chmod 755 "$T/script-direct" "$T/script-env"

# expect NAME PATTERN [OPTION]: without --strict a warning matching PATTERN,
# the program runs (status 5); with --strict, 70 and the program does not run.
# (Static and Go programs: with --no-seccomp, as the shim alone sees them.)
expect() {
	local name=$1 pat=$2 st
	local -a X=("${S[@]}" "${@:3}")
	rm -f "$T/m/ran"
	st=$(status_of sda "$T/out" "$T/err" "${X[@]}" -- "$T/$name" "$T/m/ran")
	check "$name: warns '$pat'" grep -qE -- "^sdadopt: warning: .*$pat" "$T/err"
	check "$name: runs anyway with its own status (5)" test "$st" = 5 -a -e "$T/m/ran"
	check "$name: says it runs without adoption" has "$T/err" "running $T/$name anyway"
	rm -f "$T/m/ran"
	st=$(status_of sda "$T/out" "$T/err" "${X[@]}" --strict -- "$T/$name" "$T/m/ran")
	check "$name --strict: exit 70" test "$st" = 70
	check "$name --strict: error line" grep -qE -- "^sdadopt: error: .*$pat" "$T/err"
	check "$name --strict: the program did not run" test ! -e "$T/m/ran"
}
expect static "is statically linked: without a dynamic loader" --no-seccomp
expect static-pie "is statically linked" --no-seccomp
expect go-dynamic "is a Go program: Go calls socket\(\), bind\(\) and listen\(\) without libc" --no-seccomp
expect go-static "is a statically linked Go program" --no-seccomp
expect setuid "is setuid \(owner uid $nobody_uid\): it runs in secure mode"
expect setgid "is setgid \(group gid $nogroup_gid\): it runs in secure mode"
expect script-direct "script-direct \(a script run by $T/static\) is statically linked" --no-seccomp
expect script-env "script-env \(a script run by $T/static\) is statically linked" --no-seccomp

# expect_seccomp NAME WHY: without --no-seccomp the launcher runs it in
# seccomp mode (tests/launcher proves the adoption): no warning, it runs,
# also with --strict; --explain says the mode and WHY
expect_seccomp() {
	local name=$1 why=$2 st
	rm -f "$T/m/ran"
	st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --strict -- "$T/$name" "$T/m/ran")
	check "$name: seccomp mode: runs under --strict with its own status (5)" test "$st" = 5 -a -e "$T/m/ran"
	check "$name: seccomp mode: no warning" hasnt "$T/err" "warning"
	st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --explain -- "$T/$name" "$T/m/ran")
	check "$name: --explain names seccomp mode and why" grep -qE -- "explain: mode: .*$why.*: seccomp mode" "$T/err"
}
expect_seccomp static "is statically linked \(no PT_INTERP program header\)"
expect_seccomp static-pie "is statically linked \(no PT_INTERP program header\)"
expect_seccomp go-dynamic "is a Go program \(its \.go\.buildinfo section\)"
expect_seccomp go-static "is a statically linked Go program \(its \.go\.buildinfo section\)"
expect_seccomp script-direct "script-direct \(a script run by $T/static\) is statically linked"

# the warning needs no --explain, and --explain repeats it
P=$(free_port)
sda "$T/out" "$T/err" "${S[@]}" --explain --listen "127.0.0.1:$P" -- "$T/static" || true
check "--explain: the static warning comes before the run" \
	eval 'grep -n "" "$T/err" | grep -m1 -E "statically linked|explain: running" | grep -q "statically linked"'

# what the warnings predict is true: the shim is not in those processes
sda "$T/out" "$T/err" "${S[@]}" -- "$T/dynamic" || true
check "dynamic program: the shim is mapped" has "$T/out" "shim-mapped=1"
check "dynamic program: no warning at all" test ! -s "$T/err"
sda "$T/out" "$T/err" "${S[@]}" -- "$T/static" || true
check "static program: the shim is not mapped" has "$T/out" "shim-mapped=0"
sda "$T/out" "$T/err" "${S[@]}" -- "$T/setuid" || true
check "setuid program: the loader skipped the shim (secure mode)" has "$T/out" "shim-mapped=0"
# a dynamic script interpreter is fine
printf '#!/bin/sh\nexit 0\n' >"$T/script-ok"
chmod 755 "$T/script-ok"
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --strict -- "$T/script-ok")
check "a /bin/sh script: no warning, runs under --strict" test "$st" = 0 -a ! -s "$T/err"
# setuid to ourselves is not secure mode: no warning
cp "$T/dynamic" "$T/setuid-self"
chmod 4755 "$T/setuid-self"
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --strict -- "$T/setuid-self")
check "setuid to our own uid: no warning (no secure mode)" test "$st" = 5 -a ! -s "$T/err"

finish
