#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SDADOPT_MAP through the real shim: each malformed entry gives exactly one
# warning that quotes it; the good entries still apply ([map] adoption).
source "$(dirname "$0")/lib.sh"
TS=$SDA_TESTSERVER
S=(--shim "$SDA_SHIM")

P=$(free_port) Q=$(free_port)
# each malformed entry and the reason the shim gives (8: the shim quotes at
# most 8 and then counts the rest, checked below)
bad_entries=() reasons=()
add() { bad_entries+=("$1"); reasons+=("$2"); }
add "garbage" "no '=': write ADDR=NAME"
add "" "empty entry" # ",,"
add "127.0.0.1:1=" "the name after '=' is empty or longer than 255"
add "localhost:80=web" "not an address"
add "[::1]:99999=web" "not an address" # port out of range
add "127.0.0.1:0=web" "not an address" # port 0
add "::1:80=web" "not an address"      # IPv6 without brackets
add "127.0.0.1:$Q=again" "address mapped twice" # the second mapping of one address
map="127.0.0.1:$Q=web"
for e in "${bad_entries[@]}"; do map+=",$e"; done
map+=",127.0.0.1:5=nosuch"

# through the launcher's --map
st=$(status_of sda "$T/out" "$T/err" "${S[@]}" --listen "127.0.0.1:$P" --fdname web --map "$map" -- \
	"$TS" bind "tcp:127.0.0.1:$Q" listen 16 fds)
check "the program ran (status 0)" test "$st" = 0
for i in "${!bad_entries[@]}"; do
	e=${bad_entries[i]} w=${reasons[i]}
	n=$(count "$T/err" "sdadopt: warning: SDADOPT_MAP entry \"$e\" ignored: $w")
	check "entry \"$e\": exactly one warning naming it ($w)" test "$n" = 1
done
n=$(count "$T/err" "SDADOPT_MAP entry \"")
check "no other entry warned about (${#bad_entries[@]} warnings)" test "$n" = "${#bad_entries[@]}"
check "the good entry still applies: bind(127.0.0.1:$Q) gets \"web\" [map]" \
	has "$T/err" "info: adopted inherited fd 3 \"web\" (tcp 127.0.0.1:$P) as fd"
check "... [map]" has "$T/err" "for bind(127.0.0.1:$Q) [map]"
check "a name no inherited socket has: one warning" \
	test "$(count "$T/err" "SDADOPT_MAP entry 127.0.0.1:5=nosuch: no usable inherited socket is named \"nosuch\"; the entry does nothing")" = 1
b=$(sed -n 's/^bound fd=[0-9]* ino=\([0-9]*\)\( .*\)\{0,1\}$/\1/p' "$T/out")
f=$(sed -n 's/^fd n=3 ino=\([0-9]*\) .*/\1/p' "$T/out")
check "the mapped bind holds the inherited socket (same inode)" test -n "$b" -a "$b" = "$f"
[[ $fails == 0 ]] || show "$T/err"

# the same through the environment variable, without --map
(export SDADOPT_MAP="garbage,127.0.0.1:$Q=web"
 sda "$T/out" "$T/err" "${S[@]}" --listen "127.0.0.1:$P" --fdname web -- "$TS" bind "tcp:127.0.0.1:$Q") || true
check "SDADOPT_MAP from the environment: one warning" test "$(count "$T/err" 'SDADOPT_MAP entry "garbage" ignored')" = 1
check "SDADOPT_MAP from the environment: [map] adoption" has "$T/err" "for bind(127.0.0.1:$Q) [map]"

# unix path and abstract names map too
sda "$T/out" "$T/err" "${S[@]}" --listen "@sdadopt-op-map-$$" --fdname ctl \
	--map "$T/app.sock=ctl" -- "$TS" bind "unix:$T/app.sock" listen 4 || true
check "a unix path maps to an abstract socket by name" has "$T/err" "(stream @sdadopt-op-map-$$) as fd"
check "... [map]" has "$T/err" "for bind($T/app.sock) [map]"

# more than 8 bad entries: 8 lines and a count
many="127.0.0.1:$Q=web"
for i in $(seq 11); do many+=",bad$i"; done
sda "$T/out" "$T/err" "${S[@]}" --listen "127.0.0.1:$P" --fdname web --map "$many" -- "$TS" bind "tcp:127.0.0.1:$Q" || true
check "11 bad entries: 8 quoted" test "$(count "$T/err" 'SDADOPT_MAP entry "bad')" = 8
check "11 bad entries: then a count of the rest" has "$T/err" "SDADOPT_MAP: 3 more bad entries ignored"

# SDADOPT_MATCH=port: any inherited socket of the same port
P=$(free_port)
sda "$T/out" "$T/err" "${S[@]}" --match port --listen "127.0.0.1:$P" -- "$TS" bind "tcp:0.0.0.0:$P" listen 4 || true
check "--match port: bind(0.0.0.0:P) adopts 127.0.0.1:P [port]" has "$T/err" "for bind(0.0.0.0:$P) [port]"

finish
