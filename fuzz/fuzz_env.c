/* SPDX-License-Identifier: MIT */
/* Fuzz target: sda_env_parse() and the strict number parsers, against an
 * oracle of the documented semantics (design.md §3, env.h):
 *
 *   LISTEN_PID absent -> 0; not a pid (strict decimal, 1..INT_MAX) -> -EINVAL;
 *   another pid -> 0; LISTEN_PIDFDID present: not a u64 -> -EINVAL, known
 *   and different -> 0; LISTEN_FDS absent -> 0; not strict decimal in
 *   1..INT_MAX-3 -> -EINVAL; more than max_fds - 3 (when max_fds > 0) ->
 *   -EINVAL; LISTEN_FDNAMES present: split on ':' keeping empty fields,
 *   count must equal LISTEN_FDS, else -EINVAL; absent -> "unknown" each.
 *
 * Input layout:
 *   u8 flags   bit0-3: LISTEN_PID, _PIDFDID, _FDS, _FDNAMES present
 *              bit4: have_self_pidfdid
 *              bit5: LISTEN_PID := decimal(self_pid)
 *              bit6: LISTEN_PIDFDID := decimal(self_pidfdid)
 *              bit7: LISTEN_FDS := decimal(number of names)
 *   u8 maxmode 0: max_fds 0, 1: -1, 2: u32 below, 3: small (u32 % 70000)
 *   u32 self_pid (made positive), u64 self_pidfdid, u32 max_fds
 *   then up to four NUL-separated strings: pid, pidfdid, fds, names. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>

#include "env.h"
#include "fuzz_util.h"

/* ^[0-9]+$ without overflow of uint64_t. */
static int ref_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (x > UINT64_MAX / 10 || (x == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static void check_number_parsers(const char *s)
{
	uint64_t u, ru;
	int i, ok, rok;
	pid_t p;

	/* sda_parse_u64: exactly ref_u64 */
	ok = sda_parse_u64(s, &u) == 0;
	rok = ref_u64(s, &ru) == 0;
	FZ_CHECK("env-u64", ok == rok && (!ok || u == ru), "sda_parse_u64(\"%s\") ok=%d (want %d)",
		 s, ok, rok);

	/* sda_parse_pid: a u64 in 1..INT_MAX */
	ok = sda_parse_pid(s, &p) == 0;
	rok = rok && ru >= 1 && ru <= INT_MAX;
	FZ_CHECK("env-pid", ok == rok && (!ok || (uint64_t)p == ru),
		 "sda_parse_pid(\"%s\") ok=%d (want %d)", s, ok, rok);

	/* sda_parse_int: optional '-', then digits, within int */
	{
		const char *d = s[0] == '-' ? s + 1 : s;
		int neg = d != s;
		int dok = ref_u64(d, &ru) == 0;

		rok = dok && (neg ? ru <= (uint64_t)INT_MAX + 1 : ru <= (uint64_t)INT_MAX);
		ok = sda_parse_int(s, &i) == 0;
		FZ_CHECK("env-int", ok == rok, "sda_parse_int(\"%s\") ok=%d (want %d)", s, ok, rok);
		if (ok) {
			long long want = neg ? -(long long)ru : (long long)ru;

			FZ_CHECK("env-int", (long long)i == want, "sda_parse_int(\"%s\") = %d, want %lld",
				 s, i, want);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct sda_env_input in = { 0 };
	struct sda_env out;
	char gen_pid[32], gen_pidfdid[32], gen_fds[32];
	char *str[4] = { 0 };
	uint8_t flags = fz_u8(&f), maxmode = fz_u8(&f);
	uint32_t maxraw;
	uint64_t v;
	long want, n_names = 0;
	const char *why = NULL;
	int r;

	in.self_pid = (pid_t)(fz_u32(&f) & 0x7fffffff);
	if (in.self_pid == 0)
		in.self_pid = 1;
	in.self_pidfdid = fz_u64(&f);
	in.have_self_pidfdid = !!(flags & 16);
	maxraw = fz_u32(&f);
	in.max_fds = maxmode % 4 == 0 ? 0 : maxmode % 4 == 1 ? -1 :
		     maxmode % 4 == 2 ? (long)maxraw : (long)(maxraw % 70000);
	for (int k = 0; k < 4; k++)
		str[k] = fz_str(&f);

	if (flags & 8 && str[3]) {
		n_names = 1;
		for (const char *p = str[3]; *p; p++)
			n_names += *p == ':';
	}
	snprintf(gen_pid, sizeof(gen_pid), "%ld", (long)in.self_pid);
	snprintf(gen_pidfdid, sizeof(gen_pidfdid), "%" PRIu64, in.self_pidfdid);
	snprintf(gen_fds, sizeof(gen_fds), "%ld", n_names ? n_names : 1);
	in.listen_pid = !(flags & 1) ? NULL : flags & 32 ? gen_pid : str[0] ? str[0] : "";
	in.listen_pidfdid = !(flags & 2) ? NULL : flags & 64 ? gen_pidfdid : str[1] ? str[1] : "";
	in.listen_fds = !(flags & 4) ? NULL : flags & 128 ? gen_fds : str[2] ? str[2] : "";
	in.listen_fdnames = !(flags & 8) ? NULL : str[3] ? str[3] : "";
	if (in.listen_fdnames && !n_names)
		n_names = 1;                     /* "" is one empty name */

	for (int k = 0; k < 4; k++)
		if (str[k])
			check_number_parsers(str[k]);

	/* ---- the oracle ---- */
	if (!in.listen_pid) {
		want = 0;
	} else if (ref_u64(in.listen_pid, &v) < 0 || v < 1 || v > INT_MAX) {
		want = -EINVAL;
	} else if ((pid_t)v != in.self_pid) {
		want = 0;
	} else if (in.listen_pidfdid && ref_u64(in.listen_pidfdid, &v) < 0) {
		want = -EINVAL;
	} else if (in.listen_pidfdid && in.have_self_pidfdid && v != in.self_pidfdid) {
		want = 0;
	} else if (!in.listen_fds) {
		want = 0;
	} else if (ref_u64(in.listen_fds, &v) < 0 || v < 1 || v > (uint64_t)INT_MAX - 3) {
		want = -EINVAL;              /* "-1", "0", "+1", " 1", "1x", overflow */
	} else if (in.max_fds > 0 && (long)v + 3 > in.max_fds) {
		want = -EINVAL;
	} else if (in.listen_fdnames && (uint64_t)n_names != v) {
		want = -EINVAL;
	} else {
		want = (long)v;
	}

	/* A huge LISTEN_FDS without a limit allocates n pointers: legitimately
	 * -ENOMEM or slow; keep the fuzzer away from multi-gigabyte callocs. */
	if (want > 65536 && !in.listen_fdnames)
		goto done;

	r = sda_env_parse(&in, &out);
	why = out.why;
	FZ_CHECK("env-result", r == want || (r == -ENOMEM && want > 0),
		 "sda_env_parse(pid=%s pidfdid=%s fds=%s names=%s self=%ld/%" PRIu64 "/%d max=%ld) = %d, want %ld",
		 in.listen_pid ? in.listen_pid : "(unset)",
		 in.listen_pidfdid ? in.listen_pidfdid : "(unset)",
		 in.listen_fds ? in.listen_fds : "(unset)",
		 in.listen_fdnames ? in.listen_fdnames : "(unset)", (long)in.self_pid,
		 in.self_pidfdid, in.have_self_pidfdid, in.max_fds, r, want);
	if (r > 0) {
		const char *p = in.listen_fdnames;

		FZ_CHECK("env-out", out.n_fds == r && out.names && !why,
			 "n_fds=%d names=%p why=%s", out.n_fds, (void *)out.names, why ? why : "-");
		for (int k = 0; k < r; k++) {
			const char *nm = out.names[k];

			FZ_CHECK("env-names", nm != NULL, "names[%d] is NULL", k);
			if (!p) {
				FZ_CHECK("env-names", strcmp(nm, "unknown") == 0,
					 "names[%d]=\"%s\", want \"unknown\"", k, nm);
				continue;
			}
			size_t len = strcspn(p, ":");

			FZ_CHECK("env-names", strlen(nm) == len && memcmp(nm, p, len) == 0,
				 "names[%d]=\"%s\", want \"%.*s\"", k, nm, (int)len, p);
			p += len + (p[len] == ':');
		}
	} else {
		FZ_CHECK("env-out", out.n_fds == 0 && !out.names, "inert result with n_fds=%d names=%p",
			 out.n_fds, (void *)out.names);
		FZ_CHECK("env-why", why && *why, "inert/error result without a reason");
	}
	sda_env_free(&out);
	sda_env_free(&out);                      /* idempotent */
done:
	for (int k = 0; k < 4; k++)
		free(str[k]);
	return 0;
}
