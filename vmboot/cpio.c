/* cpio.c: an initramfs built in memory: a newc archive (the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst) holding
 * /dev/console and one program as /init, and perhaps a foreign
 * architecture's interpreter (arch.c). No temporary file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "err.h"
#include "fsutil.h"
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

static void entry(struct cpio *c, const char *name, unsigned mode,
    unsigned rdev_major, unsigned rdev_minor, const void *data, size_t size)
{
	char hdr[128];
	size_t nlen = strlen(name) + 1;

	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	 * devminor, rdevmajor, rdevminor, namesize, check */
	snprintf(hdr, sizeof hdr, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X"
	    "%08X%08X%08zX%08X", ++c->ino, mode, 0, 0, S_ISDIR(mode) ? 2 : 1,
	    0, (unsigned)size, 0, 0, rdev_major, rdev_minor, nlen, 0);
	/* The name follows the 110-byte header; padding covers both. */
	c->buf = xgrow(c->buf, &c->cap, c->len + 110 + nlen + 4, 1);
	memcpy(c->buf + c->len, hdr, 110);
	c->len += 110;
	put(c, name, nlen);
	if (size)
		put(c, data, size);
}

/* A file as name (no leading slash), with its parent directory. */
static void file_entry(struct cpio *c, const char *path, const char *name)
{
	char *data, *dir = xstrdup(name), *slash = strrchr(dir, '/');
	size_t len;

	if (read_file(path, INIT_MAX, &data, &len) < 0)
		die("%s:", path);
	if (slash) {
		*slash = '\0';
		entry(c, dir, S_IFDIR | 0755, 0, 0, NULL, 0);
	}
	entry(c, name, S_IFREG | 0755, 0, 0, data, len);
	free(data);
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
