#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's PostgreSQL 15 (postgresql-15) under systemd-socket-activate with
# TWO sockets, a TCP one and postgres's unix socket:
#     systemd-socket-activate -l 127.0.0.1:PORT -l SOCKDIR/.s.PGSQL.PORT \
#         -- setpriv --reuid=postgres ... -- postgres -D DATA -p PORT \
#            -c listen_addresses=127.0.0.1 -c unix_socket_directories=SOCKDIR
# The cluster is initdb'd into the test's temp dir (trust authentication).
# postgres refuses to run as root, so the activator (root, as systemd) execs
# setpriv, which drops to the postgres user and execs postgres in place: the
# PID, LISTEN_* and fds 3 and 4 pass through.  The socket file is chowned to
# postgres after the activator made it, as SocketUser=postgres would: postgres
# chmods it after bind() (unix_socket_permissions) and fails if it cannot.
#
# What is checked (mode shim):
#   - a psql over TCP and a psql over the unix socket, both connected (and
#     queued) before postgres exists, are answered by postgres;
#   - the postmaster's bind() of 127.0.0.1:PORT and of SOCKDIR/.s.PGSQL.PORT
#     each adopt the activated socket (2 adoption lines); by inode: the
#     postmaster holds each at its registry fd (3, 4) and at a fd of its own,
#     the kernel lists exactly that one socket for the port and the path, and
#     no process of postgres's tree holds any other listening socket;
#   - forked backends (parent: the postmaster) serve queries over both (one
#     writes over TCP, the other reads it back over the unix socket);
#   - the unlink() postgres does before bind() and at exit leaves systemd's
#     socket file in place.
# Mode noshim: postgres's own bind() fails (EADDRINUSE, exit 1: "could not
# create any TCP/IP sockets") and the queued psql is not answered.
#   usage: bash postgres.sh SHIM shim|noshim
source "$(dirname "$0")/lib.sh"
PGBIN=/usr/lib/postgresql/15/bin
need "$PGBIN/postgres" postgresql-15
need "$PGBIN/initdb" postgresql-15
need "$PGBIN/psql" postgresql-client-15
need "$PGBIN/pg_isready" postgresql-client-15
need /usr/bin/setpriv util-linux
id postgres >/dev/null 2>&1 || {
	echo "SKIP: no user 'postgres' (the Debian package postgresql-common creates it)"
	exit 77
}
note "$("$PGBIN/postgres" --version)"
TOKEN="sdadopt-pg-$RANDOM$RANDOM"

# The cluster and the socket directory belong to postgres.
PGW=$WORK/pg
mkdir -p "$PGW/data" "$PGW/sock"
chmod 700 "$PGW/data"
chown postgres:postgres "$PGW" "$PGW/data" "$PGW/sock"
AS_PG=(/usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups --)
(cd "$PGW" && timeout 60 "${AS_PG[@]}" "$PGBIN/initdb" -D "$PGW/data" -U postgres \
	--auth=trust -E UTF8 --no-sync --no-instructions >"$PGW/initdb.log" 2>&1) ||
	fail "initdb failed (see initdb.log)"

configure() {
	tcp_port
	UPATH=$PGW/sock/.s.PGSQL.$PORT
	SA_OPTS=(-l "127.0.0.1:$PORT" -l "$UPATH")
	SERVER=("${AS_PG[@]}" "$PGBIN/postgres" -D "$PGW/data" -p "$PORT"
		-c listen_addresses=127.0.0.1 -c "unix_socket_directories=$PGW/sock"
		-c logging_collector=off -c shared_buffers=16MB -c max_connections=10
		-c fsync=off -c autovacuum=off)
}
activate configure
wait_for 10 "the activator to listen on $UPATH too" activator_ready "$SA_PID" 4 unix "$UPATH"
UINODE=$(sock_inode "$SA_PID" 4)
chown postgres:postgres "$UPATH"   # SocketUser=postgres
PATH_INODE=$(stat -c %i "$UPATH")  # the file, not the socket
note "fd 4 = socket:[$UINODE] ($UPATH)"

