/* SPDX-License-Identifier: MIT */
/* elfinfo: what an executable file is, from its ELF headers: dynamic or static
 * (PT_INTERP), Go (the .go.buildinfo section or the Go build-id note),
 * class and machine.  Reads the file with pread(2) only. */
#ifndef SDA_ELFINFO_H
#define SDA_ELFINFO_H

#include <stddef.h>

enum sda_go_sign {
	SDA_GO_NONE = 0,
	SDA_GO_BUILDINFO,       /* a .go.buildinfo section with its magic */
	SDA_GO_NOTE,            /* a "Go" note (the Go linker's build id) */
};

struct sda_elf_info {
	int elfclass;           /* 32 or 64 */
	int little_endian;
	unsigned machine;       /* e_machine */
	unsigned type;          /* e_type: ET_EXEC, ET_DYN */
	int has_interp;         /* a PT_INTERP program header: dynamically linked */
	char interp[256];       /* its path ("" if unreadable) */
	int has_dynamic;        /* a PT_DYNAMIC header (static-pie has it, no interp) */
	enum sda_go_sign go;
};

/* Inspect the open file fd.  Returns 0 (info filled), -ENOEXEC when it is
 * not an ELF file (or a truncated one), -EIO and friends when it cannot be
 * read. */
int sda_elf_inspect(int fd, struct sda_elf_info *info);

const char *sda_elf_go_sign_name(enum sda_go_sign g);

#endif
