/* layer.c: one layer blob through libarchive, hashed twice on the way:
 * the blob's bytes against its descriptor digest, the tar's bytes
 * against the config's diff_id (image-spec config.md, "Layer DiffID"). */
#include "layer.h"
#include "err.h"
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

#define READ_BUF (256u << 10)

struct src {
	int fd;
	unsigned char *buf;
	struct hasher comp, diff;
	long long nread;
	int plain;		/* uncompressed: both digests hash the blob */
	struct archive *dec;	/* the decompressor, for compressed layers */
	const char *name;
};

static la_ssize_t blob_read(struct archive *a, void *arg, const void **out)
{
	struct src *s = arg;
	ssize_t n;

	(void)a;
	do
		n = read(s->fd, s->buf, READ_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("layer %s: read:", s->name);
	hasher_update(&s->comp, s->buf, n);
	if (s->plain)
		hasher_update(&s->diff, s->buf, n);
	s->nread += n;
	*out = s->buf;
	return n;
}

static la_ssize_t tar_read(struct archive *a, void *arg, const void **out)
{
	struct src *s = arg;
	la_int64_t off;
	size_t len;
	int r;

	(void)a;
	r = archive_read_data_block(s->dec, out, &len, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN)
		die("layer %s: %s", s->name, archive_error_string(s->dec));
	hasher_update(&s->diff, *out, len);
	return (la_ssize_t)len;
}

static void open_decompressor(struct src *s, enum compression comp)
{
	struct archive_entry *ae;
	int want, r;

	s->dec = archive_read_new();
	if (comp == COMP_GZIP) {
		archive_read_support_filter_gzip(s->dec);
		want = ARCHIVE_FILTER_GZIP;
	} else {
		archive_read_support_filter_zstd(s->dec);
		want = ARCHIVE_FILTER_ZSTD;
	}
	archive_read_support_format_raw(s->dec);
	archive_read_support_format_empty(s->dec);
	if (archive_read_open(s->dec, s, NULL, blob_read, NULL) != ARCHIVE_OK)
		die("layer %s: %s", s->name, archive_error_string(s->dec));
	r = archive_read_next_header(s->dec, &ae);
	if (r < ARCHIVE_WARN)
		die("layer %s: %s", s->name, archive_error_string(s->dec));
	if (archive_filter_code(s->dec, 0) != want)
		die("layer %s: not %s-compressed as its media type says",
		    s->name, comp == COMP_GZIP ? "gzip" : "zstd");
}

void stage_name(int64_t i, char *buf)
{
	snprintf(buf, STAGE_NAME_MAX, "%llx", (long long)i);
}

/* Copies an entry's data to fd at base, holes included as holes. */
static void copy_entry(struct archive *a, struct src *s, int fd,
		       int64_t base, const char *path, int64_t size)
{
	const void *p;
	size_t len;
	la_int64_t off;
	int r;

	for (;;) {
		r = archive_read_data_block(a, &p, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			die("layer %s: %s: %s", s->name, path,
			    archive_error_string(a));
		if (off < 0 || (int64_t)len > size || off > size - (int64_t)len)
			die("layer %s: %s: data beyond its size", s->name,
			    path);
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
	}
	/* A trailing hole still takes its place. */
	if (size > 0 && ftruncate(fd, base + size) < 0 && errno != EINVAL)
		die("%s: staging data:", path);
}

/* An entry's data, into the spool or a staged file of its own. */
static void stage_data(struct archive *a, struct src *s, struct spool *sp,
		       struct entry *e)
{
	char name[STAGE_NAME_MAX];
	int fd;

	if (sp->stage < 0) {
		e->data_off = sp->end;
		copy_entry(a, s, sp->fd, sp->end, e->path, e->size);
		sp->end += e->size;
		return;
	}
	e->data_off = sp->nstaged;
	stage_name(sp->nstaged++, name);
	fd = openat(sp->stage, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		die("%s: staging data:", e->path);
	copy_entry(a, s, fd, 0, e->path, e->size);
	if (close(fd) < 0)
		die("%s: staging data:", e->path);
}

static void to_entry(struct archive_entry *ae, struct src *s,
		     struct entry *e, struct xattr **xv, size_t *xcap)
{
	const char *name;
	const void *val;
	size_t len, n = 0;
	la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);

	memset(e, 0, sizeof(*e));
	if (!(e->path = archive_entry_pathname(ae)))
		die("layer %s: entry without a usable path", s->name);
	if (uid < 0 || uid > 0xfffffffeLL || gid < 0 || gid > 0xfffffffeLL)
		die("layer %s: %s: owner %lld:%lld out of range", s->name,
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
		die("layer %s: %s: negative size", s->name, e->path);
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

static void check_digest(const struct src *s, const char *what,
			 const struct digest *want, struct hasher *h)
{
	char ws[DIGEST_MAX_STR + 1], gs[DIGEST_MAX_STR + 1];
	struct digest got;

	hasher_final(h, &got);
	if (!digest_equal(want, &got)) {
		digest_format(want, ws);
		digest_format(&got, gs);
		die("layer %s: %s mismatch: expected %s, got %s", s->name,
		    what, ws, gs);
	}
}

void layer_apply(int dirfd, const struct layer *l, int idx, struct tree *t,
		 struct spool *sp)
{
	char name[DIGEST_MAX_STR + 1], err[512];
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct xattr *xv = NULL;
	size_t xcap = 0;
	struct entry e;
	struct src s;
	int r;

	memset(&s, 0, sizeof(s));
	digest_format(&l->digest, name);
	s.name = name;
	if ((s.fd = blob_open(dirfd, &l->digest)) < 0)
		die("layer %s:", name);
	s.buf = xmalloc(READ_BUF);
	hasher_init(&s.comp, l->digest.alg);
	hasher_init(&s.diff, l->diff_id.alg);
	s.plain = l->comp == COMP_NONE;
	if (s.plain && l->digest.alg != l->diff_id.alg)
		die("layer %s: digest and diff_id use different algorithms",
		    name);
	if (!s.plain)
		open_decompressor(&s, l->comp);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open(a, &s, NULL, s.plain ? blob_read : tar_read,
			      NULL) != ARCHIVE_OK)
		die("layer %s: %s", name, archive_error_string(a));
	while ((r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			die("layer %s: %s", name, archive_error_string(a));
		if (r == ARCHIVE_WARN)
			debugf("layer %s: %s", name, archive_error_string(a));
		to_entry(ae, &s, &e, &xv, &xcap);
		e.data_off = -1;
		if (!e.hardlink && S_ISREG(e.mode) && e.size > 0 &&
		    strncmp(strrchr(e.path, '/') ? strrchr(e.path, '/') + 1 :
			    e.path, ".wh.", 4))
			stage_data(a, &s, sp, &e);
		if (tree_apply(t, &e, idx, err, sizeof(err)) < 0)
			die("layer %s: %s", name, err);
	}
	/* Hash what follows the end-of-archive marker too. */
	if (!s.plain) {
		const void *p;
		while (tar_read(NULL, &s, &p) > 0)
			;
		archive_read_free(s.dec);
	}
	{
		const void *p;
		while (blob_read(NULL, &s, &p) > 0)
			;
	}
	archive_read_free(a);
	close(s.fd);
	free(s.buf);
	free(xv);
	if (s.nread != l->size)
		die("layer %s: blob has %lld bytes, descriptor says %lld",
		    name, s.nread, l->size);
	check_digest(&s, "digest", &l->digest, &s.comp);
	check_digest(&s, "diff_id", &l->diff_id, &s.diff);
	(void)idx;
}
