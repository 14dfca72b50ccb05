/* SPDX-License-Identifier: MIT */
/* The shim exports its hooks and nothing else. */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static const char *const allowed[] = {
	"socket", "bind", "listen", "close", "close_range", "closefrom", "dup2", "dup3",
	"unlink", "unlinkat", "remove", "accept", "accept4", "getsockname", "getpeername",
	"recvfrom", "recvmsg",
	/* exec hand-down (CONTRACT.md) */
	"execve", "execv", "execvp", "execvpe", "fexecve", "execl", "execlp", "execle", "fork",
	/* announced in CONTRACT.md */
	"setsockopt",
	/* v4-mapped adoption (an IPv6 program on an IPv4 socket, CONTRACT.md) */
	"getsockopt", "sendto", "sendmsg", "connect",
};

static int is_allowed(const char *name)
{
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (!strcmp(name, allowed[i]))
			return 1;
	return 0;
}

Test(exports, only_hooks, .timeout = TEST_BACKSTOP_S)
{
	char line[512], name[256], type[8];
	int total = 0, bind_seen = 0, close_seen = 0;
	FILE *p = popen(SDA_NM_PATH " -D --defined-only '" SHIM "'", "r");

	cr_assert_not_null(p);
	while (fgets(line, sizeof line, p)) {
		/* "ADDRESS TYPE NAME[@VERSION]" */
		if (sscanf(line, "%*s %7s %255s", type, name) != 2)
			continue;
		name[strcspn(name, "@")] = 0;
		total++;
		bind_seen += !strcmp(name, "bind");
		close_seen += !strcmp(name, "close");
		cr_expect(is_allowed(name), "unexpected export: %s (type %s)", name, type);
	}
	cr_assert_eq(pclose(p), 0, "nm failed");
	cr_assert_gt(total, 0, "nm listed nothing");
	cr_expect(bind_seen && close_seen, "the hooks are not exported");
}
