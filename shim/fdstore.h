/* SPDX-License-Identifier: MIT */
/* fdstore: graceful restarts without a socket unit.  With SDADOPT_FDSTORE=1
 * in a service that has NOTIFY_SOCKET (NotifyAccess=) and
 * FileDescriptorStoreMax=, each listening socket the program binds natively
 * is handed to systemd's file descriptor store once (FDSTORE=1, FDNAME=
 * derived from its address, SCM_RIGHTS); systemd passes it back in
 * LISTEN_FDS on the next start, and the shim adopts it like an activated
 * socket.  Off unless asked for. */
#ifndef SDA_FDSTORE_H
#define SDA_FDSTORE_H

#include <stddef.h>

/* The constructor: read SDADOPT_FDSTORE, NOTIFY_SOCKET, FDSTORE (the
 * store's size, set by systemd >= 254), SDADOPT_LOG and JOURNAL_STREAM
 * once.  Bad or absent NOTIFY_SOCKET: one line, the store stays off. */
void sda_fdstore_configure(void);

/* After the real listen() on fd succeeded: hand fd to the store if it is a
 * native listening socket not handed yet.  O(1) when the store is off;
 * preserves errno; no allocation, no stdio; bounded in time. */
void sda_fdstore_listened(int fd);

/* The name a listening socket is stored under: "TYPE-ADDRESS" with the
 * address as the log writes it and ':' (the separator of LISTEN_FDNAMES)
 * as '_': "tcp-127.0.0.1_8080", "tcp-[__1]_8080", "stream-/run/x.sock".
 * Always a valid FDNAME= (printable ASCII, no ':', at most 255 bytes) and
 * never one of systemd's reserved names.  Returns its length. */
size_t sda_fdstore_name(int family, int type, const char *addr, char *buf, size_t cap);

#endif
