/* SPDX-License-Identifier: MIT */
#include "pathguard.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "inherited.h"
#include "log.h"

int sda_keeps_path(int dirfd, const char *path, int flags)
{
	struct stat st;
	int saved = errno;
	long i;

	if (!path || !sda_probed() || !sda_inh.have_unix_paths || (flags & AT_REMOVEDIR))
		return 0;
	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode)) {
		errno = saved;
		return 0;
	}
	i = sda_registry_find_path_inode(&sda_inh.reg, st.st_dev, st.st_ino);
	errno = saved;
	if (i < 0)
		return 0;
	sda_debug("kept %s: it is inherited fd %d's socket path, owned by the activator",
		  path, sda_inherited_no(&sda_inh.reg.e[i]));
	return 1;
}
