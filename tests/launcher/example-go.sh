#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/examples/go-server: goserver.socket + goserver.service (ExecStart=
# /usr/bin/sdadopt -- /usr/bin/goserver) pass `systemd-analyze verify` with
# no output, as tests/operator/examples.sh checks the other pairs.  Where
# sdadopt is not installed at /usr/bin/sdadopt, the copy verified runs the
# launcher of this build instead (verify needs ExecStart's binary).
source "$SDA_SRC/tests/operator/lib.sh"
need systemd-analyze
d=$SDA_SRC/docs/examples/go-server
mkdir -p "$T/man/man1" "$T/man/man7" "$T/units"
cp "$SDA_SRC/docs/man/sdadopt.1" "$T/man/man1/"
cp "$SDA_SRC/docs/man/libsdadopt.7" "$T/man/man7/"
check "go-server: one .socket and one .service" \
	test "$(ls "$d" | wc -l)" = 2 -a -f "$d/goserver.socket" -a -f "$d/goserver.service"
check "go-server: ExecStart=/usr/bin/sdadopt -- /usr/bin/goserver" \
	grep -qxF "ExecStart=/usr/bin/sdadopt -- /usr/bin/goserver" "$d/goserver.service"
check "go-server: no Environment=LD_PRELOAD (a Go program cannot load the shim)" eval '! grep -q "^Environment=LD_PRELOAD" "$d/goserver.service"'
check "go-server: ListenStream=8080, the dual-stack [::]:8080 that Go's \":8080\" binds" \
	grep -qxF "ListenStream=8080" "$d/goserver.socket"
check "go-server: Accept=no (the default)" eval '! grep -qiE "^Accept=(yes|true|1)" "$d/goserver.socket"'
cp "$d/goserver.socket" "$d/goserver.service" "$T/units/"
if [[ ! -x /usr/bin/sdadopt ]]; then
	echo "# /usr/bin/sdadopt is not installed: verifying with $SDA_LAUNCHER"
	sed -i "s|^ExecStart=/usr/bin/sdadopt |ExecStart=$SDA_LAUNCHER |" "$T/units/goserver.service"
fi
st=0
(cd "$T/units" && MANPATH="$T/man:/usr/share/man" timeout "$BACKSTOP" systemd-analyze verify --man=yes \
	goserver.socket goserver.service) >"$T/verify" 2>&1 || st=$?
check "go-server: systemd-analyze verify passes" test "$st" = 0
check "go-server: systemd-analyze verify prints nothing" test ! -s "$T/verify"
((fails == 0)) || show "$T/verify"
# the verification is real: a missing ExecStart binary fails it
sed -i "s|^ExecStart=[^ ]* |ExecStart=/usr/bin/sdadopt-no-such-launcher |" "$T/units/goserver.service"
st=0
(cd "$T/units" && MANPATH="$T/man:/usr/share/man" timeout "$BACKSTOP" systemd-analyze verify --man=yes \
	goserver.socket goserver.service) >"$T/neg" 2>&1 || st=$?
check "negative control: a missing ExecStart binary fails verify (not the backstop: 124)" test "$st" != 0 -a "$st" != 124
finish
