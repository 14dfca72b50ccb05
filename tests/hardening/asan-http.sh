#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real server under the ASan+UBSan shim: systemd-socket-activate starts
# /usr/bin/python3 -m http.server with LD_PRELOAD="libasan <asan shim>"; the
# test fetches a page through the inherited socket, stops the server with
# SIGINT (a clean exit, so LeakSanitizer runs) and checks that the shim
# adopted the socket and that no sanitizer report names the shim (python
# itself leaks at exit: leak reports without a shim frame are ignored; every
# other ASan or UBSan report fails the test).
#
#   bash asan-http.sh ASAN_SHIM LIBASAN
set -euo pipefail
shim=${1:?usage: asan-http.sh ASAN_SHIM LIBASAN}
libasan=${2:?usage: asan-http.sh ASAN_SHIM LIBASAN}
py=/usr/bin/python3
for t in systemd-socket-activate "$py" timeout; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
shim=$(readlink -f "$shim")
libasan=$(readlink -f "$libasan")
[[ -f $shim ]] || { echo "FAIL: no shim at $shim" >&2; exit 1; }
[[ -f $libasan ]] || { echo "FAIL: no sanitizer runtime at $libasan" >&2; exit 1; }

work=$(mktemp -d /tmp/sdadopt-asan-http.XXXXXX)
pid=
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
echo "hello from sdadopt" >"$work/index.txt"

# try a few random ports: another test may hold one
for attempt in 1 2 3 4 5 6 7 8; do
	port=$((20000 + RANDOM % 30000))
	(cd "$work" && exec systemd-socket-activate -l "127.0.0.1:$port" \
		-E LD_PRELOAD="$libasan $shim" \
		-E ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1 \
		-E UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		-- "$py" -m http.server --bind 127.0.0.1 "$port") >"$work/out" 2>"$work/err" &
	pid=$!
	# until it listens or dies (a port taken); 60 s is a backstop for a hang
	end=$((SECONDS + 60))
	while ((SECONDS < end)); do
		grep -q "Listening on" "$work/err" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "Listening on" "$work/err" && break
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
done
[[ -n $pid ]] || { echo "FAIL: systemd-socket-activate did not start" >&2; cat "$work/err" >&2; exit 1; }

body=$(timeout 60 "$py" - "$port" <<'PY'
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/index.txt" % sys.argv[1], timeout=50) as r:
    print(r.status, r.read().decode().strip())
PY
) || { echo "FAIL: the request failed" >&2; cat "$work/err" >&2; exit 1; }
[[ $body == "200 hello from sdadopt" ]] || { echo "FAIL: got '$body'" >&2; exit 1; }

kill -INT "$pid"
# (its exit runs LeakSanitizer over python: seconds; 120 s is a backstop)
end=$((SECONDS + 120))
while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "FAIL: the server did not exit on SIGINT (120 s)" >&2; exit 1; fi
wait "$pid" || true
pid=

fail=0
grep -q "sdadopt: info: adopted inherited fd 3" "$work/err" ||
	{ echo "FAIL: the shim did not adopt the socket" >&2; fail=1; }
if grep -E "ERROR: AddressSanitizer|runtime error:" "$work/err" >&2; then
	echo "FAIL: sanitizer report" >&2
	fail=1
fi
# leak reports: one block per leak, separated by blank lines
if awk -v RS= '/(Direct|Indirect) leak/ && /sdadopt|\/shim\/|\/core\//' "$work/err" | grep . >&2; then
	echo "FAIL: a leak with the shim on its stack" >&2
	fail=1
fi
if ((fail)); then
	sed -n '1,200p' "$work/err" >&2
	exit 1
fi
echo "PASS: python3 http.server served through the ASan shim on port $port, no shim report" \
	"($(grep -c 'leak of' "$work/err" || true) python leak reports ignored)"
