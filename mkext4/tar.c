/* tar.c: the tree from a tar stream (pax, GNU or ustar, compressed or
 * not), through libarchive. File data goes to the image as it arrives;
 * sparse entries keep their holes. */
#include "mkext4.h"
#include "ext4.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "xalloc.h"

#define TAR_READ_BLOCK (64u << 10)
#define FAST_SYMLINK_MAX 59	/* shorter targets live in i_block */
#define TAR_END_MARKER 1024	/* two zero 512-byte blocks end a tar archive */

static void set_time(struct mkfs *fs, int64_t *sec, uint32_t *ns, int64_t s, long n)
{
	if (fs->o.epoch >= 0 && s > fs->o.epoch) {
		s = fs->o.epoch;
		n = 0;
	}
	*sec = s;
	*ns = (uint32_t)n;
}

static void set_attrs(struct mkfs *fs, struct node *n, struct archive_entry *e)
{
	int64_t m = archive_entry_mtime(e), c, a;
	long mn = archive_entry_mtime_nsec(e), cn, an;

	if (archive_entry_uid(e) < 0 || archive_entry_uid(e) > UINT32_MAX ||
	    archive_entry_gid(e) < 0 || archive_entry_gid(e) > UINT32_MAX)
		die("%s: uid or gid out of range", fs->what);
	n->uid = (uint32_t)archive_entry_uid(e);
	n->gid = (uint32_t)archive_entry_gid(e);
	n->mode = (n->mode & S_IFMT) | (archive_entry_perm(e) & 07777);
	c = archive_entry_ctime_is_set(e) ? archive_entry_ctime(e) : m;
	cn = archive_entry_ctime_is_set(e) ? archive_entry_ctime_nsec(e) : mn;
	a = archive_entry_atime_is_set(e) ? archive_entry_atime(e) : m;
	an = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : mn;
	set_time(fs, &n->mtime, &n->mtime_ns, m, mn);
	set_time(fs, &n->ctime, &n->ctime_ns, c, cn);
	set_time(fs, &n->atime, &n->atime_ns, a, an);
	if (archive_entry_birthtime_is_set(e))
		set_time(fs, &n->crtime, &n->crtime_ns, archive_entry_birthtime(e),
			 archive_entry_birthtime_nsec(e));
	else
		set_time(fs, &n->crtime, &n->crtime_ns, c, cn);
}

struct acl_ent {
	uint16_t tag, perm;
	uint32_t id;
};

static int acl_cmp(const void *a, const void *b)
{
	const struct acl_ent *x = a, *y = b;
	if (x->tag != y->tag)
		return x->tag - y->tag;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* libarchive's parsed ACL of one type into the posix_acl_xattr form. */
static void add_acl(struct mkfs *fs, struct node *n, struct archive_entry *e, int type,
		    const char *name)
{
	int t, perm, tag, id;
	const char *qname;
	struct acl_ent *v = NULL;
	size_t nv = 0, cap = 0;

	if (archive_entry_acl_count(e, type) == 0)
		return;
	archive_entry_acl_reset(e, type);
	while (archive_entry_acl_next(e, type, &t, &perm, &tag, &id, &qname) == ARCHIVE_OK) {
		uint16_t k;
		switch (tag) {
		case ARCHIVE_ENTRY_ACL_USER_OBJ: k = 0x01; break;
		case ARCHIVE_ENTRY_ACL_USER: k = 0x02; break;
		case ARCHIVE_ENTRY_ACL_GROUP_OBJ: k = 0x04; break;
		case ARCHIVE_ENTRY_ACL_GROUP: k = 0x08; break;
		case ARCHIVE_ENTRY_ACL_MASK: k = 0x10; break;
		case ARCHIVE_ENTRY_ACL_OTHER: k = 0x20; break;
		default: die("%s: unsupported ACL entry", fs->what);
		}
		v = xgrow(v, &cap, nv + 1, sizeof *v);
		v[nv++] = (struct acl_ent){ k, (uint16_t)(perm & 7),
					    k == 0x02 || k == 0x08 ? (uint32_t)id : 0xFFFFFFFFu };
	}
	if (nv) {
		qsort(v, nv, sizeof *v, acl_cmp);
		/* With a mask, the group bits of the mode are the mask's. */
		for (size_t i = 0; type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS && i < nv; i++)
			if (v[i].tag == 0x10)
				n->mode = (n->mode & ~070u) | (uint32_t)v[i].perm << 3;
		size_t len = 4 + nv * 8;
		unsigned char *buf = xmalloc(len);
		uint32_t ver = 2;
		memcpy(buf, &ver, 4);
		for (size_t i = 0; i < nv; i++) {
			memcpy(buf + 4 + i * 8, &v[i].tag, 2);
			memcpy(buf + 6 + i * 8, &v[i].perm, 2);
			memcpy(buf + 8 + i * 8, &v[i].id, 4);
		}
		xattr_add(fs, n, name, buf, len);
		free(buf);
	}
	free(v);
}

static void set_xattrs(struct mkfs *fs, struct node *n, struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		xattr_add(fs, n, name, value, size);
	add_acl(fs, n, e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS, "system.posix_acl_access");
	if (S_ISDIR(n->mode))
		add_acl(fs, n, e, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT, "system.posix_acl_default");
}

static void clear_xattrs(struct node *n)
{
	for (size_t i = 0; i < n->nxattrs; i++) {
		free(n->xattrs[i].name);
		free(n->xattrs[i].value);
	}
	free(n->xattrs);
	n->xattrs = NULL;
	n->nxattrs = 0;
}

static void read_data(struct mkfs *fs, struct archive *a, struct node *n)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		if (off < 0)
			die("%s: bad data offset", fs->what);
		file_write(fs, n, (uint64_t)off, buf, size);
	}
	if (r != ARCHIVE_EOF)
		die("%s: %s", fs->what, archive_error_string(a));
}

