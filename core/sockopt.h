/* SPDX-License-Identifier: MIT */
/* sockopt: the options an app set on its own socket before bind(), and what
 * becomes of each when that socket is replaced by an inherited one. */
#ifndef SDA_SOCKOPT_H
#define SDA_SOCKOPT_H

#include <stddef.h>
#include <stdint.h>

#define SDA_OPTS_MAX 32            /* options in the table: a mask is 32 bits */
#define SDA_OPT_VALUE_MAX 16       /* bytes of the largest value */

enum sda_opt_class {
	SDA_OPT_REPLAY,    /* applies to the listening socket: set it there too */
	SDA_OPT_IGNORE,    /* only matters for bind(), which already happened */
	SDA_OPT_UNIT,      /* the unit may set it too (ReceiveBuffer=, Mark=...): replay
			    * unless the inherited socket has a non-default value,
			    * which wins (a conflict to warn about) */
	SDA_OPT_FIXED,     /* cannot change once bound (IPV6_V6ONLY): a conflict if different */
};

struct sda_opt {
	int level, name;
	const char *text;              /* "TCP_NODELAY" */
	enum sda_opt_class cls;
	unsigned char len;             /* bytes of the value (int, struct linger) */
	unsigned char inet_only;       /* only on AF_INET/AF_INET6 sockets */
	unsigned char family;          /* 0 any; AF_INET or AF_INET6 for IP-level ones */
	unsigned char stream_only;     /* TCP options */
	unsigned char doubled;         /* the kernel doubles what is set (buffers) */
};

extern const struct sda_opt sda_opts[];
extern const size_t sda_n_opts;

const char *sda_opt_class_name(enum sda_opt_class c);

struct sda_opt_result {
	const struct sda_opt *opt;
	const struct sda_opt *as;     /* what was set on the inherited socket, when
				       * not opt (a v4-mapped adoption: its IPv4 twin) */
	long app_value;       /* first int of the app's value (for logs) */
	long unit_value;      /* first int of the inherited socket's value */
	int action;           /* 1 replayed, 0 nothing to do (same value, ignored),
			       * 2 conflict: the inherited socket keeps its value,
			       * -errno replay failed */
};

/* Index of (level, name) in sda_opts[], or -ENOENT. */
long sda_opt_index(int level, int name);

/* The kernel's defaults for one kind of socket (family, type, protocol),
 * read once from a fresh socket of that kind and reused for every
 * adoption of that kind.  Bit i of `known`: sda_opts[i] applies to the kind
 * and v[i] holds its default. */
struct sda_opt_defaults {
	uint32_t known;
	unsigned char v[SDA_OPTS_MAX][SDA_OPT_VALUE_MAX];
};
void sda_sockopt_learn(int scratch_fd, int family, int type, struct sda_opt_defaults *d);

/* Carry the options of app_fd over to target_fd.  Only the options in `set`
 * (bit i: sda_opts[i]) are read from app_fd: the caller knows which ones
 * the app may have set (all of them: ~0); an option whose value is still
 * the default counts as not set.  Each changed option is handled as its
 * class says; an `ignore` option costs no read of target_fd.  Results for
 * every changed option go to res (up to cap); returns how many changed.
 * Uses getsockopt/setsockopt only (never hooked by the shim). */
size_t sda_sockopt_carry_set(int app_fd, const struct sda_opt_defaults *d, uint32_t set,
			     int target_fd, int type, struct sda_opt_result *res, size_t cap);

/* The same in one call, every option looked at, with the defaults read
 * from scratch_fd (a fresh socket of the same family, type and protocol). */
size_t sda_sockopt_carry(int app_fd, int scratch_fd, int target_fd, int family, int type,
			 struct sda_opt_result *res, size_t cap);

/* A v4-mapped adoption: the app's socket is AF_INET6, the inherited one
 * AF_INET (core/map6.h).  The app may have set IPv4-level options on its
 * IPv6 socket too (for its IPv4 traffic, which is all it has), so the
 * defaults are learnt for both levels (from a fresh AF_INET6 socket), and
 * each table option is carried as above, the IPv6-level ones onto their
 * IPv4 twins (sda_map6_opts[]: IPV6_TCLASS as IP_TOS, IPV6_RECVPKTINFO as
 * IP_PKTINFO, IPV6_MTU_DISCOVER as IP_MTU_DISCOVER; the result's `as`).
 * IPV6_V6ONLY has none and is left out: off, it is what a v4-mapped socket
 * is; on, the bind never matched (the kernel refuses it). */
void sda_sockopt_learn_map6(int scratch_fd, int type, struct sda_opt_defaults *d);
size_t sda_sockopt_carry_set_map6(int app_fd, const struct sda_opt_defaults *d, uint32_t set,
				  int target_fd, int type, struct sda_opt_result *res, size_t cap);
size_t sda_sockopt_carry_map6(int app_fd, int scratch_fd, int target_fd, int type,
			      struct sda_opt_result *res, size_t cap);

#endif
