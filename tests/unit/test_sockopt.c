/* SPDX-License-Identifier: MIT */
/* Unit tests of core/sockopt: options an app set before bind(), carried onto
 * the inherited socket that replaces its own.  Real loopback/unix sockets. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockopt.h"

static int sock(int family, int type)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0 && family == AF_INET6)
		cr_skip_test("no IPv6 sockets here");
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	return fd;
}

static int geti(int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof v;
	cr_assert_eq(getsockopt(fd, level, name, &v, &l), 0, "getsockopt(%d,%d): %s", level, name, strerror(errno));
	return v;
}

static void seti(int fd, int level, int name, int v)
{
	cr_assert_eq(setsockopt(fd, level, name, &v, sizeof v), 0, "setsockopt(%d,%d,%d): %s", level, name, v,
		     strerror(errno));
}

static const struct sda_opt_result *result_for(const struct sda_opt_result *res, size_t n, int level, int name)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].opt->level == level && res[i].opt->name == name)
			return &res[i];
	return NULL;
}

static const struct sda_opt *opt(int level, int name)
{
	for (size_t i = 0; i < sda_n_opts; i++)
		if (sda_opts[i].level == level && sda_opts[i].name == name)
			return &sda_opts[i];
	return NULL;
}

/* ---- the table --------------------------------------------------------- */

Test(sockopt_table, classes)
{
	cr_assert_str_eq(sda_opt_class_name(SDA_OPT_REPLAY), "replay");
	cr_assert_str_eq(sda_opt_class_name(SDA_OPT_IGNORE), "ignore");
	cr_assert_str_eq(sda_opt_class_name(SDA_OPT_UNIT), "unit");
	cr_assert_str_eq(sda_opt_class_name(SDA_OPT_FIXED), "fixed");
	cr_assert_not_null(sda_opt_class_name((enum sda_opt_class)42));

	static const struct {
		int level, name;
		enum sda_opt_class cls;
	} want[] = {
		{SOL_SOCKET, SO_KEEPALIVE, SDA_OPT_REPLAY},  {IPPROTO_TCP, TCP_NODELAY, SDA_OPT_REPLAY},
		{SOL_SOCKET, SO_REUSEADDR, SDA_OPT_IGNORE},  {SOL_SOCKET, SO_REUSEPORT, SDA_OPT_IGNORE},
		{SOL_SOCKET, SO_RCVBUF, SDA_OPT_UNIT},       {SOL_SOCKET, SO_SNDBUF, SDA_OPT_UNIT},
		{IPPROTO_IPV6, IPV6_V6ONLY, SDA_OPT_FIXED},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct sda_opt *o = opt(want[i].level, want[i].name);
		cr_assert_not_null(o, "option %d/%d missing from the table", want[i].level, want[i].name);
		cr_assert_eq(o->cls, want[i].cls, "%s: class %s", o->text, sda_opt_class_name(o->cls));
	}
}

Test(sockopt_table, well_formed)
{
	cr_assert_gt(sda_n_opts, 0u);
	for (size_t i = 0; i < sda_n_opts; i++) {
		const struct sda_opt *o = &sda_opts[i];
		cr_assert_not_null(o->text);
		cr_assert(o->len == sizeof(int) || o->len == sizeof(struct linger), "%s: len %u", o->text, o->len);
		cr_assert_leq(o->len, 16u, "%s: values are read into 16-byte buffers", o->text);
		if (o->level == IPPROTO_TCP)
			cr_assert(o->inet_only && o->stream_only, "%s: a TCP option", o->text);
		if (o->level == IPPROTO_IP)
			cr_assert(o->inet_only && o->family == AF_INET, "%s: an IPv4 option", o->text);
		if (o->level == IPPROTO_IPV6)
			cr_assert(o->inet_only && o->family == AF_INET6, "%s: an IPv6 option", o->text);
		for (size_t j = 0; j < i; j++)
			cr_assert(!(sda_opts[j].level == o->level && sda_opts[j].name == o->name), "%s twice", o->text);
	}
}

/* ---- carrying ---------------------------------------------------------- */