# psql_bg NAME HOST SQL: a psql in the background, output to $WORK/NAME.out
# and $WORK/NAME.err; its PID goes to BG.
psql_bg() {
	timeout 60 "$PGBIN/psql" "host=$2 port=$PORT user=postgres dbname=postgres connect_timeout=30" \
		-XAtq -v ON_ERROR_STOP=1 -c "$3" >"$WORK/$1.out" 2>"$WORK/$1.err" </dev/null &
	BG=$!
	STARTED+=("$BG")
}
queued_on() { # KIND INODE: something waits in that socket's accept queue
	local q
	q=$(queued "$1" "$2")
	[[ -n $q ]] && ((q > 0))
}

# The first requests, one on each socket, made while the activator is
# frozen (no postgres exists yet): both sit in the activated sockets' queues.
kill -STOP "$SA_PID"
wait_for 10 "the activator to stop" stopped "$SA_PID"
psql_bg first 127.0.0.1 "select '$TOKEN-first-tcp'"
FIRST_PID=$BG
psql_bg firstu "$PGW/sock" "select '$TOKEN-first-unix'"
FIRSTU_PID=$BG
wait_for 20 "psql's TCP connection to be queued on socket:[$INODE]" queued_on tcp "$INODE"
wait_for 20 "psql's unix connection to be queued on socket:[$UINODE]" queued_on unix "$UINODE"
exe=$(readlink "/proc/$SA_PID/exe")
[[ $exe == "$SSA" ]] || fail "pid $SA_PID is already $exe: the requests were not made before postgres started"
note "first requests queued while pid $SA_PID is still $exe (frozen): tcp $(queued tcp "$INODE"), unix $(queued unix "$UINODE")"
kill -CONT "$SA_PID"

if [[ $MODE == noshim ]]; then
	assert_not_adopted "$TOKEN"
	note "postgres said: $(grep -m1 'could not create any TCP/IP sockets' "$WORK/server.err" || true)"
	exit 0
fi

# first_answered NAME PID: that psql was answered by postgres: the query's
# result, or postgres's own FATAL for a connection that arrives while the
# database system is starting up (SQLSTATE 57P03; what postgres answers
# without the shim too, to any client that connects that early).
first_answered() {
	reap "$2"
	if grep -qx "$TOKEN-first-$1" "$WORK/$3.out"; then
		note "first $1 request: answered with the query's result"
	elif grep -q 'FATAL:  the database system is starting up' "$WORK/$3.err"; then
		note "first $1 request: answered by postgres: 'the database system is starting up' (57P03)"
	else
		fail "first $1 request not answered by postgres (psql status $REAPED): $(cat "$WORK/$3.out" "$WORK/$3.err")"
	fi
}
first_answered tcp "$FIRST_PID" first
first_answered unix "$FIRSTU_PID" firstu
server_is "$PGBIN/postgres"

pg_ready() { timeout 10 "$PGBIN/pg_isready" -q -h "$1" -p "$PORT" -t 5; }
wait_for 30 "postgres to accept connections over TCP" pg_ready 127.0.0.1
wait_for 30 "postgres to accept connections over the unix socket" pg_ready "$PGW/sock"

# psql_q HOST SQL: run SQL, print the result.
psql_q() {
	timeout 30 "$PGBIN/psql" "host=$1 port=$PORT user=postgres dbname=postgres connect_timeout=20" \
		-XAtq -v ON_ERROR_STOP=1 -F ' ' -c "$2" </dev/null 2>>"$WORK/psql.err"
}
# Each query also reports who served it: the client address postgres saw,
# the backend's PID and its parent's (from /proc/self/stat: "pid (comm) state ppid").
WHO="coalesce(host(inet_client_addr()), 'local'), pg_backend_pid(), split_part(pg_read_file('/proc/self/stat'), ' ', 4)"
out=$(psql_q 127.0.0.1 "create table t (v text); insert into t values ('$TOKEN-tcp'); select $WHO") ||
	fail "psql over TCP failed: $(cat "$WORK/psql.err")"
