/* SPDX-License-Identifier: MIT */
#include "addrcheck.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* What a short buffer must hold: the first n bytes of the full address, as
 * hex. */
static const char *head_hex(int family, const char *ip, unsigned port, size_t n)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	const unsigned char *b = (const unsigned char *)&ss;
	char out[2 * sizeof ss + 1] = "";

	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_port = htons((unsigned short)port);
		cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_port = htons((unsigned short)port);
		cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	}
	for (size_t k = 0; k < n && k < sizeof ss; k++)
		snprintf(out + 2 * k, 3, "%02x", b[k]);
	return fmt("%s", out);
}

void expect_addr(const struct run *r, int nth, const char *call, int family, const char *ip, unsigned port,
		 int buflen)
{
	const int len = family == AF_INET ? (int)sizeof(struct sockaddr_in) : (int)sizeof(struct sockaddr_in6);
	const char *l = line_find(r->o, "addr", nth);
	char v[256];

	if (!l)
		run_dump(r);
	cr_assert_not_null(l, "no addr line #%d (%s)", nth, call);
	int n = (int)strcspn(l, "\n");
	cr_assert_str_eq(kv_str(l, "call", v, sizeof v), call, "addr #%d: %.*s", nth, n, l);
	cr_expect_eq(kv_num(l, "len"), len, "%s: want *addrlen %d: %.*s", call, len, n, l);
	cr_expect_eq(kv_num(l, "intact"), 1, "%s wrote past the app's %d bytes: %.*s", call, buflen, n, l);
	if (buflen >= len) {
		cr_expect_str_eq(kv_str(l, "family", v, sizeof v), family == AF_INET ? "inet" : "inet6",
				 "%s: %.*s", call, n, l);
		const char *want = family == AF_INET ? fmt("%s:%u", ip, port) : fmt("[%s]:%u", ip, port);
		cr_expect_str_eq(kv_str(l, "addr", v, sizeof v), want, "%s: %.*s", call, n, l);
	} else {
		cr_expect_str_eq(kv_str(l, "addr", v, sizeof v), "truncated", "%s: %.*s", call, n, l);
		kv_str(l, "bytes", v, sizeof v);
		cr_expect_str_eq(v, head_hex(family, ip, port, (size_t)buflen), "%s: the %d bytes copied: %.*s",
				 call, buflen, n, l);
	}
}

void expect_adopt_log(const struct run *r, const char *what)
{
	const char *l = line_find_sub(r->e, "info: adopted", 0);

	cr_assert_not_null(l, "no adoption line:\n%s", r->e);
	cr_expect(line_find_sub(l, what, 0) == l, "the adoption line does not say '%s':\n%s", what, r->e);
}

unsigned echo_adopted(struct run *r, const char *spec, const char *tag, int n, unsigned *cport)
{
	cr_assert_not_null(run_wait(r, "socket", 0), "the activator reported no socket:\n%s", r->e);
	unsigned port = (unsigned)act_value(r, 0, "port");
	for (int i = 0; i < n; i++) {
		unsigned c = expect_echo(fmt(spec, port), fmt("%s%d", tag, i));
		if (cport)
			cport[i] = c;
	}
	cr_assert_eq(run_finish(r), 0);
	expect_adopted(r, 0, 0);
	return port;
}

void expect_stream_run(struct run *r, struct args *a, const char *spec, int family, const char *any,
		       const char *lo, int n, const int *buflen)
{
	unsigned cport[64];

	cr_assert(n > 0 && n <= 64, "%d clients", n);
	for (int i = 0; i < n; i++) {
		if (!i || buflen[i] != buflen[i - 1])
			args_add(a, "addrlen", fmt("%d", buflen[i]));
		args_add(a, "getsockname", i % 2 ? "accept4" : "accept", "getpeername", "getsockname", "reply");
	}
	run_start_args(r, WITH_SHIM, a);
	unsigned port = echo_adopted(r, spec, "client", n, cport);
	cr_assert_eq(line_count(r->o, "replied"), n, "%s", r->o);
	for (int i = 0; i < n; i++) {
		const char *accept_call = i % 2 ? "accept4" : "accept";
		expect_addr(r, 4 * i, "getsockname", family, any, port, buflen[i]);      /* the listener */
		expect_addr(r, 4 * i + 1, accept_call, family, lo, cport[i], buflen[i]);
		expect_addr(r, 4 * i + 2, "getpeername", family, lo, cport[i], buflen[i]);
		expect_addr(r, 4 * i + 3, "getsockname", family, lo, port, buflen[i]);   /* the connection */
	}
}