Test(sockopt_carry, nothing_changed)
{
	int app = sock(AF_INET, SOCK_STREAM), scratch = sock(AF_INET, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	struct sda_opt_result res[8];
	cr_assert_eq(sda_sockopt_carry(app, scratch, tgt, AF_INET, SOCK_STREAM, res, 8), 0u);
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_carry, replay_tcp)
{
	int app = sock(AF_INET, SOCK_STREAM), scratch = sock(AF_INET, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	seti(app, IPPROTO_TCP, TCP_NODELAY, 1);
	seti(app, SOL_SOCKET, SO_KEEPALIVE, 1);
	seti(app, IPPROTO_TCP, TCP_KEEPIDLE, 77);
	struct linger lg = {1, 5};
	cr_assert_eq(setsockopt(app, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);

	struct sda_opt_result res[16];
	size_t n = sda_sockopt_carry(app, scratch, tgt, AF_INET, SOCK_STREAM, res, 16);
	cr_assert_eq(n, 4u, "%zu options reported changed", n);
	static const int which[][2] = {
		{IPPROTO_TCP, TCP_NODELAY}, {SOL_SOCKET, SO_KEEPALIVE}, {IPPROTO_TCP, TCP_KEEPIDLE}, {SOL_SOCKET, SO_LINGER},
	};
	for (int i = 0; i < 4; i++) {
		const struct sda_opt_result *r = result_for(res, n, which[i][0], which[i][1]);
		cr_assert_not_null(r, "option %d/%d not reported", which[i][0], which[i][1]);
		cr_assert_eq(r->action, 1, "%s: action %d", r->opt->text, r->action);
		cr_assert_eq(r->opt->cls, SDA_OPT_REPLAY);
	}
	const struct sda_opt_result *r = result_for(res, n, IPPROTO_TCP, TCP_NODELAY);
	cr_assert_eq(r->app_value, 1);
	cr_assert_eq(r->unit_value, 0);
	cr_assert_eq(geti(tgt, IPPROTO_TCP, TCP_NODELAY), 1);
	cr_assert_eq(geti(tgt, SOL_SOCKET, SO_KEEPALIVE), 1);
	cr_assert_eq(geti(tgt, IPPROTO_TCP, TCP_KEEPIDLE), 77);
	struct linger got;
	socklen_t l = sizeof got;
	cr_assert_eq(getsockopt(tgt, SOL_SOCKET, SO_LINGER, &got, &l), 0);
	cr_assert_eq(got.l_onoff, 1);
	cr_assert_eq(got.l_linger, 5);
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_carry, same_value_nothing_to_do)
{
	int app = sock(AF_INET, SOCK_STREAM), scratch = sock(AF_INET, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	seti(app, IPPROTO_TCP, TCP_NODELAY, 1);
	seti(tgt, IPPROTO_TCP, TCP_NODELAY, 1);
	struct sda_opt_result res[4];
	size_t n = sda_sockopt_carry(app, scratch, tgt, AF_INET, SOCK_STREAM, res, 4);
	cr_assert_eq(n, 1u);
	cr_assert_eq(res[0].opt->name, TCP_NODELAY);
	cr_assert_eq(res[0].action, 0);
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_carry, ignore_bind_time_options)
{
	int app = sock(AF_INET, SOCK_STREAM), scratch = sock(AF_INET, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	seti(app, SOL_SOCKET, SO_REUSEADDR, 1);
	seti(app, SOL_SOCKET, SO_REUSEPORT, 1);
	struct sda_opt_result res[4];
	size_t n = sda_sockopt_carry(app, scratch, tgt, AF_INET, SOCK_STREAM, res, 4);
	cr_assert_eq(n, 2u);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(res[i].opt->cls, SDA_OPT_IGNORE);
		cr_assert_eq(res[i].action, 0, "%s: action %d", res[i].opt->text, res[i].action);
	}
	cr_assert_eq(geti(tgt, SOL_SOCKET, SO_REUSEADDR), 0, "an ignored option was set");
	cr_assert_eq(geti(tgt, SOL_SOCKET, SO_REUSEPORT), 0, "an ignored option was set");
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_carry, unit_buffer_replayed_when_default)
{
	int app = sock(AF_INET, SOCK_STREAM), scratch = sock(AF_INET, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	seti(app, SOL_SOCKET, SO_RCVBUF, 16384);
	int app_reads = geti(app, SOL_SOCKET, SO_RCVBUF); /* the kernel doubles it */
	struct sda_opt_result res[4];
	size_t n = sda_sockopt_carry(app, scratch, tgt, AF_INET, SOCK_STREAM, res, 4);
	cr_assert_eq(n, 1u);
	cr_assert_eq(res[0].opt->name, SO_RCVBUF);
	cr_assert_eq(res[0].action, 1);
	int tgt_reads = geti(tgt, SOL_SOCKET, SO_RCVBUF);
	cr_assert_eq(tgt_reads, app_reads,
		     "the inherited socket's SO_RCVBUF is %d, must end up as the app's (%d): the value read "
		     "back is already doubled by the kernel, setting it again doubles it twice",
		     tgt_reads, app_reads);
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_carry, unit_buffer_conflict_keeps_units_value)
{
	int app = sock(AF_INET, SOCK_STREAM), scratch = sock(AF_INET, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	seti(app, SOL_SOCKET, SO_SNDBUF, 16384);
	seti(tgt, SOL_SOCKET, SO_SNDBUF, 50000); /* the unit's SendBuffer= */
	int unit = geti(tgt, SOL_SOCKET, SO_SNDBUF);
	struct sda_opt_result res[4];
	size_t n = sda_sockopt_carry(app, scratch, tgt, AF_INET, SOCK_STREAM, res, 4);
	cr_assert_eq(n, 1u);
	cr_assert_eq(res[0].opt->name, SO_SNDBUF);
	cr_assert_eq(res[0].action, 2, "a conflict");
	cr_assert_eq(res[0].unit_value, unit);
	cr_assert_eq(geti(tgt, SOL_SOCKET, SO_SNDBUF), unit, "the unit's value must win");
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_carry, v6only_fixed)
{
	int app = sock(AF_INET6, SOCK_STREAM), scratch = sock(AF_INET6, SOCK_STREAM), tgt = sock(AF_INET6, SOCK_STREAM);
	int def = geti(scratch, IPPROTO_IPV6, IPV6_V6ONLY);
	seti(app, IPPROTO_IPV6, IPV6_V6ONLY, !def);
	seti(tgt, IPPROTO_IPV6, IPV6_V6ONLY, def);
	struct sda_opt_result res[4];
	size_t n = sda_sockopt_carry(app, scratch, tgt, AF_INET6, SOCK_STREAM, res, 4);
	cr_assert_eq(n, 1u);
	cr_assert_eq(res[0].opt->name, IPV6_V6ONLY);
	cr_assert_eq(res[0].action, 2);
	cr_assert_eq(geti(tgt, IPPROTO_IPV6, IPV6_V6ONLY), def, "V6ONLY cannot be changed on a bound socket");
	/* equal: nothing to do */
	seti(tgt, IPPROTO_IPV6, IPV6_V6ONLY, !def);
	n = sda_sockopt_carry(app, scratch, tgt, AF_INET6, SOCK_STREAM, res, 4);
	cr_assert_eq(n, 1u);
	cr_assert_eq(res[0].action, 0);
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_carry, udp_and_unix)
{
	int app = sock(AF_INET, SOCK_DGRAM), scratch = sock(AF_INET, SOCK_DGRAM), tgt = sock(AF_INET, SOCK_DGRAM);
	seti(app, IPPROTO_IP, IP_PKTINFO, 1);
	struct sda_opt_result res[4];
	size_t n = sda_sockopt_carry(app, scratch, tgt, AF_INET, SOCK_DGRAM, res, 4);
	cr_assert_eq(n, 1u);
	cr_assert_eq(res[0].opt->name, IP_PKTINFO);
	cr_assert_eq(res[0].action, 1);
	cr_assert_eq(geti(tgt, IPPROTO_IP, IP_PKTINFO), 1);
	close(app);
	close(scratch);
	close(tgt);

	app = sock(AF_UNIX, SOCK_STREAM);
	scratch = sock(AF_UNIX, SOCK_STREAM);
	tgt = sock(AF_UNIX, SOCK_STREAM);
	seti(app, SOL_SOCKET, SO_PASSCRED, 1);
	n = sda_sockopt_carry(app, scratch, tgt, AF_UNIX, SOCK_STREAM, res, 4);
	cr_assert_eq(n, 1u);
	cr_assert_eq(res[0].opt->name, SO_PASSCRED);
	cr_assert_eq(res[0].action, 1);
	cr_assert_eq(geti(tgt, SOL_SOCKET, SO_PASSCRED), 1);
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_carry, results_beyond_cap_counted_not_written)
{
	int app = sock(AF_INET, SOCK_STREAM), scratch = sock(AF_INET, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	seti(app, IPPROTO_TCP, TCP_NODELAY, 1);
	seti(app, SOL_SOCKET, SO_KEEPALIVE, 1);
	seti(app, SOL_SOCKET, SO_REUSEADDR, 1);
	struct sda_opt_result res[3];
	memset(res, 0x5A, sizeof res);
	size_t n = sda_sockopt_carry(app, scratch, tgt, AF_INET, SOCK_STREAM, res, 1);
	cr_assert_eq(n, 3u, "every changed option is counted");
	unsigned char untouched[2 * sizeof res[0]];
	memset(untouched, 0x5A, sizeof untouched);
	cr_assert_arr_eq(&res[1], untouched, sizeof untouched, "wrote past cap");
	/* and all the replayable ones were still applied */
	cr_assert_eq(geti(tgt, IPPROTO_TCP, TCP_NODELAY), 1);
	cr_assert_eq(geti(tgt, SOL_SOCKET, SO_KEEPALIVE), 1);
	close(app);
	close(scratch);
	close(tgt);
}

/* ---- a v4-mapped adoption: an AF_INET6 app socket, an AF_INET inherited one */

Test(sockopt_map6, ipv6_options_onto_ipv4_twins)
{
	int app = sock(AF_INET6, SOCK_STREAM), scratch = sock(AF_INET6, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	seti(app, IPPROTO_IPV6, IPV6_V6ONLY, 0);                /* the JVM's: never a conflict */
	seti(app, IPPROTO_IPV6, IPV6_TCLASS, 0x28);
	seti(app, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IP_PMTUDISC_DO);
	seti(app, IPPROTO_TCP, TCP_NODELAY, 1);
	struct sda_opt_result res[8];
	size_t n = sda_sockopt_carry_map6(app, scratch, tgt, SOCK_STREAM, res, 8);
	cr_assert_eq(n, 3u, "%zu results", n);
	const struct sda_opt_result *r = result_for(res, n, IPPROTO_IPV6, IPV6_TCLASS);
	cr_assert_not_null(r);
	cr_assert_eq(r->action, 1);
	cr_assert_not_null(r->as);
	cr_assert_str_eq(r->as->text, "IP_TOS");
	cr_assert_eq(r->app_value, 0x28);
	r = result_for(res, n, IPPROTO_IPV6, IPV6_MTU_DISCOVER);
	cr_assert(r && r->action == 1 && r->as && !strcmp(r->as->text, "IP_MTU_DISCOVER"));
	r = result_for(res, n, IPPROTO_TCP, TCP_NODELAY);
	cr_assert(r && r->action == 1 && !r->as, "a TCP option is carried as itself");
	cr_assert_null(result_for(res, n, IPPROTO_IPV6, IPV6_V6ONLY), "IPV6_V6ONLY has no IPv4 twin: left out");
	cr_assert_eq(geti(tgt, IPPROTO_IP, IP_TOS), 0x28);
	cr_assert_eq(geti(tgt, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DO);
	cr_assert_eq(geti(tgt, IPPROTO_TCP, TCP_NODELAY), 1);
	/* again: the inherited socket has it all already, nothing is set */
	n = sda_sockopt_carry_map6(app, scratch, tgt, SOCK_STREAM, res, 8);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(res[i].action, 0, "%s", res[i].opt->text);
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_map6, ipv4_level_options_of_the_ipv6_socket)
{
	/* an IPv6 program may set IP_TOS on its socket for its IPv4 traffic (the
	 * JVM does, beside IPV6_TCLASS): they count on a v4-mapped adoption */
	int app = sock(AF_INET6, SOCK_DGRAM), scratch = sock(AF_INET6, SOCK_DGRAM), tgt = sock(AF_INET, SOCK_DGRAM);
	seti(app, IPPROTO_IP, IP_TOS, 0x10);
	seti(app, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	struct sda_opt_result res[8];
	size_t n = sda_sockopt_carry_map6(app, scratch, tgt, SOCK_DGRAM, res, 8);
	cr_assert_geq(n, 2u, "%zu results", n);    /* (the kernel's IP_TOS sets SO_PRIORITY too) */
	const struct sda_opt_result *r = result_for(res, n, IPPROTO_IP, IP_TOS);
	cr_assert(r && r->action == 1 && !r->as);
	r = result_for(res, n, IPPROTO_IPV6, IPV6_RECVPKTINFO);
	cr_assert(r && r->action == 1 && r->as && !strcmp(r->as->text, "IP_PKTINFO"));
	cr_assert_eq(geti(tgt, IPPROTO_IP, IP_TOS), 0x10);
	cr_assert_eq(geti(tgt, IPPROTO_IP, IP_PKTINFO), 1);
	/* the plain IPv6 carry does not look at IPv4-level options */
	int tgt6 = sock(AF_INET6, SOCK_DGRAM);
	n = sda_sockopt_carry(app, scratch, tgt6, AF_INET6, SOCK_DGRAM, res, 8);
	cr_assert_null(result_for(res, n, IPPROTO_IP, IP_TOS));
	close(tgt6);
	close(app);
	close(scratch);
	close(tgt);
}

Test(sockopt_map6, v6only_on_is_left_out)
{
	/* V6ONLY=1 with a v4-mapped bind is EINVAL in the kernel (the shim never
	 * adopts it); the carry itself never warns about V6ONLY on an IPv4 socket */
	int app = sock(AF_INET6, SOCK_STREAM), scratch = sock(AF_INET6, SOCK_STREAM), tgt = sock(AF_INET, SOCK_STREAM);
	seti(app, IPPROTO_IPV6, IPV6_V6ONLY, !geti(scratch, IPPROTO_IPV6, IPV6_V6ONLY));
	struct sda_opt_result res[4];
	cr_assert_eq(sda_sockopt_carry_map6(app, scratch, tgt, SOCK_STREAM, res, 4), 0u);
	close(app);
	close(scratch);
	close(tgt);
}
