#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora fuzz/corpus/<target>/seed-* (the input layouts are
described at the top of each fuzz_<target>.c).  Re-run after changing a
layout; crash reproducers (crash-*) in the same folders are kept."""
import ipaddress
import os
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
AF_INET, AF_INET6, AF_UNIX = socket.AF_INET, socket.AF_INET6, socket.AF_UNIX


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    # a name starting with '!' is a crash reproducer kept as it is named
    fn = name[1:] if name.startswith("!") else "seed-" + name
    with open(os.path.join(d, fn), "wb") as f:
        f.write(data)


# ---- env ----
def env(name, flags, strs=("", "", "", ""), maxmode=3, pid=4242, pidfdid=77, maxfds=1024):
    b = bytes([flags, maxmode]) + struct.pack("<IQI", pid, pidfdid, maxfds)
    b += b"\0".join(s.encode() if isinstance(s, str) else s for s in strs)
    out("env", name, b)


PID, PFD, FDS, NAMES, HAVE, GPID, GPFD, GFDS = 1, 2, 4, 8, 16, 32, 64, 128
env("valid-names", PID | FDS | NAMES | GPID | GFDS, ("", "", "", "web:api"))
env("valid-nonames", PID | FDS | GPID, ("", "", "3", ""))
env("valid-pidfdid", PID | PFD | FDS | HAVE | GPID | GPFD | GFDS, ("", "", "", "a"))
env("pid-absent", FDS | GFDS, ("", "", "1", ""))
env("pid-garbage", PID | FDS | GFDS, ("abc", "", "", ""))
env("pid-zero", PID | FDS | GFDS, ("0", "", "", ""))
env("pid-overflow", PID | FDS | GFDS, ("99999999999999999999", "", "", ""))
env("pid-other", PID | FDS | GFDS, ("4243", "", "", ""))
env("pid-leading-zero", PID | FDS | GFDS, ("04242", "", "", ""))
env("pid-space", PID | FDS | GFDS, (" 4242", "", "", ""))
env("pidfdid-garbage", PID | PFD | FDS | GPID | GFDS, ("", "x1", "", ""))
env("pidfdid-overflow", PID | PFD | FDS | GPID | GFDS, ("", "18446744073709551616", "", ""))
env("pidfdid-other", PID | PFD | FDS | HAVE | GPID | GFDS, ("", "78", "", ""))
env("pidfdid-unknown", PID | PFD | FDS | GPID | GFDS, ("", "78", "", ""))
env("fds-absent", PID | GPID, ("", "", "", ""))
for i, v in enumerate(["", "0", "-1", "-0", "+1", " 1", "1 ", "1x", "0x1", "2147483644",
                       "2147483645", "4294967299", "99999999999999999999999"]):
    env("fds-%02d" % i, PID | FDS | GPID, ("", "", v, ""))
env("fds-rlimit", PID | FDS | GPID, ("", "", "1022", ""), maxfds=1024)
env("fds-rlimit-edge", PID | FDS | GPID, ("", "", "1021", ""), maxfds=1024)
env("fds-nolimit", PID | FDS | GPID, ("", "", "100", ""), maxmode=1)
env("names-empty", PID | FDS | NAMES | GPID, ("", "", "1", ""))
env("names-fewer", PID | FDS | NAMES | GPID, ("", "", "3", "a:b"))
env("names-more", PID | FDS | NAMES | GPID, ("", "", "1", "a:b"))
env("names-colons", PID | FDS | NAMES | GPID | GFDS, ("", "", "", ":::"))
env("names-ctrl", PID | FDS | NAMES | GPID | GFDS, ("", "", "", "a\nb:\x1b[31m:stored:connection"))

# ---- addr ----
def sin(ip, port):
    return struct.pack("<H", AF_INET) + struct.pack(">H", port) + socket.inet_aton(ip) + b"\0" * 8


def sin6(ip, port, scope=0, flow=0):
    return (struct.pack("<H", AF_INET6) + struct.pack(">HI", port, flow) +
            ipaddress.IPv6Address(ip).packed + struct.pack("<I", scope))


def sun(path, total=None):
    b = struct.pack("<H", AF_UNIX) + path
    return b if total is None else (b + b"\0" * total)[:total]


def rec(sel, data, ln=None):
    ln = len(data) if ln is None else ln
    if ln >= 255:
        return bytes([sel, 255]) + struct.pack("<H", ln) + data
    return bytes([sel, ln]) + data


def addr(name, recs, cap=200, ulen=28):
    recs = list(recs) + [rec(3, b"")] * (3 - len(recs))
    out("addr", name, b"".join(recs) + struct.pack("<HB", cap, ulen))


addr("inet", [rec(0, sin("127.0.0.1", 80)), rec(0, sin("0.0.0.0", 80)), rec(0, sin("127.0.0.1", 81))])
addr("inet6", [rec(1, sin6("::1", 80)), rec(1, sin6("fe80::1", 80, 2)), rec(1, sin6("::", 80))])
addr("mapped", [rec(1, sin6("::ffff:10.1.2.3", 443)), rec(1, sin6("::", 443)), rec(0, sin("10.1.2.3", 443))])
addr("unix", [rec(2, sun(b"/run/a.sock\0")), rec(2, sun(b"/run/a.sock")), rec(2, sun(b"/run/a.sock\0junk"))])
addr("abstract", [rec(2, sun(b"\0name")), rec(2, sun(b"\0na\0me")), rec(2, sun(b"@name"))])
addr("unnamed", [rec(2, sun(b"")), rec(2, sun(b"\0")), rec(2, sun(b"x"))])
addr("unix-full", [rec(2, sun(b"/" + b"p" * 107)), rec(2, sun(b"\0" + b"\x01" * 107)),
                   rec(2, sun(b"/" + b"q" * 200))])
addr("short", [rec(0, sin("1.2.3.4", 1), 15), rec(1, sin6("::1", 1), 27), rec(3, b"\x02")])
addr("other-family", [rec(3, struct.pack("<H", 16) + b"\0" * 10), rec(3, struct.pack("<H", 0xffff) + b"x" * 20),
                      rec(0, sin("255.255.255.255", 65535))])
addr("format-small", [rec(1, sin6("2001:db8::1", 65535, 4294967295)), rec(2, sun(b"\0\\\x7f\xff")),
                      rec(0, sin("127.0.0.1", 8080))], cap=5)
addr("unmap-short", [rec(1, sin6("::ffff:1.2.3.4", 80)), rec(1, sin6("::ffff:1.2.3.4", 80)),
                     rec(1, sin6("::", 0))], ulen=27)

# ---- registry ----
def e0(family, typ, usable=True, v6only=False):
    for b in range(256):
        if (b % 3 == family and (b >> 2) % 3 == typ and (not (b & 0x80)) == usable
                and bool(b & 0x40) == v6only):
            return b
    raise ValueError


FI, F6, FU = 0, 1, 2
TS, TD, TQ = 0, 1, 2


def ent(fam, typ, port=0, ip=0, unix=0, ino=0, name=0, usable=True, v6only=False):
    return bytes([e0(fam, typ, usable, v6only), port, ip, unix, ino, name])


def want(fam, port=0, ip=0, unix=0, typ=0, inode=0, anyscope=False, v6only=False):
    return bytes([fam | (0x80 if anyscope else 0) | (0x40 if v6only else 0), port, ip, unix, typ, inode])


def registry(name, ents, wants, mapmask=0, policy=0):
    out("registry", name, bytes([len(ents) - 1, mapmask, policy]) + b"".join(ents) + b"".join(wants))


# port pool index 0=80 1=443 2=8080; v4 ip 0=any 1=127.0.0.1; v6 ip 0=:: 1=::1 3=fe80::1
registry("exact-wild-dual",
         [ent(FI, TS, 0, 1), ent(FI, TS, 1, 0), ent(F6, TS, 2, 0), ent(F6, TD, 2, 0, v6only=True)],
         [want(0, 0, 1, typ=1), want(0, 1, 1, typ=1), want(0, 2, 1, typ=0), want(0, 2, 1, typ=2),
          want(1, 2, 1, typ=1), want(0, 250, 1, typ=1)])
registry("dual-v6only-other-type",
         [ent(F6, TS, 0, 0, v6only=True), ent(F6, TD, 0, 0)],
         [want(0, 0, 1, typ=0), want(0, 0, 1, typ=2), want(0, 0, 0, typ=2)])
registry("dual-v6only-same-type",
         [ent(F6, TS, 0, 0, v6only=True), ent(F6, TS, 0, 0)],
         [want(0, 0, 1, typ=0), want(0, 0, 1, typ=1)])
registry("duplicates-lowest-fd",
         [ent(FI, TS, 0, 1), ent(FI, TS, 0, 1), ent(FI, TD, 0, 1), ent(FI, TS, 0, 1)],
         [want(0, 0, 1, typ=0), want(0, 0, 1, typ=1), want(0, 0, 1, typ=2)])
registry("unix",
         [ent(FU, TS, unix=0, ino=0x80), ent(FU, TQ, unix=0x80), ent(FU, TD, unix=4)],
         [want(2, unix=0, typ=1, inode=0x80), want(2, unix=0x80, typ=3), want(2, unix=4, typ=2),
          want(2, unix=3, typ=2), want(2, unix=0x7f, typ=0)])
registry("linklocal-scope",
         [ent(F6, TS, 0, 3), ent(F6, TS, 0, 3 | 0x80), ent(F6, TS, 0, 0)],
         [want(1, 0, 3, typ=1), want(1, 0, 3 | 0x80, typ=1), want(1, 0, 1, typ=1, anyscope=True)])
registry("map",
         [ent(FI, TS, 0, 2, name=0), ent(F6, TS, 0, 1, name=1), ent(FU, TS, unix=1, name=0)],
         [want(0, 0, 1, typ=1), want(1, 0, 0, typ=1), want(2, unix=0, typ=1), want(0, 1, 0, typ=1)],
         mapmask=0x0f)
registry("!crash-registry-map-fifth-named",
         [ent(FI, TS, 3, 1, name=0), ent(FI, TS, 3, 2, name=0), ent(FI, TS, 4, 2, name=0),
          ent(F6, TS, 5, 2, name=0), ent(FI, TD, 2, 2, name=0)],
         [want(0, 0, 1, typ=2), want(0, 0, 1, typ=1)], mapmask=0x01)
registry("policy-port",
         [ent(F6, TS, 2, 1), ent(FI, TD, 2, 3)],
         [want(0, 2, 1, typ=1), want(0, 2, 1, typ=2), want(1, 2, 4, typ=2)], policy=1)
registry("unusable",
         [ent(FI, TS, 0, 1, usable=False), ent(FI, TS, 0, 1), ent(F6, TS, 0, 0, usable=False)],
         [want(0, 0, 1, typ=1), want(0, 0, 1, typ=1, inode=3)])

# v4-mapped binds (v6 ip 2=::ffff:127.0.0.1 5=::ffff:0.0.0.0; v4 ip 2=127.0.0.2): the
# AF_INET socket of the IPv4 address (exact, wildcard), [::] not V6ONLY; a
# V6ONLY app's mapped bind matches nothing; a dual-stack [::] bind onto 0.0.0.0
registry("v4-mapped",
         [ent(FI, TS, 0, 1), ent(FI, TS, 1, 0), ent(F6, TS, 2, 0, v6only=True), ent(FI, TS, 2, 0),
          ent(F6, TD, 0, 0), ent(F6, TD, 1, 5)],
         [want(1, 0, 2, typ=1), want(1, 1, 2, typ=1), want(1, 2, 2, typ=1), want(1, 0, 2, typ=1, v6only=True),
          want(1, 1, 5, typ=1), want(1, 2, 0, typ=1), want(1, 1, 0, typ=1), want(1, 1, 0, typ=1, v6only=True),
          want(1, 0, 2, typ=2), want(1, 1, 2, typ=2), want(1, 1, 2, typ=0, anyscope=True)])
# the map in both forms (pool 8 [::ffff:127.0.0.1]:8080=api, 9 [::ffff:10.0.0.1]:443=web;
# 0 127.0.0.1:80=web, 6 10.0.0.1:53=unknown), and the port policy
registry("v4-mapped-map",
         [ent(FI, TS, 2, 2, name=1), ent(FI, TS, 1, 3, name=0), ent(FI, TS, 0, 2, name=0),
          ent(FI, TD, 3, 3, name=2)],
         [want(1, 2, 2, typ=1), want(0, 2, 1, typ=1), want(0, 1, 3, typ=1), want(1, 0, 2, typ=1),
          want(1, 3, 2, typ=2), want(1, 2, 2, typ=1, v6only=True)],
         mapmask=0x41, policy=0x06)
registry("v4-mapped-port",
         [ent(FI, TS, 2, 2), ent(F6, TS, 0, 1, v6only=True), ent(F6, TS, 1, 1)],
         [want(1, 2, 2, typ=1), want(1, 0, 2, typ=1), want(1, 1, 2, typ=1), want(1, 2, 0, typ=1),
          want(1, 2, 1, typ=1)], policy=1)

# ---- level ----
for i, v in enumerate([b"", b"info", b"DEBUG", b"Warn", b"warning", b"err", b"error", b"off", b"none",
                       b"0", b"3", b"7", b"8", b"07", b"-1", b" info", b"info\n", b"yes", b"TRUE",
                       b"no", b"port", b"Exact", b"%s%n", b"\xff"]):
    out("level", "%02d" % i, v)

# ---- map ----
for i, v in enumerate([b"127.0.0.1:80=web", b"[::1]:8080=api,/run/a.sock=web,@abs=x",
                       b"0.0.0.0:443=a=b", b"1.2.3.4:0=x", b"[::1]:65536=x,[::1]:65535=y",
                       b"[fe80::1%eth0]:80=x", b",,,", b"=,a=,=b", b"127.0.0.1:80=a,127.0.0.1:80=b",
                       b"/" + b"p" * 108 + b"=x", b"@" + b"q" * 108 + b"=x", b"1.2.3:80=x",
                       b"127.0.0.1:00080=x", b"x" * 300 + b"=" + b"n" * 256,
                       b",".join([b"127.0.0.1:%d=n" % (i + 1) for i in range(257)])]):
    out("map", "%02d" % i, bytes([8]) + v)
