/* SPDX-License-Identifier: MIT */
/* opts: the command line of sdadopt(1).  Values are checked with core/'s
 * parsers, the ones the shim uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "launcher.h"

void ln_usage(void)
{
	fputs(
"Usage: sdadopt [OPTION]... [--] COMMAND [ARG]...\n"
"\n"
"Run COMMAND so that an unmodified server adopts the listening sockets\n"
"systemd socket activation (or --listen) hands it: when the server bind()s an\n"
"address an inherited socket serves, it gets that socket.  Dynamically linked\n"
"programs get libsdadopt.so preloaded; statically linked and Go programs run\n"
"in seccomp mode, where sdadopt stays their parent and answers their bind().\n"
"\n"
"Options:\n"
"  --map ADDR=NAME[,ADDR=NAME...]\n"
"                     a bind() of ADDR gets the inherited socket named NAME\n"
"                     (FileDescriptorName=, --fdname); ADDR is IPv4:PORT,\n"
"                     [IPv6]:PORT, /path or @abstract (repeatable; SDADOPT_MAP)\n"
"  --log LEVEL        off, error, warning, info (default) or debug (SDADOPT_LOG)\n"
"  --match exact|port exact (default): address rules only; port: also adopt any\n"
"                     inherited socket of the same type and port (SDADOPT_MATCH)\n"
"  --strict           a bind() of an inherited port on another address fails\n"
"                     with EADDRINUSE, never-adopted sockets are errors\n"
"                     (SDADOPT_STRICT=1), and a COMMAND that cannot adopt\n"
"                     sockets is not run (exit 70)\n"
"  --listen ADDR      create a listening socket and pass it to COMMAND as\n"
"                     systemd would (repeatable): PORT, IP:PORT, [IPv6]:PORT,\n"
"                     /path or @abstract, as systemd-socket-activate -l\n"
"  --datagram         the --listen sockets are datagram (UDP, unix dgram)\n"
"  --seqpacket        the --listen sockets are SOCK_SEQPACKET (unix)\n"
"  --fdname NAME      name of the next --listen socket, in order (repeatable;\n"
"                     LISTEN_FDNAMES); unnamed sockets are \"unknown\"\n"
"  --activator auto|builtin|ssa\n"
"                     how --listen makes the sockets: builtin (sdadopt itself,\n"
"                     starts COMMAND at once; also called perl), ssa\n"
"                     (systemd-socket-activate, which starts COMMAND at the\n"
"                     first connection or datagram); auto (default): builtin\n"
"  --seccomp          use seccomp mode whatever COMMAND is\n"
"  --no-seccomp       never use seccomp mode: preload the shim (static and Go\n"
"                     programs then adopt nothing)\n"
"  --explain          run COMMAND with SDADOPT_LOG=debug, then print what the\n"
"                     shim saw (inherited sockets) and what each bind() did\n"
"  --run-for SECONDS  with --explain: stop COMMAND (SIGTERM) after SECONDS\n"
"  --shim PATH        the shim to preload (default: $SDADOPT_SHIM, then the\n"
"                     installed libsdadopt.so, then ../shim/ next to this\n"
"                     program in a build tree)\n"
"  -h, --help         show this help and exit\n"
"  --version          show the version and exit\n"
"\n"
"Before running COMMAND, sdadopt reads its ELF file: a dynamically linked\n"
"program gets the shim; a statically linked or Go program runs in seccomp\n"
"mode; a setuid/setgid program or one with file capabilities (secure mode)\n"
"cannot load the shim: sdadopt warns about it on stderr (and refuses it with\n"
"--strict).  --explain says which mode it chose and why.\n"
"\n"
"Exit status:\n"
"  COMMAND's own exit status when it runs (128+N when killed by signal N,\n"
"  with --explain and in seccomp mode);\n"
"  64  usage error;\n"
"  69  the shim was not found (or systemd-socket-activate, for --activator\n"
"      ssa), or seccomp mode is not possible here (kernel, seccomp policy,\n"
"      ptrace restrictions);\n"
"  70  --strict and COMMAND cannot adopt sockets (setuid, or static/Go with\n"
"      --no-seccomp);\n"
"  71  a --listen socket could not be created (address in use, permission);\n"
"  126 COMMAND is not executable;\n"
"  127 COMMAND was not found.\n"
"\n"
"Examples:\n"
"  sdadopt --listen 127.0.0.1:8080 -- python3 -m http.server --bind 127.0.0.1 8080\n"
"  sdadopt --explain --run-for 5 --listen 8080 -- /usr/sbin/nginx -g 'daemon off;'\n"
"  ExecStart=/usr/bin/sdadopt --map 0.0.0.0:6379=redis -- /usr/bin/redis-server\n"
"\n"
"See sdadopt(1) and libsdadopt(7).\n",
	      stdout);
}

static void push(char ***v, size_t *n, char *s)
{
	*v = ln_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* ^[0-9]+([.][0-9]+)?$ */
static int parse_seconds(const char *s, double *out)
{
	const char *p = s;
	char *end;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return -EINVAL;
	*out = strtod(s, &end);
	return 0;
}

static int takes_value(const char *opt)
{
	static const char *const v[] = {"--map",    "--log",   "--match",     "--listen",
					"--fdname", "--shim",  "--activator", "--run-for"};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(opt, v[i]) == 0)
			return 1;
	return 0;
}

static int is_flag(const char *opt)
{
	static const char *const f[] = {"--strict",  "--explain", "--datagram",   "--seqpacket",
					"--help",    "-h",        "--version",    "--seccomp",
					"--no-seccomp"};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(opt, f[i]) == 0)
			return 1;
	return 0;
}

