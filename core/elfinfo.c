/* SPDX-License-Identifier: MIT */
#include "elfinfo.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define GO_MAGIC "\xff Go buildinf:"
#define MAX_PHNUM 512
#define MAX_SHNUM 4096
#define MAX_NOTE 4096

struct reader {
	int fd;
	int le, is64;
};

static int rd(const struct reader *r, uint64_t off, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(r->fd, (char *)buf + got, n - got, (off_t)(off + got));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -ENOEXEC;
		got += (size_t)k;
	}
	return 0;
}

static uint64_t num(const struct reader *r, const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[r->le ? n - 1 - i : i];
	return v;
}

static int note_is_go(const struct reader *r, uint64_t off, uint64_t size)
{
	unsigned char buf[MAX_NOTE];
	size_t pos = 0;

	if (size > sizeof(buf))
		size = sizeof(buf);
	if (size < 12 || rd(r, off, buf, (size_t)size) < 0)
		return 0;
	while (pos + 12 <= size) {
		uint64_t namesz = num(r, buf + pos, 4), descsz = num(r, buf + pos + 4, 4);
		uint64_t type = num(r, buf + pos + 8, 4);
		size_t name_off = pos + 12;
		uint64_t adv = 12 + ((namesz + 3) & ~3ull) + ((descsz + 3) & ~3ull);

		/* the Go linker's build id: name "Go", type 4 (ELF_NOTE_GOBUILDID_TAG) */
		if ((namesz == 3 || namesz == 4) && name_off + 3 <= size && memcmp(buf + name_off, "Go\0", 3) == 0 &&
		    type == 4)
			return 1;
		if (adv > size - pos)
			break;
		pos += (size_t)adv;
	}
	return 0;
}

const char *sda_elf_go_sign_name(enum sda_go_sign g)
{
	switch (g) {
	case SDA_GO_BUILDINFO:
		return "its .go.buildinfo section";
	case SDA_GO_NOTE:
		return "its Go build-id note";
	default:
		return "no Go build information";
	}
}

int sda_elf_inspect(int fd, struct sda_elf_info *info)
{
	unsigned char eh[64], ph[64], sh[64];
	struct reader r = {.fd = fd};
	uint64_t phoff, shoff;
	unsigned phentsize, phnum, shentsize, shnum, shstrndx;
	uint64_t stroff = 0, strsize = 0;
	int e;

	memset(info, 0, sizeof(*info));
	if ((e = rd(&r, 0, eh, 16)) < 0)
		return e == -ENOEXEC ? -ENOEXEC : e;
	if (memcmp(eh, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (eh[EI_CLASS] != ELFCLASS32 && eh[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;
	if (eh[EI_DATA] != ELFDATA2LSB && eh[EI_DATA] != ELFDATA2MSB)
		return -ENOEXEC;
	r.is64 = eh[EI_CLASS] == ELFCLASS64;
	r.le = eh[EI_DATA] == ELFDATA2LSB;
	if ((e = rd(&r, 0, eh, r.is64 ? 64 : 52)) < 0)
		return e;
	info->elfclass = r.is64 ? 64 : 32;
	info->little_endian = r.le;
	info->type = (unsigned)num(&r, eh + 16, 2);
	info->machine = (unsigned)num(&r, eh + 18, 2);
	if (r.is64) {
		phoff = num(&r, eh + 32, 8);
		shoff = num(&r, eh + 40, 8);
		phentsize = (unsigned)num(&r, eh + 54, 2);
		phnum = (unsigned)num(&r, eh + 56, 2);
		shentsize = (unsigned)num(&r, eh + 58, 2);
		shnum = (unsigned)num(&r, eh + 60, 2);
		shstrndx = (unsigned)num(&r, eh + 62, 2);
	} else {
		phoff = num(&r, eh + 28, 4);
		shoff = num(&r, eh + 32, 4);
		phentsize = (unsigned)num(&r, eh + 42, 2);
		phnum = (unsigned)num(&r, eh + 44, 2);
		shentsize = (unsigned)num(&r, eh + 46, 2);
		shnum = (unsigned)num(&r, eh + 48, 2);
		shstrndx = (unsigned)num(&r, eh + 50, 2);
	}
	if (phnum > MAX_PHNUM || (phnum && (phentsize < (r.is64 ? 56u : 32u) || phentsize > 64)))
		return -ENOEXEC;
	for (unsigned i = 0; i < phnum; i++) {
		uint64_t type, off, filesz;

		if ((e = rd(&r, phoff + (uint64_t)i * phentsize, ph, phentsize)) < 0)
			return e;
		type = num(&r, ph, 4);
		if (r.is64) {
			off = num(&r, ph + 8, 8);
			filesz = num(&r, ph + 32, 8);
		} else {
			off = num(&r, ph + 4, 4);
			filesz = num(&r, ph + 16, 4);
		}
		if (type == PT_INTERP) {
			info->has_interp = 1;
			if (filesz > 1 && filesz <= sizeof(info->interp) &&
			    rd(&r, off, info->interp, (size_t)filesz) == 0)
				info->interp[filesz - 1] = '\0';
			else
				info->interp[0] = '\0';
			info->interp[sizeof(info->interp) - 1] = '\0';
		} else if (type == PT_DYNAMIC) {
			info->has_dynamic = 1;
		} else if (type == PT_NOTE && !info->go && note_is_go(&r, off, filesz)) {
			info->go = SDA_GO_NOTE;
		}
	}
	/* sections: .go.buildinfo (the Go toolchain's build information) */
	if (shnum == 0 || shnum > MAX_SHNUM || shstrndx >= shnum ||
	    shentsize < (r.is64 ? 64u : 40u) || shentsize > 64)
		return 0;
	if (rd(&r, shoff + (uint64_t)shstrndx * shentsize, sh, shentsize) < 0)
		return 0;
	stroff = r.is64 ? num(&r, sh + 24, 8) : num(&r, sh + 16, 4);
	strsize = r.is64 ? num(&r, sh + 32, 8) : num(&r, sh + 20, 4);
	for (unsigned i = 0; i < shnum; i++) {
		char name[24];
		unsigned char magic[sizeof(GO_MAGIC) - 1];
		uint64_t nameoff, off, size, type, nlen;

		if (rd(&r, shoff + (uint64_t)i * shentsize, sh, shentsize) < 0)
			return 0;
		nameoff = num(&r, sh, 4);
		type = num(&r, sh + 4, 4);
		off = r.is64 ? num(&r, sh + 24, 8) : num(&r, sh + 16, 4);
		size = r.is64 ? num(&r, sh + 32, 8) : num(&r, sh + 20, 4);
		if (nameoff >= strsize)
			continue;
		nlen = strsize - nameoff < sizeof(name) - 1 ? strsize - nameoff : sizeof(name) - 1;
		memset(name, 0, sizeof(name));
		if (rd(&r, stroff + nameoff, name, (size_t)nlen) < 0)
			continue;
		if (strcmp(name, ".go.buildinfo") == 0) {
			if (type != SHT_NOBITS && size >= sizeof(magic) &&
			    rd(&r, off, magic, sizeof(magic)) == 0 &&
			    memcmp(magic, GO_MAGIC, sizeof(magic)) == 0)
				info->go = SDA_GO_BUILDINFO;
			break;
		}
		if (type == SHT_NOTE && !info->go && strcmp(name, ".note.go.buildid") == 0 &&
		    note_is_go(&r, off, size))
			info->go = SDA_GO_NOTE;
	}
	return 0;
}