static void add_entry(struct mkfs *fs, struct archive *a, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e), *name;
	size_t nlen;

	if (!path)
		die("tar entry without a name");
	fs->what = path;
	struct node *dir = tree_parent(fs, path, &name, &nlen);
	const char *link = archive_entry_hardlink(e);
	uint32_t type = archive_entry_filetype(e);

	if (link) {
		struct node *t = tree_find(fs, link);
		if (!t)
			die("%s: hard link to %s, which is not in the archive before it", path, link);
		if (S_ISDIR(t->mode) || !dir)
			die("%s: hard link to or over a directory", path);
		struct node *old = dir_lookup(fs, dir, name, nlen);
		if (old == t)
			return;
		if (old && S_ISDIR(old->mode))
			die("%s: would replace a directory", path);
		if (old)
			dir_unlink(fs, dir, name, nlen);
		dir_link(fs, dir, name, nlen, t);
		return;
	}
	if (!dir) {
		if (type != AE_IFDIR)
			die("%s: the root must be a directory", path);
		set_attrs(fs, fs->root, e);
		clear_xattrs(fs->root);
		set_xattrs(fs, fs->root, e);
		return;
	}
	struct node *old = dir_lookup(fs, dir, name, nlen);
	if (old && S_ISDIR(old->mode)) {
		if (type != AE_IFDIR)
			die("%s: would replace a directory", path);
		set_attrs(fs, old, e);
		clear_xattrs(old);
		set_xattrs(fs, old, e);
		return;
	}
	if (old)
		dir_unlink(fs, dir, name, nlen);

	struct node *n;
	switch (type) {
	case AE_IFREG: case AE_IFDIR: case AE_IFLNK: case AE_IFCHR: case AE_IFBLK:
	case AE_IFIFO: case AE_IFSOCK:
		n = node_new(fs, type);
		break;
	default:
		die("%s: unsupported file type 0%o", path, type);
	}
	set_attrs(fs, n, e);
	set_xattrs(fs, n, e);
	dir_link(fs, dir, name, nlen, n);
	switch (type) {
	case AE_IFREG:
		if (archive_entry_size(e) < 0)
			die("%s: negative size", path);
		read_data(fs, a, n);
		n->size = (uint64_t)archive_entry_size(e);
		if (n->mapped_end > (n->size + fs->l.bs - 1) / fs->l.bs)
			die("%s: data beyond the file size", path);
		break;
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(e);
		if (!t || !*t)
			die("%s: symlink without a target", path);
		size_t len = strlen(t);
		if (len >= fs->l.bs)
			die("%s: symlink target longer than %u bytes", path, fs->l.bs - 1);
		n->size = len;
		if (len <= FAST_SYMLINK_MAX)
			memcpy(n->i_block, t, len);
		else
			file_write(fs, n, 0, t, len);
		break;
	}
	case AE_IFCHR: case AE_IFBLK: {
		uint32_t ma = (uint32_t)archive_entry_rdevmajor(e), mi = (uint32_t)archive_entry_rdevminor(e);
		if (ma < 256 && mi < 256)
			n->i_block[0] = ma << 8 | mi;
		else
			n->i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
		break;
	}
	}
}

/* A stream that stops between two entries looks complete to libarchive,
 * so a producer killed there (oci-unpack | mkext4) would pass for a
 * finished one. Require the end-of-archive marker of an uncompressed tar:
 * at EOF, libarchive has consumed it from where the last entry ended (its
 * header position) only when both zero blocks were there. A compressed
 * stream's own end-of-stream check catches a cut there. */
static void check_end(struct archive *a)
{
	if (archive_filter_bytes(a, -1) == 0)
		die("stdin: empty input, no tar stream");
	if (archive_format(a) == ARCHIVE_FORMAT_EMPTY)
		die("stdin: no tar stream in the %s input", archive_filter_name(a, 0));
	if (archive_filter_count(a) == 1 && archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE &&
	    archive_filter_bytes(a, 0) - archive_read_header_position(a) < TAR_END_MARKER)
		die("stdin: tar stream ends without its end-of-archive marker (truncated?)");
}

void tar_read(struct mkfs *fs, int fd)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *last = NULL;
	int r;

	if (!a)
		die("out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_empty(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_fd(a, fd, TAR_READ_BLOCK) != ARCHIVE_OK)
		die("reading tar: %s", archive_error_string(a));
	for (;;) {
		fs->what = NULL;
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_WARN)
			warnf("%s: %s", archive_entry_pathname(e) ? archive_entry_pathname(e) : "tar",
			      archive_error_string(a));
		else if (r != ARCHIVE_OK)
			die("reading tar%s%s: %s", last ? " after " : "", last ? last : "",
			    archive_error_string(a) ? archive_error_string(a)
						    : "damaged or truncated tar stream");
		add_entry(fs, a, e);
		free(last);
		last = xstrdup(archive_entry_pathname(e));
	}
	fs->what = NULL;
	check_end(a);
	free(last);
	archive_read_free(a);
}
