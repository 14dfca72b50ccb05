/* SPDX-License-Identifier: MIT */
/* The shim's loadable layout, which every process it is preloaded into pays
 * for (docs/performance.md, start-up): the writable bytes past RELRO fit in
 * one page, the page the loader and the constructor write anyway, so that
 * the fd table's first tier (fdtab.h) and the arena's first bytes cost an
 * activated start no page of their own; and, where the linker can, two
 * loadable segments (-z noseparate-code, shim/CMakeLists.txt). */
#include "harness.h"

#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096u

/* The address of the shim's (local) symbol `name`, from its symbol table. */
static unsigned long symbol(const char *name)
{
	char line[512], type[8], sym[256];
	unsigned long addr, found = 0;
	FILE *p = popen(SDA_NM_PATH " '" SHIM "'", "r");

	cr_assert_not_null(p);
	while (fgets(line, sizeof line, p))
		if (sscanf(line, "%lx %7s %255s", &addr, type, sym) == 3 && !strcmp(sym, name))
			found = addr;
	pclose(p);
	cr_assert_neq(found, 0, "no symbol %s in %s (stripped?)", name, SHIM);
	return found;
}

static size_t read_phdrs(Elf64_Phdr *ph, size_t cap)
{
	Elf64_Ehdr eh;
	int fd = open(SHIM, O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s: %s", SHIM, strerror(errno));
	cr_assert_eq(pread(fd, &eh, sizeof eh, 0), (ssize_t)sizeof eh);
	cr_assert_eq(memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
	cr_assert_eq(eh.e_ident[EI_CLASS], ELFCLASS64, "a 64-bit shim is what this test reads");
	cr_assert_eq(eh.e_phentsize, sizeof(Elf64_Phdr));
	cr_assert_leq(eh.e_phnum, cap);
	cr_assert_eq(pread(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), (off_t)eh.e_phoff),
		     (ssize_t)(eh.e_phnum * sizeof(Elf64_Phdr)));
	close(fd);
	return eh.e_phnum;
}

Test(layout, writable_data_in_one_page, .timeout = TEST_BACKSTOP_S)
{
	Elf64_Phdr ph[64];
	size_t n;

#ifdef SDA_PRELOAD_FIRST
	cr_skip_test("a sanitizer build: its globals carry redzones");
#endif
	n = read_phdrs(ph, 64);
	Elf64_Addr rw_lo = 0, rw_hi = 0, relro_hi = 0;
	int loads = 0;

	for (size_t i = 0; i < n; i++) {
		if (ph[i].p_type == PT_LOAD) {
			loads++;
			if (ph[i].p_flags & PF_W) {
				rw_lo = ph[i].p_vaddr;
				rw_hi = ph[i].p_vaddr + ph[i].p_memsz;
			}
		} else if (ph[i].p_type == PT_GNU_RELRO) {
			relro_hi = ph[i].p_vaddr + ph[i].p_memsz;
		}
	}
	cr_assert_gt(rw_hi, 0, "no writable segment");
	/* the loader makes the RELRO part read-only after relocating it */
	Elf64_Addr first = (relro_hi > rw_lo ? (relro_hi + PAGE - 1) : rw_lo) / PAGE;
	Elf64_Addr last = (rw_hi - 1) / PAGE;

	/* the data the start-up relies on sits there: the fd table's first
	 * tier and the arena's static bytes */
	cr_expect_eq(symbol("sda_fd_low") / PAGE, first, "the fd table's first tier is not on that page");
	cr_expect_eq(symbol("arena_first") / PAGE, first, "the arena's static bytes are not on that page");
	cr_expect_eq(last, first, "the writable bytes past RELRO span %lu pages (0x%lx-0x%lx): a static "
		     "that every process now faults in", (unsigned long)(last - first + 1),
		     (unsigned long)(first * PAGE), (unsigned long)rw_hi);
#ifdef SDA_EXPECT_LOADS
	cr_expect_eq(loads, SDA_EXPECT_LOADS, "%d loadable segments", loads);
#else
	(void)loads;
#endif
}
