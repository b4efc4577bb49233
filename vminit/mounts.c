/* mounts.c: the guest machine's own file systems, and fd hygiene for
 * children. */
#include "vminit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct mnt {
	const char *src, *dst, *type;
	unsigned long flags;
	const char *data;
};

/* What every guest has before the first request (vminit.8, BOOT). */
static const struct mnt machine[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666,gid=5" },
	{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
};

int mounts_machine(char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof machine / sizeof machine[0]; i++) {
		const struct mnt *m = &machine[i];
		if (mkdir(m->dst, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", m->dst, strerror(errno));
			return -1;
		}
		if (mount(m->src, m->dst, m->type, m->flags, m->data) < 0 &&
		    errno != EBUSY) {
			snprintf(err, errlen, "mount %s: %s", m->dst, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void close_except(const int *keep, size_t n)
{
	int sorted[16];
	unsigned from = 3;

	if (n > 16)
		n = 16;
	memcpy(sorted, keep, n * sizeof *keep);
	qsort(sorted, n, sizeof *sorted, cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (sorted[i] < 0 || (unsigned)sorted[i] < from)
			continue;
		if ((unsigned)sorted[i] > from)
			syscall(SYS_close_range, from, (unsigned)sorted[i] - 1, 0);
		from = (unsigned)sorted[i] + 1;
	}
	syscall(SYS_close_range, from, ~0u, 0);
}
