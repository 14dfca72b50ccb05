#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The never-adopted report: a server that binds nothing adoptable gets a
# warning when it starts serving (its first accept) and one at exit.
source "$(dirname "$0")/lib.sh"
S=(--shim "$SDA_SHIM")
cat >"$T/server.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
s.setblocking(False)
try:
    s.accept()
except BlockingIOError:
    pass
print("served", flush=True)
PY
P=$(free_port) Q=$(free_port)
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --listen "127.0.0.1:$P" --fdname web -- /usr/bin/python3 "$T/server.py" "$Q")
check "the server ran (status 0)" test "$st:$(cat "$T/out")" = "0:served"
serving="sdadopt: warning: inherited fd 3 \"web\" (tcp 127.0.0.1:$P) was never adopted when the program started serving: no bind() asked for its address (see SDADOPT_MAP, SDADOPT_MATCH=port)"
atexit="sdadopt: warning: inherited fd 3 \"web\" (tcp 127.0.0.1:$P) was never adopted at exit: no bind() asked for its address (see SDADOPT_MAP, SDADOPT_MATCH=port)"
check "one warning at the first accept" test "$(count "$T/err" "$serving")" = 1
check "one warning at exit" test "$(count "$T/err" "$atexit")" = 1
check "the serving warning comes first" \
	test "$(grep -nF "$serving" "$T/err" | cut -d: -f1)" -lt "$(grep -nF "$atexit" "$T/err" | cut -d: -f1)"
check "nothing was adopted" hasnt "$T/err" "adopted inherited"
[[ $fails == 0 ]] || show "$T/err"

# only the socket nobody asked for is reported
R=$(free_port)
sda "$T/out" "$T/err" "${S[@]}" --listen "127.0.0.1:$Q" --listen "127.0.0.1:$R" --fdname used --fdname spare -- \
	/usr/bin/python3 "$T/server.py" "$Q" || true
check "two sockets, one adopted: the adopted one is not reported" hasnt "$T/err" "\"used\" (tcp 127.0.0.1:$Q) was never adopted"
check "two sockets, one adopted: the spare one is, twice" test "$(count "$T/err" "\"spare\" (tcp 127.0.0.1:$R) was never adopted")" = 2

# strict: errors
sda "$T/out" "$T/err" "${S[@]}" --strict --listen "127.0.0.1:$P" --fdname web -- /usr/bin/python3 "$T/server.py" "$Q" || true
check "strict: both reports are errors" test "$(count "$T/err" "sdadopt: error: inherited fd 3 \"web\" (tcp 127.0.0.1:$P) was never adopted")" = 2

finish
