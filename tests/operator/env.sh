#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the launcher sets for the program: LD_PRELOAD (shim first, the rest
# kept, no second copy of the shim), SDADOPT_MAP/LOG/MATCH/STRICT.
source "$(dirname "$0")/lib.sh"
shim=$(readlink -f "$SDA_SHIM")
ma=$(multiarch)
# two real libraries, so the loader prints nothing
libm=$(ls /lib/"$ma"/libm.so.6 /usr/lib/"$ma"/libm.so.6 2>/dev/null | head -n1)
libdl=$(ls /lib/"$ma"/libdl.so.2 /usr/lib/"$ma"/libdl.so.2 2>/dev/null | head -n1)
[[ -n $libm && -n $libdl ]] || { bad "libm.so.6 / libdl.so.2 not found under $ma"; finish; }

progenv() { # progenv OUT ERR ARG... -- runs printenv-like listing
	local out=$1 err=$2
	shift 2
	sda "$out" "$err" "$@" -- sh -c 'for v in LD_PRELOAD SDADOPT_MAP SDADOPT_LOG SDADOPT_MATCH SDADOPT_STRICT; do eval "printf \"%s=%s\n\" $v \"\${$v-<unset>}\""; done'
}
val() { sed -n "s/^$1=//p" "$T/out"; }

# nothing set before: the shim alone, the SDADOPT_* untouched
(unset LD_PRELOAD SDADOPT_MAP SDADOPT_LOG SDADOPT_MATCH SDADOPT_STRICT
 progenv "$T/out" "$T/err" --shim "$SDA_SHIM") || true
check "LD_PRELOAD is the shim (absolute path) when it was empty" test "$(val LD_PRELOAD)" = "$shim"
for v in SDADOPT_MAP SDADOPT_LOG SDADOPT_MATCH SDADOPT_STRICT; do
	check "$v stays unset without its option" test "$(val $v)" = "<unset>"
done

# kept entries, in order, after the shim; separators ' ' and ':'
(export LD_PRELOAD="$libm $libdl"; progenv "$T/out" "$T/err" --shim "$SDA_SHIM") || true
check "existing LD_PRELOAD entries are kept after the shim" test "$(val LD_PRELOAD)" = "$shim:$libm:$libdl"
check "the loader complained about nothing" test ! -s "$T/err"
(export LD_PRELOAD="$libm:$shim:$libdl"; progenv "$T/out" "$T/err" --shim "$SDA_SHIM") || true
check "the shim already in LD_PRELOAD is not there twice" test "$(val LD_PRELOAD)" = "$shim:$libm:$libdl"
cp "$SDA_SHIM" "$T/libsdadopt.so"
(export LD_PRELOAD="$T/libsdadopt.so:$libm"; progenv "$T/out" "$T/err" --shim "$SDA_SHIM") || true
check "another copy of libsdadopt.so is dropped" test "$(val LD_PRELOAD)" = "$shim:$libm"
# a sanitizer runtime stays first (it must be the first object loaded)
(export LD_PRELOAD="/nonexistent/libasan.so.8 $libm"; progenv "$T/out" "$T/err" --shim "$SDA_SHIM") || true
check "a sanitizer runtime keeps the first place" test "$(val LD_PRELOAD)" = "/nonexistent/libasan.so.8:$shim:$libm"
# --shim with a relative path and a symlink: absolute, canonical
ln -s "$SDA_SHIM" "$T/link.so"
(cd "$T" && unset LD_PRELOAD && progenv "$T/out" "$T/err" --shim ./link.so) || true
check "--shim ./link.so becomes the canonical absolute path" test "$(val LD_PRELOAD)" = "$shim"
(unset LD_PRELOAD; export SDADOPT_SHIM=$SDA_SHIM; progenv "$T/out" "$T/err") || true
check "SDADOPT_SHIM is used without --shim" test "$(val LD_PRELOAD)" = "$shim"

# the options set the variables
(unset SDADOPT_MAP SDADOPT_LOG SDADOPT_MATCH SDADOPT_STRICT
 progenv "$T/out" "$T/err" --shim "$SDA_SHIM" --map 127.0.0.1:80=web --map '[::1]:443=tls,/run/a.sock=admin' \
	--log warning --match port --strict) || true
check "--map (twice) joins into SDADOPT_MAP" test "$(val SDADOPT_MAP)" = "127.0.0.1:80=web,[::1]:443=tls,/run/a.sock=admin"
check "--log sets SDADOPT_LOG" test "$(val SDADOPT_LOG)" = warning
check "--match sets SDADOPT_MATCH" test "$(val SDADOPT_MATCH)" = port
check "--strict sets SDADOPT_STRICT=1" test "$(val SDADOPT_STRICT)" = 1
# options override what the environment had; without options it passes through
(export SDADOPT_LOG=debug SDADOPT_MATCH=exact; progenv "$T/out" "$T/err" --shim "$SDA_SHIM" --log error) || true
check "--log overrides SDADOPT_LOG from the environment" test "$(val SDADOPT_LOG)" = error
check "SDADOPT_MATCH from the environment passes through" test "$(val SDADOPT_MATCH)" = exact
# other variables untouched
(export SDADOPT_OP_MARK='a b:c'; sda "$T/out" "$T/err" --shim "$SDA_SHIM" -- sh -c 'printf "%s\n" "$SDADOPT_OP_MARK"') || true
check "other environment variables pass unchanged" test "$(cat "$T/out")" = "a b:c"

# the shim is really loaded into the program
sda "$T/out" "$T/err" --shim "$SDA_SHIM" -- cat /proc/self/maps || true
check "the program has the shim mapped" has "$T/out" "$shim"

finish
