/* SPDX-License-Identifier: MIT */
/* listenaddr: the addresses `sdadopt --listen` takes, written as for
 * `systemd-socket-activate -l`: PORT, IPv4:PORT, [IPv6]:PORT,
 * [IPv6%IFACE]:PORT, /path or @abstract. */
#ifndef SDA_LISTENADDR_H
#define SDA_LISTENADDR_H

#include <net/if.h>

#include "addr.h"

struct sda_listen_addr {
	struct sda_addr addr;       /* for a bare PORT: [::]:PORT */
	int bare_port;              /* PORT alone: [::] dual-stack, else 0.0.0.0 */
	char ifname[IF_NAMESIZE];   /* [IPv6%NAME]: the interface to look up;
				     * "" when none or numeric (in addr.scope_id) */
};

/* Parse s (NUL terminated).  Ports are 1-65535; a unix address is at most
 * 107 characters with its '/' or '@'.  Returns 0 or -EINVAL. */
int sda_listen_parse(const char *s, struct sda_listen_addr *out);

/* systemd's fdname_is_valid(): 1-255 printable ASCII characters, no ':'. */
int sda_fdname_valid(const char *name);

#endif
