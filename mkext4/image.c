/* image.c: the output file. It is written as an unnamed file (O_TMPFILE)
 * in IMAGE's directory and linked in at IMAGE only once complete and
 * synced, so neither a failure nor a kill, SIGKILL included, leaves a
 * partial image or a temporary file behind. Where the filesystem has no
 * O_TMPFILE, a named IMAGE.tmpXXXXXX is used instead, removed on exit
 * and on SIGTERM, SIGINT, SIGHUP and SIGPIPE (SIGKILL leaves it).
 * Sequential writes are coalesced. */
#include "mkext4.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

#define IMAGE_BUF_SIZE (4u << 20)
#define TMP_NAME_TRIES 100

/* The named temporary file to remove if we exit or are killed before
 * image_commit; read by the signal handler. */
static char *volatile pending_tmp;

static const int caught_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };

void image_abort(void)
{
	char *p = pending_tmp;

	if (p) {
		pending_tmp = NULL;
		unlink(p);
		free(p);
	}
}

static void on_signal(int sig)
{
	char *p = pending_tmp;

	if (p)
		unlink(p);
	/* Die of the signal, as if uncaught, once this handler returns. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void signals_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof caught_signals / sizeof *caught_signals; i++)
		sigaddset(set, caught_signals[i]);
}

/* Removes the named temporary file on the signals that end us; those
 * ignored when we started (nohup, a background job) stay ignored. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }, old;

	signals_set(&sa.sa_mask);
	for (size_t i = 0; i < sizeof caught_signals / sizeof *caught_signals; i++)
		if (sigaction(caught_signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(caught_signals[i], &sa, NULL);
}

/* An unnamed file in PATH's directory, or -1 where O_TMPFILE does not
 * work there, or where it could not be linked in at the end. */
static int open_unnamed(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xasprintf("%.*s", (int)(slash - path) + (slash == path), path)
			  : xstrdup(".");
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
	free(dir);
	if (fd < 0)
		return -1;
	/* Linking it in needs CAP_DAC_READ_SEARCH (AT_EMPTY_PATH) or /proc. */
	char proc[64];
	struct stat a, b;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (fstat(fd, &a) < 0 || stat(proc, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Gives the unnamed file FD the name NAME, which must not exist. */
static int link_unnamed(int fd, const char *name)
{
	char proc[64];

	if (linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
}

void image_open(struct mkfs *fs, const char *path)
{
	struct image *im = &fs->img;

	im->path = xstrdup(path);
	im->tmp = NULL;
	im->fd = open_unnamed(path);
	if (im->fd < 0) {
		sigset_t set, old;
		signals_set(&set);
		/* No signal between creating the file and noting it. */
		sigprocmask(SIG_BLOCK, &set, &old);
		im->tmp = xasprintf("%s.tmpXXXXXX", path);
		im->fd = mkostemp(im->tmp, O_CLOEXEC);
		if (im->fd < 0)
			die("%s:", im->path);
		pending_tmp = xstrdup(im->tmp);
		catch_signals();
		sigprocmask(SIG_SETMASK, &old, NULL);
		mode_t um = umask(0);
		umask(um);
		if (fchmod(im->fd, 0666 & ~um) < 0)
			die("%s:", im->tmp);
	}
	atexit(image_abort);
	im->buf = xmalloc(IMAGE_BUF_SIZE);
	im->len = 0;
	im->off = 0;
}

static void pwrite_all(struct mkfs *fs, uint64_t off, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fs->img.fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("%s:", fs->img.path);
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
}

void image_flush(struct mkfs *fs)
{
	struct image *im = &fs->img;

	if (im->len)
		pwrite_all(fs, im->off, im->buf, im->len);
	im->len = 0;
}

void image_pwrite(struct mkfs *fs, uint64_t off, const void *buf, size_t len)
{
	struct image *im = &fs->img;

	if (im->len && off == im->off + im->len && im->len + len <= IMAGE_BUF_SIZE) {
		memcpy(im->buf + im->len, buf, len);
		im->len += len;
		return;
	}
	image_flush(fs);
	if (len >= IMAGE_BUF_SIZE / 2) {
		pwrite_all(fs, off, buf, len);
		return;
	}
	memcpy(im->buf, buf, len);
	im->off = off;
	im->len = len;
}

/* Links the unnamed file in at IMAGE. Over an existing IMAGE it goes
 * through a temporary name and rename(2), which replaces atomically; only
 * a SIGKILL in that instant can leave the temporary name behind. */
static void commit_unnamed(struct image *im)
{
	if (link_unnamed(im->fd, im->path) == 0)
		return;
	if (errno != EEXIST)
		die("%s:", im->path);
	for (int i = 0; i < TMP_NAME_TRIES; i++) {
		uint32_t r;
		if (getrandom(&r, sizeof r, 0) != sizeof r)
			die("getrandom:");
		char *tmp = xasprintf("%s.tmp%06x", im->path, r & 0xffffff);
		if (link_unnamed(im->fd, tmp) < 0) {
			int e = errno;
			free(tmp);
			if (e == EEXIST)
				continue;
			errno = e;
			die("%s:", im->path);
		}
		pending_tmp = tmp;
		if (rename(tmp, im->path) < 0)
			die("%s:", im->path);
		pending_tmp = NULL;
		free(tmp);
		return;
	}
	die("%s: no free temporary name beside it", im->path);
}

/* Sets the final size, syncs and puts the image in place. */
void image_commit(struct mkfs *fs, uint64_t bytes)
{
	struct image *im = &fs->img;
	sigset_t set, old;

	image_flush(fs);
	if (ftruncate(im->fd, (off_t)bytes) < 0)
		die("%s:", im->path);
	if (fsync(im->fd) < 0)
		die("%s:", im->path);
	/* A signal now would cut the rename short: hold it until done. */
	signals_set(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (im->tmp) {
		if (rename(im->tmp, im->path) < 0)
			die("%s:", im->path);
		char *p = pending_tmp;
		pending_tmp = NULL;
		free(p);
	} else {
		commit_unnamed(im);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (close(im->fd) < 0)
		die("%s:", im->path);
	free(im->buf);
	free(im->tmp);
	free(im->path);
}
