#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lintian on the Debian package: configure a fresh build with the /usr
# prefix, build, `cpack -G DEB`, and run lintian on the .deb with every tag
# down to info and pedantic shown.  Any tag fails.  A tag the package
# overrides (cmake/debian/lintian-overrides, each with its reason) is listed;
# an override that no longer matches anything is itself a tag.
# Without lintian the test is skipped (77), the only tool it may miss.
source "$(dirname "$0")/lib.sh"
if ! command -v lintian >/dev/null 2>&1; then
	echo "skip - lintian is not installed (scripts/setup installs it)"
	exit 77
fi
need dpkg-deb gzip
CMAKE=${SDA_CMAKE:-cmake}
CPACK=${SDA_CPACK:-cpack}
need "$CMAKE" "$CPACK"
B=$T/build

configure_deb "$B"
check "configure warns about nothing" hasnt "$T/configure.log" "CMake Warning"
has "$T/configure.log" "CMake Warning" && show "$T/configure.log"
build_deb "$B" "cpack -G DEB makes a .deb"

# --no-cfg: no lintianrc of this machine's users changes what is shown.
# Tag lines are "X: sdadopt...: tag [context]", N: lines notes.  A tag the
# package overrides is neither shown nor counted by --fail-on (so no
# --show-overrides, which would count it); an unused override is an I: tag.
st=0
timeout 600 lintian --no-cfg --display-info --pedantic --tag-display-limit 0 \
	--fail-on error,warning,info,pedantic \
	"$deb" >"$T/lintian.out" 2>"$T/lintian.err" || st=$?
grep -vE '^N: |^N:$' "$T/lintian.out" >"$T/tags" || true
# status 1 is lintian's own run-time error, 2 a tag --fail-on names
check "lintian ran (status $st: 0 or 2, not 1, a lintian error)" test "$st" = 0 -o "$st" = 2
[[ $st == 1 ]] && show "$T/lintian.err"
check "lintian reports no tag (errors, warnings, info, pedantic)" test ! -s "$T/tags"
[[ -s $T/tags ]] && sed 's/^/# /' "$T/tags"
check "lintian's exit status says so too" test "$st" = 0

R=$T/root
dpkg-deb -x "$deb" "$R"
ovr=$R/usr/share/lintian/overrides/sdadopt
[[ -f $ovr ]] && sed -n 's/^sdadopt: \([^ ]*\).*/# overridden: \1 (the reason: cmake\/debian\/lintian-overrides)/p' "$ovr"

# the latest Debian changelog entry is this package's version
version=$(dpkg-deb -f "$deb" Version)
top=$(gzip -dc "$R/usr/share/doc/sdadopt/changelog.Debian.gz" 2>/dev/null | sed -n '1s/^sdadopt (\([^)]*\)) .*/\1/p') || true
check "changelog.Debian.gz: the latest entry is version $version (got '${top}')" test "$top" = "$version"

finish
