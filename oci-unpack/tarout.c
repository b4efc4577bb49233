/* tarout.c: the merged tree as one pax tar stream. Parents come before
 * children, and a hard link's target before the link, so the stream
 * extracts in one pass. Names are plain components of the tree: none
 * is absolute or holds "..", none lies beneath a symlink. */
#include "output.h"
#include "err.h"
#include "xalloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BUF (1u << 20)

struct tar_ctx {
	struct archive *a;
	int fd;
	int werr;		/* errno of a failed write to fd, for the message */
	struct archive_entry *ae;
	const struct spool *sp;
	char *buf;
};

/* libarchive's own fd writer says only "Write error"; this one keeps
 * errno, so a full disk or a closed pipe is named. */
static la_ssize_t write_out(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct tar_ctx *c = arg;
	ssize_t n;

	(void)a;
	while ((n = write(c->fd, buf, len)) < 0 && errno == EINTR)
		;
	if (n < 0)
		c->werr = errno;
	return n;
}

/* Dies with why writing ENTRY failed: the output's errno, or libarchive's. */
static _Noreturn void write_failed(struct tar_ctx *c, const char *entry)
{
	if (c->werr)
		die("stdout: %s", strerror(c->werr));
	die("writing %s: %s", entry, archive_error_string(c->a));
}

static void copy_data(struct tar_ctx *c, const struct inode *ino,
		      const char *path)
{
	int64_t left = ino->size, off = ino->data_off;

	while (left > 0) {
		size_t want = left < COPY_BUF ? (size_t)left : COPY_BUF;
		ssize_t n = pread(c->sp->fd, c->buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("spool: %s: short read", path);
		if (archive_write_data(c->a, c->buf, n) != n)
			write_failed(c, path);
		left -= n;
		off += n;
	}
}

static int emit(struct node *n, void *arg)
{
	struct tar_ctx *c = arg;
	struct inode *ino = n->ino;
	char *path = n->parent ? tree_path(n) : xstrdup(".");
	char *lpath = NULL;
	size_t i;

	archive_entry_clear(c->ae);
	archive_entry_set_pathname(c->ae, path);
	archive_entry_set_mode(c->ae, ino->mode);
	archive_entry_set_uid(c->ae, ino->uid);
	archive_entry_set_gid(c->ae, ino->gid);
	archive_entry_set_mtime(c->ae, ino->mtime, ino->mtime_ns);
	if (ino->primary != n) {
		lpath = tree_path(ino->primary);
		archive_entry_set_hardlink(c->ae, lpath);
		archive_entry_set_size(c->ae, 0);
	} else {
		archive_entry_set_size(c->ae, S_ISREG(ino->mode) ? ino->size : 0);
		if (S_ISLNK(ino->mode))
			archive_entry_set_symlink(c->ae, ino->symlink);
		if (S_ISCHR(ino->mode) || S_ISBLK(ino->mode))
			archive_entry_set_rdev(c->ae, ino->rdev);
		for (i = 0; i < ino->nxattrs; i++)
			archive_entry_xattr_add_entry(c->ae,
				ino->xattrs[i].name, ino->xattrs[i].value,
				ino->xattrs[i].len);
	}
	if (archive_write_header(c->a, c->ae) < ARCHIVE_WARN)
		write_failed(c, path);
	if (ino->primary == n && S_ISREG(ino->mode))
		copy_data(c, ino, path);
	free(lpath);
	free(path);
	return 0;
}

void tar_write(struct tree *t, const struct spool *sp, int fd)
{
	struct tar_ctx c;

	c.a = archive_write_new();
	c.ae = archive_entry_new();
	c.sp = sp;
	c.fd = fd;
	c.werr = 0;
	c.buf = xmalloc(COPY_BUF);
	if (archive_write_set_format_pax(c.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(c.a, 64 * 1024) != ARCHIVE_OK ||
	    archive_write_open2(c.a, &c, NULL, write_out, NULL, NULL) != ARCHIVE_OK)
		die("tar: %s", archive_error_string(c.a));
	tree_walk(t, emit, &c);
	if (archive_write_close(c.a) != ARCHIVE_OK)
		write_failed(&c, "the end of the tar stream");
	archive_write_free(c.a);
	archive_entry_free(c.ae);
	free(c.buf);
}
