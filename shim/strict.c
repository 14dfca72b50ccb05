/* SPDX-License-Identifier: MIT */
#include "strict.h"

#include <errno.h>

#include "inherited.h"
#include "log.h"

int sda_strict_may_refuse(const struct sda_addr *want)
{
	return sda_inh.settings.strict && sda_registry_same_port(&sda_inh.reg, want, 0) >= 0;
}

int sda_strict_bypass(int fd, const struct sda_addr *want, int type)
{
	const struct sda_registry *reg = &sda_inh.reg;
	char a[160], b[160];
	long i;

	if (!sda_inh.settings.strict || (i = sda_registry_same_port(reg, want, type)) < 0)
		return 0;
	sda_addr_format(want, a, sizeof(a));
	sda_addr_format(&reg->e[i].addr, b, sizeof(b));
	sda_err("bind(%d, %s) would bypass inherited fd %d \"%s\" (%s %s); failing it with "
		"EADDRINUSE (SDADOPT_STRICT)", fd, a, sda_inherited_no(&reg->e[i]), reg->e[i].name,
		sda_type_name(reg->e[i].family, reg->e[i].type), b);
	return -EADDRINUSE;
}