read -r addr bpid ppid <<<"$out"
[[ $addr == 127.0.0.1 ]] || fail "over TCP postgres saw the client as '$addr', not 127.0.0.1"
[[ $ppid == "$SA_PID" && $bpid != "$SA_PID" ]] || fail "the TCP query was not served by a backend forked by the postmaster $SA_PID: $out"
note "TCP: backend $bpid (parent $ppid) served client $addr"
out=$(psql_q "$PGW/sock" "insert into t values ('$TOKEN-unix'); select string_agg(v, ',' order by v) from t; select $WHO") ||
	fail "psql over the unix socket failed: $(cat "$WORK/psql.err")"
[[ $(sed -n 1p <<<"$out") == "$TOKEN-tcp,$TOKEN-unix" ]] || fail "unix: the rows are wrong: $out"
read -r addr bpid ppid < <(sed -n 2p <<<"$out")
[[ $addr == local ]] || fail "over the unix socket postgres saw the client as '$addr'"
[[ $ppid == "$SA_PID" && $bpid != "$SA_PID" ]] || fail "the unix query was not served by a backend forked by the postmaster $SA_PID: $out"
note "unix: backend $bpid (parent $ppid) served a local client and read the TCP client's row"

# Both sockets adopted, by inode.
assert_pg_adopted() {
	local spec fd kind where ino net fds f own flags p others
	for spec in "3 tcp $PORT $INODE" "4 unix $UPATH $UINODE"; do
		read -r fd kind where ino <<<"$spec"
		net=$(net_inodes "$kind" "$where" | sort -u)
		[[ $net == "$ino" ]] ||
			fail "$kind $where: expected exactly the activated socket [$ino], the kernel lists: [${net//$'\n'/, }]"
		mapfile -t fds < <(fds_with_inode "$SA_PID" "$ino")
		own=()
		for f in "${fds[@]}"; do [[ $f == "$fd" ]] || own+=("$f"); done
		[[ " ${fds[*]} " == *" $fd "* ]] || fail "the postmaster no longer holds the activated socket [$ino] at fd $fd"
		((${#own[@]} >= 1)) || fail "the postmaster holds [$ino] only at fd(s) '${fds[*]}': its bind() did not adopt it"
		flags=$(awk '/^flags:/ { print $2 }' "/proc/$SA_PID/fdinfo/$fd")
		(((8#$flags & 8#2000000) != 0)) || fail "the registry's fd $fd is not FD_CLOEXEC (flags $flags)"
		note "$kind $where: the postmaster $SA_PID holds socket:[$ino] at fd $fd and at its own fd(s) ${own[*]}; the kernel lists only [$ino]"
	done
	for p in $(tree "$SA_PID"); do
		others=$(listening_inodes "$p" | grep -vx -e "$INODE" -e "$UINODE" || true)
		[[ -z $others ]] ||
			fail "process $p ($(cat "/proc/$p/comm" 2>/dev/null)) holds another listening socket: [${others//$'\n'/, }]"
	done
}
assert_pg_adopted
assert_log_count 2
grep -F -- "$ADOPT_RE inherited fd 3 \"unknown\" (tcp 127.0.0.1:$PORT) as fd" "$WORK/server.err" >/dev/null ||
	fail "no adoption line for the TCP socket"
grep -F -- "$ADOPT_RE inherited fd 4 \"unknown\" (stream $UPATH) as fd" "$WORK/server.err" >/dev/null ||
	fail "no adoption line for the unix socket"
assert_log_prefix '(setpriv|postgres)'   # setpriv logs (the hand-over) before it execs postgres

# postgres unlinks its socket path before bind() and at exit; systemd's file
# must survive both.
kill -TERM "$SA_PID"   # smart shutdown
wait_for 30 "postgres to shut down" dead "$SA_PID"
reap "$SA_PID"
((REAPED == 0)) || fail "postgres exited with status $REAPED"
[[ -S $UPATH && $(stat -c %i "$UPATH") == "$PATH_INODE" ]] ||
	fail "postgres's unlink removed systemd's socket file $UPATH"
kept=$(grep -c "sdadopt: debug: kept $UPATH" "$WORK/server.err" || true)
((kept >= 2)) || fail "expected the shim to keep $UPATH before bind() and at exit, logged $kept time(s)"
pass "postgres: adopted both activated sockets (tcp [$INODE], unix [$UINODE]), answered the queued psqls, forked backends served both"
