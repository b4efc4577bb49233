/* layer.c: one layer's tar entries through libarchive, from the stream
 * that decodes the blob and hashes it twice on the way: the blob's
 * bytes against its descriptor digest, the tar's bytes against the
 * config's diff_id (image-spec config.md, "Layer DiffID"). */
#include "layer.h"
#include "err.h"
#include "output.h"
#include "stream.h"
#include "xalloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The tar parser's side of a layer: the stream that decodes it. */
static la_ssize_t tar_read(struct archive *a, void *arg, const void **out)
{
	(void)a;
	return (la_ssize_t)stream_read(arg, out);
}

void stage_name(int64_t i, char *buf)
{
	snprintf(buf, STAGE_NAME_MAX, "%llx", (long long)i);
}

/* Copies an entry's data to fd at base, holes included as holes. */
static void copy_entry(struct archive *a, const char *name, int fd,
		       int64_t base, const char *path, int64_t size)
{
	int64_t end = 0;
	const void *p;
	size_t len;
	la_int64_t off;
	int r;

	for (;;) {
		r = archive_read_data_block(a, &p, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			die("layer %s: %s: %s", name, path,
			    archive_error_string(a));
		if (off < 0 || (int64_t)len > size || off > size - (int64_t)len)
			die("layer %s: %s: data beyond its size", name, path);
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, base + off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("%s: staging data:", path);
			p = (const char *)p + n;
			len -= n;
			off += n;
		}
		if (off > end)
			end = off;
	}
	/* A trailing hole still takes its place. */
	if (end < size && ftruncate(fd, base + size) < 0 && errno != EINVAL)
		die("%s: staging data:", path);
}

/* An entry's data, into the spool or a staged file of its own that
 * takes its attributes at once, so that the second pass only renames. */
static void stage_data(struct archive *a, const char *lname,
		       struct spool *sp, struct entry *e)
{
	char name[STAGE_NAME_MAX];
	int fd;

	if (sp->stage < 0) {
		e->data_off = sp->end;
		copy_entry(a, lname, sp->fd, sp->end, e->path, e->size);
		sp->end += e->size;
		return;
	}
	e->data_off = sp->nstaged;
	stage_name(sp->nstaged++, name);
	fd = openat(sp->stage, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, (e->mode & 0777) | 0600);
	if (fd < 0)
		die("%s: staging data:", e->path);
	copy_entry(a, lname, fd, 0, e->path, e->size);
	dir_stage_attrs(fd, e);
	if (close(fd) < 0)
		die("%s: staging data:", e->path);
}

static void to_entry(struct archive_entry *ae, const char *lname,
		     struct entry *e, struct xattr **xv, size_t *xcap)
{
	const char *name;
	const void *val;
	size_t len, n = 0;
	la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);

	memset(e, 0, sizeof(*e));
	if (!(e->path = archive_entry_pathname(ae)))
		die("layer %s: entry without a usable path", lname);
	if (uid < 0 || uid > 0xfffffffeLL || gid < 0 || gid > 0xfffffffeLL)
		die("layer %s: %s: owner %lld:%lld out of range", lname,
		    e->path, (long long)uid, (long long)gid);
	e->hardlink = archive_entry_hardlink(ae);
	e->symlink = archive_entry_symlink(ae);
	e->mode = archive_entry_mode(ae);
	e->uid = uid;
	e->gid = gid;
	e->mtime = archive_entry_mtime(ae);
	e->mtime_ns = archive_entry_mtime_nsec(ae);
	e->size = archive_entry_size(ae);
	if (e->size < 0)
		die("layer %s: %s: negative size", lname, e->path);
	e->rdev = archive_entry_rdev(ae);
	archive_entry_xattr_reset(ae);
	while (archive_entry_xattr_next(ae, &name, &val, &len) == ARCHIVE_OK) {
		*xv = xgrow(*xv, xcap, n + 1, sizeof(**xv));
		(*xv)[n].name = (char *)name;
		(*xv)[n].value = (void *)val;
		(*xv)[n].len = len;
		n++;
	}
	e->xattrs = *xv;
	e->nxattrs = n;
}

void layer_apply(int dirfd, const struct layer *l, int idx, struct tree *t,
		 struct spool *sp)
{
	char name[DIGEST_MAX_STR + 1], err[512];
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct xattr *xv = NULL;
	struct stream *s;
	size_t xcap = 0;
	struct entry e;
	int fd, r;

	digest_format(&l->digest, name);
	if ((fd = blob_open(dirfd, &l->digest)) < 0)
		die("layer %s:", name);
	s = stream_open(fd, l, name);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open(a, s, NULL, tar_read, NULL) != ARCHIVE_OK)
		die("layer %s: %s", name, archive_error_string(a));
	while ((r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			die("layer %s: %s", name, archive_error_string(a));
		if (r == ARCHIVE_WARN)
			debugf("layer %s: %s", name, archive_error_string(a));
		to_entry(ae, name, &e, &xv, &xcap);
		e.data_off = -1;
		if (!e.hardlink && S_ISREG(e.mode) && e.size > 0 &&
		    strncmp(strrchr(e.path, '/') ? strrchr(e.path, '/') + 1 :
			    e.path, ".wh.", 4))
			stage_data(a, name, sp, &e);
		if (tree_apply(t, &e, idx, err, sizeof(err)) < 0)
			die("layer %s: %s", name, err);
	}
	/* The stream hashes what follows the end-of-archive marker too. */
	stream_close(s);
	archive_read_free(a);
	free(xv);
}
