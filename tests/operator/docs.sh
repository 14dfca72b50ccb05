#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The user docs keep up with the shim: every message the shim can log (each
# sda_err/sda_warn/sda_info/sda_debug/sda_log format in shim/*.c) appears in
# docs/troubleshooting.md (its longest literal part), every variable is in
# the guide, and the guide's links resolve.
source "$(dirname "$0")/lib.sh"
need /usr/bin/python3
TR=$SDA_SRC/docs/troubleshooting.md
G=$SDA_SRC/docs/guide.md
check "docs/troubleshooting.md exists" test -s "$TR"
check "docs/guide.md exists" test -s "$G"

/usr/bin/python3 - "$SDA_SRC"/shim/*.c >"$T/formats" <<'PY'
import re, sys
call = re.compile(r'\bsda_(err|warn|info|debug|log)\s*\(')
lit = re.compile(r'\s*"((?:[^"\\]|\\.)*)"')
for path in sys.argv[1:]:
    src = open(path).read()
    for m in call.finditer(src):
        i = m.end()
        if m.group(1) == 'log':              # sda_log(LEVEL, "fmt", ...)
            depth = 0
            while i < len(src) and not (src[i] == ',' and depth == 0):
                depth += src[i] in '(' ; depth -= src[i] in ')'
                i += 1
            i += 1
        parts = []
        while True:
            lm = lit.match(src, i)
            if not lm:
                break
            parts.append(lm.group(1))
            i = lm.end()
        if not parts:
            continue
        fmt = ''.join(parts).replace('\\"', '"')
        chunks = [c for c in re.split(r'%l?z?[sdunc%]', fmt) if c.strip()]
        key = max(chunks, key=len).strip() if chunks else fmt
        print(f"{path.rsplit('/', 1)[-1]}\t{key}\t{fmt}")
PY
n=$(wc -l <"$T/formats")
check "found the shim's log formats ($n)" test "$n" -ge 20
while IFS=$'\t' read -r file key fmt; do
	check "troubleshooting.md covers \"$fmt\" ($file)" has "$TR" "$key"
done <"$T/formats"

for v in LISTEN_PID LISTEN_FDS LISTEN_FDNAMES LISTEN_PIDFDID SDADOPT_LOG SDADOPT_MAP SDADOPT_MATCH SDADOPT_STRICT SDADOPT_SHIM; do
	check "guide.md documents $v" has "$G" "$v"
done
for topic in "systemd-socket-activate" "--preserve-fds" "podman" "Dual-stack" "Strict mode" "Limits" "--explain" "waits for the first connection"; do
	check "guide.md covers '$topic'" grep -qiF -- "$topic" "$G"
done
# relative links between the docs resolve
grep -oE '\]\([^)#]+\.md[^)]*\)' "$G" "$TR" | sed -E 's/.*\]\(([^)#]+).*/\1/' | sort -u | while read -r l; do
	[[ -e $SDA_SRC/docs/$l ]] && echo "ok - link $l resolves" || echo "not ok - link $l resolves"
done >"$T/links"
cat "$T/links"
passes=$((passes + $(grep -c '^ok' "$T/links" || true)))
fails=$((fails + $(grep -c '^not ok' "$T/links" || true)))

finish
