/* SPDX-License-Identifier: MIT */
/* Unit tests of core/elfinfo (what the launcher reads from a program's ELF
 * file) on real binaries built here: dynamic, -static, -static-pie, a C
 * program carrying Go's build-information section, and a CGO_ENABLED=0 Go
 * program when the go tool is installed (golang-go).  Also core/listenaddr. */
#include <criterion/criterion.h>

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elfinfo.h"
#include "listenaddr.h"

#ifndef SDA_TEST_CC
#define SDA_TEST_CC "cc"
#endif

static char dir[] = "/tmp/sdadopt-elf.XXXXXX";
static int made;

static void setup_dir(void)
{
	if (!made) {
		cr_assert_not_null(mkdtemp(dir));
		made = 1;
	}
}

static int sh(const char *fmt, ...);

static void cleanup(void)
{
	if (made)
		sh("rm -rf %s", dir);
}
TestSuite(elf, .fini = cleanup);
TestSuite(listenaddr);

/* run a shell command; its status */
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *prog_c = "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n";

static void write_file(const char *path, const char *a, const char *b)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "cannot write %s", path);
	fputs(a, f);
	if (b)
		fputs(b, f);
	cr_assert_eq(fclose(f), 0);
}

/* build NAME from C source (extra_src, then a main) with FLAGS; the path */
static const char *build(const char *name, const char *flags, const char *extra_src)
{
	static char path[512];
	char src[600];

	setup_dir();
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(src, sizeof(src), "%s/%s.c", dir, name);
	write_file(src, extra_src ? extra_src : "", prog_c);
	cr_assert_eq(sh("%s -O1 %s -o %s %s", SDA_TEST_CC, flags, path, src), 0,
		     "cannot build %s with %s", name, flags);
	return path;
}

static int inspect(const char *path, struct sda_elf_info *info)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	cr_assert_geq(fd, 0, "open %s", path);
	r = sda_elf_inspect(fd, info);
	close(fd);
	return r;
}

Test(elf, dynamic_program)
{
	struct sda_elf_info e;

	cr_assert_eq(inspect(build("dyn", "", NULL), &e), 0);
	cr_assert(e.has_interp, "a dynamic program has PT_INTERP");
	cr_assert(strstr(e.interp, "ld-linux") || strstr(e.interp, "ld64") || strstr(e.interp, "ld.so"),
		  "interp %s", e.interp);
	cr_assert_eq(e.go, SDA_GO_NONE);
	cr_assert_eq(e.elfclass, (int)sizeof(void *) * 8);
	cr_assert_eq(e.little_endian, __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);
#ifdef __x86_64__
	cr_assert_eq(e.machine, EM_X86_64);
#endif
}

Test(elf, static_program)
{
	struct sda_elf_info e;

	cr_assert_eq(inspect(build("static", "-static", NULL), &e), 0);
	cr_assert_not(e.has_interp, "a -static program has no PT_INTERP");
	cr_assert_eq(e.type, ET_EXEC);
	cr_assert_eq(e.go, SDA_GO_NONE);
}

Test(elf, static_pie_program)
{
	struct sda_elf_info e;
	const char *p = build("spie", "-static-pie", NULL);

	cr_assert_eq(inspect(p, &e), 0);
	cr_assert_not(e.has_interp, "static-pie: no PT_INTERP");
	cr_assert(e.has_dynamic, "static-pie: PT_DYNAMIC (it relocates itself)");
	cr_assert_eq(e.type, ET_DYN);
}

Test(elf, go_buildinfo_section_in_a_c_program)
{
	struct sda_elf_info e;
	const char *sect = "__attribute__((section(\".go.buildinfo\"), used)) static const char "
			   "bi[32] = \"\\xff Go buildinf:\\x08\\x02\";\n";

	cr_assert_eq(inspect(build("gofake", "", sect), &e), 0);
	cr_assert_eq(e.go, SDA_GO_BUILDINFO, "go sign %d", e.go);
	cr_assert(e.has_interp);
}

Test(elf, a_section_named_go_buildinfo_without_the_magic_is_not_go)
{
	struct sda_elf_info e;
	const char *sect = "__attribute__((section(\".go.buildinfo\"), used)) static const char "
			   "bi[32] = \"not the magic\";\n";

	cr_assert_eq(inspect(build("gonot", "", sect), &e), 0);
	cr_assert_eq(e.go, SDA_GO_NONE);
}

