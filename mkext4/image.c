/* image.c: the output file. It is written under a temporary name beside
 * IMAGE and renamed over it only once complete, so a failure never
 * leaves a partial image behind. Sequential writes are coalesced. */
#include "mkext4.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

#define IMAGE_BUF_SIZE (4u << 20)

/* The temporary file to remove if we exit before image_commit. */
static char *pending_tmp;

void image_abort(void)
{
	if (pending_tmp) {
		unlink(pending_tmp);
		free(pending_tmp);
		pending_tmp = NULL;
	}
}

void image_open(struct mkfs *fs, const char *path)
{
	struct image *im = &fs->img;

	im->path = xstrdup(path);
	im->tmp = xasprintf("%s.tmpXXXXXX", path);
	im->fd = mkostemp(im->tmp, O_CLOEXEC);
	if (im->fd < 0)
		die("%s:", im->tmp);
	pending_tmp = xstrdup(im->tmp);
	atexit(image_abort);
	mode_t um = umask(0);
	umask(um);
	if (fchmod(im->fd, 0666 & ~um) < 0)
		die("%s:", im->tmp);
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

/* Sets the final size, syncs and renames into place. */
void image_commit(struct mkfs *fs, uint64_t bytes)
{
	struct image *im = &fs->img;

	image_flush(fs);
	if (ftruncate(im->fd, (off_t)bytes) < 0)
		die("%s:", im->path);
	if (fsync(im->fd) < 0)
		die("%s:", im->path);
	if (close(im->fd) < 0)
		die("%s:", im->path);
	if (rename(im->tmp, im->path) < 0)
		die("%s:", im->path);
	free(pending_tmp);
	pending_tmp = NULL;
	free(im->buf);
	free(im->tmp);
	free(im->path);
}
