#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/examples/{nginx,redis,memcached,python-http}: one .socket and one
# .service each, preloading the packaged shim, running real Debian binaries,
# and passing `systemd-analyze verify` with no output.  A missing binary is a
# failure (scripts/setup installs nginx, redis-server, memcached).
source "$(dirname "$0")/lib.sh"
need systemd-analyze
ma=$(multiarch)
E=$SDA_SRC/docs/examples
# Documentation=man:libsdadopt(7) must resolve: the pages from the tree
mkdir -p "$T/man/man1" "$T/man/man7"
cp "$SDA_SRC/docs/man/sdadopt.1" "$T/man/man1/"
cp "$SDA_SRC/docs/man/libsdadopt.7" "$T/man/man7/"

for ex in nginx redis memcached python-http; do
	d=$E/$ex
	sockets=("$d"/*.socket) services=("$d"/*.service)
	if [[ ! -d $d || ${#sockets[@]} != 1 || ${#services[@]} != 1 || ! -f ${sockets[0]} || ! -f ${services[0]} ]]; then
		bad "$ex: one .socket and one .service"
		continue
	fi
	ok "$ex: one .socket and one .service"
	sock=${sockets[0]} svc=${services[0]}
	check "$ex: NAME.socket pairs with NAME.service" test "$(basename "$sock" .socket)" = "$(basename "$svc" .service)"
	check "$ex: the service preloads /usr/lib/$ma/sdadopt/libsdadopt.so" \
		grep -qxF "Environment=LD_PRELOAD=/usr/lib/$ma/sdadopt/libsdadopt.so" "$svc"
	check "$ex: the socket listens somewhere" grep -qE '^Listen(Stream|Datagram|SequentialPacket)=' "$sock"
	check "$ex: Accept=no (the default)" eval '! grep -qiE "^Accept=(yes|true|1)" "$sock"'
	# every Exec line's binary exists: verify needs them, and a missing one fails here
	while IFS= read -r line; do
		bin=${line#*=}
		bin=${bin#[-@:+!]}
		bin=${bin#[-@:+!]}
		bin=${bin%% *}
		check "$ex: $bin exists and is executable" test -x "$bin"
	done < <(grep -E '^Exec(Start|StartPre|StartPost|Reload|Stop)=' "$svc")
	# Documentation=man:...: ours from the tree; a distribution page that
	# this machine lacks (an image without /usr/share/man) is not the
	# example's fault: then verify everything but the man pages
	manopt=--man=yes
	for m in $(grep -hoE 'man:[^ ]+\([0-9]\)' "$sock" "$svc" | sort -u); do
		m=${m#man:}
		MANPATH="$T/man:/usr/share/man" man -w "${m%(*}" >/dev/null 2>&1 && continue
		echo "# $ex: man page $m is not installed here: systemd-analyze verify --man=no"
		manopt=--man=no
	done
	st=0
	(cd "$d" && MANPATH="$T/man:/usr/share/man" timeout "$BACKSTOP" systemd-analyze verify "$manopt" "$(basename "$sock")" "$(basename "$svc")") \
		>"$T/$ex.verify" 2>&1 || st=$?
	check "$ex: systemd-analyze verify passes" test "$st" = 0
	check "$ex: systemd-analyze verify prints nothing" test ! -s "$T/$ex.verify"
	[[ $st == 0 && ! -s $T/$ex.verify ]] || show "$T/$ex.verify"
done

# the verification is real: a missing binary fails it
mkdir -p "$T/neg"
printf '[Socket]\nListenStream=127.0.0.1:9\n' >"$T/neg/neg.socket"
printf '[Service]\nEnvironment=LD_PRELOAD=/usr/lib/%s/sdadopt/libsdadopt.so\nExecStart=/usr/sbin/sdadopt-no-such-daemon\n' "$ma" >"$T/neg/neg.service"
st=0
(cd "$T/neg" && timeout "$BACKSTOP" systemd-analyze verify neg.socket neg.service) >"$T/neg.out" 2>&1 || st=$?
check "negative control: a missing ExecStart binary fails verify (not the backstop: 124)" test "$st" != 0 -a "$st" != 124

finish
