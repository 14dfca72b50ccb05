#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package: configure a fresh build with the /usr prefix (so
# GNUInstallDirs gives the multiarch libdir), build, `cpack -G DEB`, check
# the package's contents and fields, unpack it with dpkg -x into a temp root
# and run the demo from there: the installed launcher adopts a socket.
source "$(dirname "$0")/lib.sh"
need dpkg-deb gzip groff curl
CMAKE=${SDA_CMAKE:-cmake}
CPACK=${SDA_CPACK:-cpack}
need "$CMAKE" "$CPACK"
ma=$(multiarch)
B=$T/build

configure_deb "$B"
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$B/CMakeCache.txt")
check "CMAKE_INSTALL_LIBDIR is the multiarch lib/$ma" test "$libdir" = "lib/$ma"
build_deb "$B" "cpack -G DEB makes sdadopt_VERSION_ARCH.deb"
check "the file name carries version $SDA_VERSION" test "${deb##*/sdadopt_$SDA_VERSION}" != "$deb"

# fields
f() { dpkg-deb -f "$deb" "$1"; }
check "Package: sdadopt" test "$(f Package)" = sdadopt
check "Version: $SDA_VERSION-REVISION (not a native package)" grep -qxE "$SDA_VERSION-[0-9]+" <<<"$(f Version)"
check "Depends on libc6" grep -qE '^libc6( |,|$)' <<<"$(f Depends)"
check "Section: net" test "$(f Section)" = net
check "a Maintainer" grep -qE '.+ <.+@.+>' <<<"$(f Maintainer)"
check "a Description" test -n "$(f Description)"
check "Architecture is dpkg's" test "$(f Architecture)" = "$(dpkg --print-architecture)"

# contents
dpkg-deb -c "$deb" | awk '{print $1, $NF}' >"$T/contents"
present() { grep -qE "^$1 \\./$2\$" "$T/contents"; }
check "the shim: usr/lib/$ma/sdadopt/libsdadopt.so" present '-rw-r--r--' "usr/lib/$ma/sdadopt/libsdadopt\\.so"
check "no shared object directly in a library directory (the shim has no SONAME)" \
	eval '! grep -qE " \./usr/lib/([^/]+-linux-gnu[^/]*/)?[^/]+\.so(\.[0-9.]+)?$" "$T/contents"'
check "the launcher: usr/bin/sdadopt, executable" present '-rwxr-xr-x' 'usr/bin/sdadopt'
check "man page usr/share/man/man1/sdadopt.1.gz" present '-rw-r--r--' 'usr/share/man/man1/sdadopt\.1\.gz'
check "man page usr/share/man/man7/libsdadopt.7.gz" present '-rw-r--r--' 'usr/share/man/man7/libsdadopt\.7\.gz'
for ex in nginx/nginx redis/redis-server memcached/memcached python-http/python-http; do
	for suf in socket service; do
		check "example $ex.$suf" present '-rw-r--r--' "usr/share/doc/sdadopt/examples/$ex\\.$suf"
	done
done
for doc in guide.md troubleshooting.md README.md copyright changelog.Debian.gz; do
	check "doc usr/share/doc/sdadopt/$doc" present '-rw-r--r--' "usr/share/doc/sdadopt/$doc"
done
check "lintian overrides usr/share/lintian/overrides/sdadopt" present '-rw-r--r--' 'usr/share/lintian/overrides/sdadopt'
check "nothing outside usr/" eval '! grep -vE " \./(usr(/.*)?)?$" "$T/contents"'
check "no test helper or fuzz binary packaged" eval '! grep -qE "sda-(activate|testserver)|fuzz" "$T/contents"'

# unpack and use it from there
R=$T/root
dpkg-deb -x "$deb" "$R"
L=$R/usr/bin/sdadopt
check "the launcher has the installed shim path in it" grep -aqF "/usr/lib/$ma/sdadopt/libsdadopt.so" "$L"
check "no placeholder left in the launcher" eval '! grep -qE "@SDADOPT_[A-Z_]+@" "$L"'
check "installed --version: sdadopt $SDA_VERSION" test "$("$L" --version)" = "sdadopt $SDA_VERSION"
"$L" --help >"$T/help" 2>&1 || true
check "installed --help works" has "$T/help" "Usage: sdadopt"
for page in man1/sdadopt.1 man7/libsdadopt.7; do
	gzip -dc "$R/usr/share/man/$page.gz" >"$T/page"
	check "installed $page.gz is the tree's page" cmp -s "$T/page" "$SDA_SRC/docs/man/${page#*/}"
	groff -man -ww -z "$T/page" 2>"$T/groff" || true
	check "installed $page.gz renders without warnings" test ! -s "$T/groff"
done

# the demo from the installed paths: the launcher (with --shim pointing
# into the root) runs http.server on an adopted socket; curl gets a page
mkdir -p "$T/www"
echo "hello from the installed sdadopt" >"$T/www/index.html"
for _ in 1 2 3; do
	P=$(free_port)
	: >"$T/demo.err"
	"$L" --shim "$R/usr/lib/$ma/sdadopt/libsdadopt.so" --listen "127.0.0.1:$P" --fdname web -- \
		/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$P" \
		>"$T/demo.out" 2>"$T/demo.err" </dev/null &
	pid=$!
	_bg+=("$pid")
	if until_ok 60 eval 'has "$T/demo.err" "adopted inherited fd 3" || ! kill -0 $pid 2>/dev/null'; then
		has "$T/demo.err" "adopted inherited fd 3" && break
	fi
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
check "demo: http.server adopted the socket (the shim's line)" \
	has "$T/demo.err" "adopted inherited fd 3 \"web\" (tcp 127.0.0.1:$P)"
if kill -0 "$pid" 2>/dev/null; then
	body=$(curl -s --max-time 60 "http://127.0.0.1:$P/") || true
	check "demo: curl gets the page through the adopted socket" test "$body" = "hello from the installed sdadopt"
	ino3=$(inode_of_fd "$pid" 3)
	found=0
	for fd in /proc/$pid/fd/*; do
		n=${fd##*/}
		[[ $n != 3 && -n $ino3 && $(inode_of_fd "$pid" "$n") == "$ino3" ]] && found=1
	done
	check "demo: the server's listening fd is inherited fd 3 (same inode)" test "$found" = 1
	check "demo: the shim mapped is the one from the package" grep -qF "$R/usr/lib/$ma/sdadopt/libsdadopt.so" "/proc/$pid/maps"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
else
	bad "demo: the server is not running"
	show "$T/demo.err"
fi
# without --shim, the unpacked launcher takes the shim beside it
P=$(free_port)
(unset SDADOPT_SHIM; "$L" --explain --listen "127.0.0.1:$P" -- "$SDA_TESTSERVER" bind "tcp:127.0.0.1:$P") \
	>"$T/out" 2>"$T/err" </dev/null || true
check "unpacked launcher, no --shim: preloads the shim of its own tree" \
	has "$T/err" "sdadopt: explain: LD_PRELOAD=$(readlink -f "$R/usr/lib/$ma/sdadopt/libsdadopt.so")"
check "... and adopts" has "$T/err" "for bind(127.0.0.1:$P) [exact]"

finish
