/* nodirect.c: an LD_PRELOAD shim playing a filesystem without O_DIRECT,
 * for tests/pull-no-direct-io.sh. NODIRECT=fcntl refuses to set O_DIRECT
 * (EINVAL); NODIRECT=write takes the flag but refuses every write made
 * with it (EINVAL), as some filesystems do. Each refusal says so on
 * stderr. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int mode(const char *m)
{
	const char *v = getenv("NODIRECT");
	return v && !strcmp(v, m);
}

static void say(const char *what)
{
	static const char pre[] = "nodirect: refused ";
	(void)!write(2, pre, sizeof pre - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
}

static int (*real_fcntl(void))(int, int, ...)
{
	static int (*real)(int, int, ...);
	if (!real)
		real = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl64");
	return real;
}

static int shim_fcntl(int fd, int cmd, long arg)
{
	if (cmd == F_SETFL && (arg & O_DIRECT) && mode("fcntl")) {
		say("fcntl");
		errno = EINVAL;
		return -1;
	}
	return real_fcntl()(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return shim_fcntl(fd, cmd, arg);
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return shim_fcntl(fd, cmd, arg);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
	if (mode("write") && (real_fcntl()(fd, F_GETFL) & O_DIRECT)) {
		say("write");
		errno = EINVAL;
		return -1;
	}
	return real(fd, buf, n, off);
}
