/* tmpdir.c: the private directory that holds vmboot's vsock sockets when
 * --vsock is not given. It is named vmboot.<pid>.XXXXXX and locked with
 * flock(2) on the directory itself for vmboot's lifetime; the lock goes
 * with the process however it dies. A vmboot killed by SIGKILL cannot
 * remove it, so each new one first removes those whose owner is gone:
 * named in this pattern, ours, the pid not running and the lock free
 * (the lock also covers a vmboot of another PID namespace sharing the
 * directory). One holding anything but the sockets vmboot makes
 * (vm.sock*) is left as it is. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"
#include "xalloc.h"

#define TMPDIR_PREFIX	"vmboot."
#define SOCK_PREFIX	"vm.sock"

/* <pid> of vmboot.<pid>.XXXXXX, or 0 when the name is not ours. */
static pid_t owner_pid(const char *name)
{
	const char *p = name + strlen(TMPDIR_PREFIX);
	char *end;
	long pid;

	if (strncmp(name, TMPDIR_PREFIX, strlen(TMPDIR_PREFIX)))
		return 0;
	if (*p < '1' || *p > '9')
		return 0;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno || pid <= 0 || pid > INT_MAX || *end != '.' ||
	    strlen(end + 1) != 6)
		return 0;
	return (pid_t)pid;
}

/* Removes BASE/NAME if it is a stale directory of a dead vmboot. */
static void remove_stale(int base, const char *name)
{
	pid_t pid = owner_pid(name);
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd;

	if (!pid || kill(pid, 0) == 0 || errno != ESRCH)
		return;
	fd = openat(base, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0 || !(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strncmp(e->d_name, SOCK_PREFIX, strlen(SOCK_PREFIX)))
			goto out;
	rewinddir(d);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, SOCK_PREFIX, strlen(SOCK_PREFIX)))
			unlinkat(fd, e->d_name, 0);
	/* Still locked: no new vmboot can be using it. */
	if (unlinkat(base, name, AT_REMOVEDIR) == 0)
		debugf("removed %s of vmboot %d (gone)", name, (int)pid);
out:
	closedir(d);
}

static void remove_all_stale(const char *base)
{
	struct dirent *e;
	DIR *d = opendir(base);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
			remove_stale(dirfd(d), e->d_name);
	closedir(d);
}

char *tmpdir_make(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;
	int fd;

	if (!base || !*base)
		base = "/tmp";
	remove_all_stale(base);
	dir = xasprintf("%s/" TMPDIR_PREFIX "%d.XXXXXX", base, (int)getpid());
	if (!mkdtemp(dir))
		die("%s:", dir);
	/* Held until exit: the descriptor is never closed. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		die("%s: lock:", dir);
	return dir;
}
