#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SDADOPT_STRICT (--strict): a bind of an inherited port on another address
# or family fails with EADDRINUSE and the error line; without it, the same
# bind succeeds natively.  Never-adopted sockets become errors.
source "$(dirname "$0")/lib.sh"
TS=$SDA_TESTSERVER
S=(--shim "$SDA_SHIM")
ipv6_loopback || { bad "no IPv6 loopback (::1): the test binds [::1] and 127.0.0.1 on one port"; finish; }

P=$(free_port)
# without strict: the IPv4 bind is native (another family, no conflict)
sda "$T/out" "$T/err" "${S[@]}" --listen "[::1]:$P" -- "$TS" bind "tcp:127.0.0.1:$P" || true
check "not strict: bind(127.0.0.1:P) next to inherited [::1]:P succeeds natively" has "$T/out" "bound fd="
check "not strict: no error line" hasnt "$T/err" "would bypass"
check "not strict: never adopted is a warning" has "$T/err" "sdadopt: warning: inherited fd 3 \"unknown\" (tcp [::1]:$P) was never adopted at exit"

# strict: EADDRINUSE and the error line
sda "$T/out" "$T/err" "${S[@]}" --strict --listen "[::1]:$P" --fdname web -- "$TS" bind "tcp:127.0.0.1:$P" || true
check "strict: the bind fails with EADDRINUSE" has "$T/out" "bind-error err=EADDRINUSE"
check "strict: the error line" \
	grep -qE "sdadopt: error: bind\([0-9]+, 127\.0\.0\.1:$P\) would bypass inherited fd 3 \"web\" \(tcp \[::1\]:$P\); failing it with EADDRINUSE \(SDADOPT_STRICT\)" "$T/err"
check "strict: exactly one error line for one bind" test "$(count "$T/err" "would bypass")" = 1
check "strict: never adopted is an error" has "$T/err" "sdadopt: error: inherited fd 3 \"web\" (tcp [::1]:$P) was never adopted at exit"

# strict through the variable alone, and another address of the same family
Q=$(free_port)
(export SDADOPT_STRICT=yes
 sda "$T/out" "$T/err" "${S[@]}" --listen "127.0.0.2:$Q" -- "$TS" bind "tcp:127.0.0.1:$Q") || true
check "SDADOPT_STRICT=yes: 127.0.0.1:Q next to inherited 127.0.0.2:Q fails" has "$T/out" "bind-error err=EADDRINUSE"
check "SDADOPT_STRICT=yes: the error line" has "$T/err" "would bypass inherited fd 3 \"unknown\" (tcp 127.0.0.2:$Q)"

# strict does not touch what matches, nor other ports
R=$(free_port)
sda "$T/out" "$T/err" "${S[@]}" --strict --listen "127.0.0.1:$P" -- \
	"$TS" bind "tcp:127.0.0.1:$P" listen 4 bind "tcp:127.0.0.1:$R" listen 4 || true
check "strict: the matching bind adopts" has "$T/err" "for bind(127.0.0.1:$P) [exact]"
check "strict: a bind of another port is native and succeeds" test "$(count "$T/out" "bound fd=")" = 2
check "strict: no error at all then" hasnt "$T/err" "error:"

finish
