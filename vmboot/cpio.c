/* cpio.c: an initramfs built in memory: a newc archive (the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst) holding
 * /dev/console and one program as /init, and perhaps a foreign
 * architecture's interpreter (arch.c). No temporary file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"
#include "xalloc.h"

#define INIT_MAX (256u << 20)	/* the largest program we pack */

struct cpio {
	uint8_t *buf;
	size_t len, cap;
	unsigned ino;
};

static void put(struct cpio *c, const void *p, size_t n)
{
	c->buf = xgrow(c->buf, &c->cap, c->len + n + 4, 1);
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	while (c->len & 3)
		c->buf[c->len++] = 0;
}

/* An entry's header and name; its data, size bytes, are copied from
 * data, or with data NULL left for the caller at the offset returned. */
static size_t entry(struct cpio *c, const char *name, unsigned mode,
    unsigned rdev_major, unsigned rdev_minor, const void *data, size_t size)
{
	char hdr[128];
	size_t nlen = strlen(name) + 1, off;

	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	 * devminor, rdevmajor, rdevminor, namesize, check */
	snprintf(hdr, sizeof hdr, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X"
	    "%08X%08X%08zX%08X", ++c->ino, mode, 0, 0, S_ISDIR(mode) ? 2 : 1,
	    0, (unsigned)size, 0, 0, rdev_major, rdev_minor, nlen, 0);
	/* The name follows the 110-byte header; padding covers both. One
	 * growth for all of it: the data may be a 13 MB interpreter. */
	c->buf = xgrow(c->buf, &c->cap, c->len + 110 + nlen + size + 8, 1);
	memcpy(c->buf + c->len, hdr, 110);
	c->len += 110;
	put(c, name, nlen);
	off = c->len;
	if (size && data)
		put(c, data, size);
	else if (size) {
		c->len += size;
		while (c->len & 3)
			c->buf[c->len++] = 0;
	}
	return off;
}

/* A file as name (no leading slash), with its parent directory, read
 * straight into the archive. */
static void file_entry(struct cpio *c, const char *path, const char *name)
{
	char *dir = xstrdup(name), *slash = strrchr(dir, '/');
	struct stat st;
	size_t off;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s:", path);
	if (!S_ISREG(st.st_mode) || st.st_size > INIT_MAX)
		die("%s: not a regular file of up to %u MiB", path, INIT_MAX >> 20);
	if (slash) {
		*slash = '\0';
		entry(c, dir, S_IFDIR | 0755, 0, 0, NULL, 0);
	}
	off = entry(c, name, S_IFREG | 0755, 0, 0, NULL, (size_t)st.st_size);
	for (size_t got = 0; got < (size_t)st.st_size; ) {
		ssize_t r = read(fd, c->buf + off + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("%s: read:", path);
		if (r == 0)
			die("%s: shorter than it was a moment ago", path);
		got += (size_t)r;
	}
	close(fd);
	free(dir);
}

uint8_t *cpio_init_archive(const char *program, const char *extra,
    const char *extra_at, size_t *len)
{
	struct cpio c = { 0 };

	entry(&c, "dev", S_IFDIR | 0755, 0, 0, NULL, 0);
	entry(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0);
	file_entry(&c, program, "init");
	if (extra)
		file_entry(&c, extra, extra_at + strspn(extra_at, "/"));
	entry(&c, "TRAILER!!!", 0, 0, 0, NULL, 0);
	*len = c.len;
	return c.buf;
}
