/* SPDX-License-Identifier: MIT */
#include "xlate.h"

#include <string.h>

#include "addr.h"

void sda_xlate_out(struct sockaddr *app, socklen_t *applen,
		   const struct sockaddr_storage *ss, socklen_t sslen)
{
	struct sockaddr_storage tmp = *ss;
	socklen_t n = sslen;

	sda_addr_unmap_v4((struct sockaddr *)&tmp, &n);
	memcpy(app, &tmp, *applen < n ? *applen : n);
	*applen = n;
}