static void version(void)
{
	printf("sdadopt %s\n", SDADOPT_VERSION);
}

void ln_parse_opts(int argc, char **argv, struct opts *o)
{
	const char *activator = "auto";
	int i = 1;

	memset(o, 0, sizeof(*o));
	o->socktype = SOCK_STREAM;
	while (i < argc) {
		char *arg = argv[i], *opt, *val = NULL;
		int has_val = 0;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		opt = ln_strdup(arg);
		if (opt[0] == '-' && opt[1] == '-' && strchr(opt, '=')) {
			char *eq = strchr(opt, '=');

			*eq = '\0';
			val = arg + (eq - opt) + 1;   /* in argv: it outlives opt */
			has_val = 1;
		}
		if (takes_value(opt)) {
			if (!has_val) {
				if (i + 1 >= argc)
					ln_usage_error("option '%s' requires an argument", opt);
				val = argv[++i];
			}
			if (!strcmp(opt, "--map"))
				push(&o->map, &o->nmap, val);
			else if (!strcmp(opt, "--log"))
				o->log = val;
			else if (!strcmp(opt, "--match"))
				o->match = val;
			else if (!strcmp(opt, "--listen"))
				push(&o->listen, &o->nlisten, val);
			else if (!strcmp(opt, "--fdname"))
				push(&o->fdnames, &o->nfdnames, val);
			else if (!strcmp(opt, "--shim"))
				o->shim = val;
			else if (!strcmp(opt, "--activator"))
				activator = val;
			else if (!strcmp(opt, "--run-for"))
				o->run_for = val;
		} else if (is_flag(opt)) {
			if (has_val)
				ln_usage_error("option '%s' takes no argument", opt);
			if (!strcmp(opt, "--strict"))
				o->strict = 1;
			else if (!strcmp(opt, "--explain"))
				o->explain = 1;
			else if (!strcmp(opt, "--datagram"))
				o->socktype = SOCK_DGRAM;
			else if (!strcmp(opt, "--seqpacket"))
				o->socktype = SOCK_SEQPACKET;
			else if (!strcmp(opt, "--seccomp"))
				o->seccomp = SECCOMP_FORCE;
			else if (!strcmp(opt, "--no-seccomp"))
				o->seccomp = SECCOMP_NEVER;
			else if (!strcmp(opt, "--version")) {
				version();
				exit(0);
			} else {
				ln_usage();
				exit(0);
			}
		} else {
			ln_usage_error("unknown option '%s'", opt);
		}
		free(opt);
		i++;
	}
	if (i >= argc)
		ln_usage_error("no COMMAND given");
	o->argv = argv + i;
	o->argc = argc - i;

	/* --- validate, with core/'s parsers ----------------------------- */
	if (o->log && *o->log) {
		enum sda_level l;

		if (sda_parse_level(o->log, &l) < 0)
			ln_usage_error("--log: '%s' is not a level (off, error, warning, info, debug, 0-7)",
				       o->log);
	}
	if (o->match && *o->match) {
		enum sda_match_policy p;

		if (sda_parse_match_policy(o->match, &p) < 0)
			ln_usage_error("--match: '%s' is not a policy (exact, port)", o->match);
	}
	if (!strcmp(activator, "auto"))
		o->activator = ACT_AUTO;
	else if (!strcmp(activator, "builtin") || !strcmp(activator, "perl"))
		o->activator = ACT_BUILTIN;
	else if (!strcmp(activator, "ssa"))
		o->activator = ACT_SSA;
	else
		ln_usage_error("--activator: '%s' is not one of auto, builtin, ssa", activator);
	if (o->run_for) {
		if (parse_seconds(o->run_for, &o->run_for_s) < 0)
			ln_usage_error("--run-for: '%s' is not a number of seconds", o->run_for);
		if (!o->explain)
			ln_usage_error("--run-for only makes sense with --explain");
	}
	for (size_t k = 0; k < o->nmap; k++)
		if (!*o->map[k])
			ln_usage_error("--map: empty mapping");
	for (size_t k = 0; k < o->nlisten; k++) {
		struct sda_listen_addr a;

		if (sda_listen_parse(o->listen[k], &a) < 0)
			ln_usage_error("--listen: '%s' is not PORT, IPv4:PORT, [IPv6]:PORT, /path or "
				       "@abstract (port 1-65535)",
				       o->listen[k]);
	}
	if (o->nfdnames) {
		if (!o->nlisten)
			ln_usage_error("--fdname needs --listen");
		if (o->nfdnames > o->nlisten)
			ln_usage_error("more --fdname (%zu) than --listen (%zu)", o->nfdnames, o->nlisten);
		for (size_t k = 0; k < o->nfdnames; k++)
			if (!sda_fdname_valid(o->fdnames[k]))
				ln_usage_error("--fdname: '%s' is not a valid name (1-255 printable ASCII "
					       "characters, no ':')",
					       o->fdnames[k]);
	}
	if (o->socktype != SOCK_STREAM && !o->nlisten)
		ln_usage_error("--datagram and --seqpacket need --listen");
	if (o->socktype == SOCK_SEQPACKET)
		for (size_t k = 0; k < o->nlisten; k++)
			if (o->listen[k][0] != '/' && o->listen[k][0] != '@')
				ln_usage_error("--seqpacket: '%s' is not a unix socket (/path or @abstract)",
					       o->listen[k]);
}