Test(elf, real_go_program, .timeout = 1800)
{
	struct sda_elf_info e;
	char path[512];

	setup_dir();
	if (sh("command -v go >/dev/null 2>&1") != 0)
		cr_skip_test("the go tool is not installed (golang-go)");
	snprintf(path, sizeof(path), "%s/gohello", dir);
	{
		char src[600];

		snprintf(src, sizeof(src), "%s/hello.go", dir);
		write_file(src, "package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"hi\") }\n", NULL);
	}
	cr_assert_eq(sh("cd %s && HOME=%s GOCACHE=%s/gocache GOPATH=%s/gopath GOFLAGS= CGO_ENABLED=0 "
			"go build -o %s hello.go",
			dir, dir, dir, dir, path),
		     0, "go build failed");
	cr_assert_eq(inspect(path, &e), 0);
	cr_assert_not(e.has_interp, "CGO_ENABLED=0: static");
	cr_assert_neq(e.go, SDA_GO_NONE, "the Go build information is found");
	/* stripped of its section headers, the Go note still tells */
	if (sh("command -v objcopy >/dev/null 2>&1") == 0 &&
	    sh("objcopy --remove-section=.go.buildinfo %s %s.nobi 2>/dev/null", path, path) == 0) {
		char p2[600];

		snprintf(p2, sizeof(p2), "%s.nobi", path);
		cr_assert_eq(inspect(p2, &e), 0);
		cr_assert_eq(e.go, SDA_GO_NOTE, "without .go.buildinfo: the Go build-id note (%d)", e.go);
	}
}

Test(elf, not_elf)
{
	struct sda_elf_info e;
	char p[512];

	setup_dir();
	snprintf(p, sizeof(p), "%s/script", dir);
	write_file(p, "#!/bin/sh\nexit 0\n", NULL);
	cr_assert_eq(inspect(p, &e), -ENOEXEC);
	snprintf(p, sizeof(p), "%s/empty", dir);
	cr_assert_eq(sh(": >%s", p), 0);
	cr_assert_eq(inspect(p, &e), -ENOEXEC);
}

Test(elf, truncated_elf)
{
	struct sda_elf_info e;
	char p[600];
	const char *d = build("trunc-src", "", NULL);

	snprintf(p, sizeof(p), "%s.cut", d);
	cr_assert_eq(sh("head -c 40 %s >%s", d, p), 0);
	cr_assert_eq(inspect(p, &e), -ENOEXEC);
}

/* ---- listenaddr ---------------------------------------------------------- */

Test(listenaddr, forms)
{
	struct sda_listen_addr a;

	cr_assert_eq(sda_listen_parse("8080", &a), 0);
	cr_assert(a.bare_port);
	cr_assert_eq(a.addr.family, AF_INET6);
	cr_assert_eq(a.addr.port, 8080);
	cr_assert_eq(sda_listen_parse("127.0.0.1:80", &a), 0);
	cr_assert_eq(a.addr.family, AF_INET);
	cr_assert_not(a.bare_port);
	cr_assert_eq(sda_listen_parse("[::1]:443", &a), 0);
	cr_assert_eq(a.addr.family, AF_INET6);
	cr_assert_eq(sda_listen_parse("[fe80::1%lo]:443", &a), 0);
	cr_assert_str_eq(a.ifname, "lo");
	cr_assert_eq(sda_listen_parse("[fe80::1%7]:443", &a), 0);
	cr_assert_eq(a.addr.scope_id, 7u);
	cr_assert_str_eq(a.ifname, "");
	cr_assert_eq(sda_listen_parse("/run/x.sock", &a), 0);
	cr_assert_eq(a.addr.family, AF_UNIX);
	cr_assert_eq(sda_listen_parse("@abs", &a), 0);
	cr_assert(a.addr.abstract);
}

Test(listenaddr, refused)
{
	struct sda_listen_addr a;
	char longp[120];

	cr_assert_eq(sda_listen_parse("0", &a), -EINVAL);
	cr_assert_eq(sda_listen_parse("70000", &a), -EINVAL);
	cr_assert_eq(sda_listen_parse("127.0.0.1:0", &a), -EINVAL);
	cr_assert_eq(sda_listen_parse("localhost:80", &a), -EINVAL);
	cr_assert_eq(sda_listen_parse("[::1]", &a), -EINVAL);
	cr_assert_eq(sda_listen_parse("[fe80::1%]:1", &a), -EINVAL);
	cr_assert_eq(sda_listen_parse("[fe80::1%a b]:1", &a), -EINVAL);
	cr_assert_eq(sda_listen_parse("", &a), -EINVAL);
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[108] = '\0';
	cr_assert_eq(sda_listen_parse(longp, &a), -EINVAL, "108 characters: too long");
	longp[107] = '\0';
	cr_assert_eq(sda_listen_parse(longp, &a), 0, "107 characters fit");
}

Test(listenaddr, fdnames)
{
	char big[300];

	cr_assert(sda_fdname_valid("web"));
	cr_assert(sda_fdname_valid("a b"));
	cr_assert_not(sda_fdname_valid(""));
	cr_assert_not(sda_fdname_valid("a:b"));
	cr_assert_not(sda_fdname_valid("tab\there"));
	cr_assert_not(sda_fdname_valid("\xc3\xa9"));
	memset(big, 'x', sizeof(big));
	big[255] = '\0';
	cr_assert(sda_fdname_valid(big));
	big[255] = 'x';
	big[256] = '\0';
	cr_assert_not(sda_fdname_valid(big));
}
