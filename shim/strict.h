/* SPDX-License-Identifier: MIT */
/* strict: SDADOPT_STRICT=1 fails a bind that would bypass activation. */
#ifndef SDA_STRICT_H
#define SDA_STRICT_H

#include "addr.h"

/* A bind of a port an inherited socket serves, on an address or family that
 * it does not: -EADDRINUSE (and one error line) in strict mode, else 0. */
int sda_strict_bypass(int fd, const struct sda_addr *want, int type);
/* Could a bind of `want` be refused by strict mode (any type)? */
int sda_strict_may_refuse(const struct sda_addr *want);

#endif
