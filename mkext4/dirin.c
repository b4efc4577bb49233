/* dirin.c: the tree from a directory on the host. Names are taken in
 * sorted order so the same tree gives the same image; holes found with
 * SEEK_DATA/SEEK_HOLE stay holes; hard links are found by (dev, ino). */
#include "mkext4.h"
#include "ext4.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

#define COPY_BUF_SIZE (1u << 20)
#define FAST_SYMLINK_MAX 59
#define XATTR_LIST_MAX_BYTES 65536	/* the kernel's limits: no ERANGE */
#define XATTR_VALUE_MAX_BYTES 65536

struct linkent {
	dev_t dev;
	ino_t ino;
	struct node *node;
};

struct walk {
	struct mkfs *fs;
	unsigned char *buf;
	struct linkent *links;	/* open addressing by (dev, ino) */
	size_t linkcap, nlinks;
	int no_copy_range;
	char *xnames, *xval;
	size_t xnamecap, xvalcap;
};

static size_t link_slot(struct walk *w, dev_t dev, ino_t ino)
{
	size_t i = (size_t)((ino * 0x9E3779B97F4A7C15ull) ^ dev) & (w->linkcap - 1);
	while (w->links[i].node && (w->links[i].dev != dev || w->links[i].ino != ino))
		i = (i + 1) & (w->linkcap - 1);
	return i;
}

static struct node *link_find(struct walk *w, const struct stat *st)
{
	if (!w->linkcap)
		return NULL;
	return w->links[link_slot(w, st->st_dev, st->st_ino)].node;
}

static void link_put(struct walk *w, const struct stat *st, struct node *n)
{
	if ((w->nlinks + 1) * 2 > w->linkcap) {
		struct linkent *old = w->links;
		size_t oldcap = w->linkcap;
		w->linkcap = oldcap ? oldcap * 2 : 256;
		w->links = xcalloc(w->linkcap, sizeof *w->links);
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].node)
				w->links[link_slot(w, old[i].dev, old[i].ino)] = old[i];
		free(old);
	}
	w->links[link_slot(w, st->st_dev, st->st_ino)] = (struct linkent){ st->st_dev, st->st_ino, n };
	w->nlinks++;
}

static void clamp(struct mkfs *fs, int64_t *sec, uint32_t *ns, struct timespec ts)
{
	*sec = ts.tv_sec;
	*ns = (uint32_t)ts.tv_nsec;
	if (fs->o.epoch >= 0 && *sec > fs->o.epoch) {
		*sec = fs->o.epoch;
		*ns = 0;
	}
}

static void set_attrs(struct mkfs *fs, struct node *n, const struct stat *st)
{
	n->mode = st->st_mode;
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	clamp(fs, &n->atime, &n->atime_ns, st->st_atim);
	clamp(fs, &n->mtime, &n->mtime_ns, st->st_mtim);
	clamp(fs, &n->ctime, &n->ctime_ns, st->st_ctim);
	n->crtime = n->ctime;
	n->crtime_ns = n->ctime_ns;
}

/* Reads the xattrs through fd when there is one, else through path. */
static void read_xattrs(struct walk *w, struct node *n, int fd, const char *path)
{
	ssize_t len;

	for (;;) {
		len = fd >= 0 ? flistxattr(fd, w->xnames, w->xnamecap) : llistxattr(path, w->xnames, w->xnamecap);
		if (len >= 0)
			break;
		if (errno == ENOTSUP || errno == ENOSYS)
			return;
		if (errno != ERANGE)
			die("%s: listing xattrs:", w->fs->what);
		len = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(path, NULL, 0);
		if (len < 0)
			die("%s: listing xattrs:", w->fs->what);
		w->xnames = xgrow(w->xnames, &w->xnamecap, (size_t)len + 1, 1);
	}
	for (char *name = w->xnames; name < w->xnames + len; name += strlen(name) + 1) {
		ssize_t vl;
		for (;;) {
			vl = fd >= 0 ? fgetxattr(fd, name, w->xval, w->xvalcap)
				     : lgetxattr(path, name, w->xval, w->xvalcap);
			if (vl >= 0)
				break;
			if (errno != ERANGE)
				die("%s: reading xattr %s:", w->fs->what, name);
			vl = fd >= 0 ? fgetxattr(fd, name, NULL, 0) : lgetxattr(path, name, NULL, 0);
			if (vl < 0)
				die("%s: reading xattr %s:", w->fs->what, name);
			w->xval = xgrow(w->xval, &w->xvalcap, (size_t)vl + 1, 1);
		}
		xattr_add(w->fs, n, name, w->xval, (size_t)vl);
	}
}

#define COPY_RANGE_MIN (64u << 10)	/* below this, read and write is cheaper */

static void copy_range(struct walk *w, struct node *n, int fd, uint64_t from, uint64_t to)
{
	if (!w->no_copy_range && to - from >= COPY_RANGE_MIN && from % w->fs->l.bs == 0 &&
	    from >= n->mapped_end * w->fs->l.bs) {
		uint64_t reached = file_copy_fd(w->fs, n, fd, from, to);
		if (reached == from)
			w->no_copy_range = 1;	/* not across these filesystems */
		from = reached;
	}
	while (from < to) {
		size_t want = to - from < COPY_BUF_SIZE ? (size_t)(to - from) : COPY_BUF_SIZE;
		ssize_t r = pread(fd, w->buf, want, (off_t)from);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("%s:", w->fs->what);
		}
		if (r == 0)
			break;	/* the file shrank: what is left is a hole */
		file_write(w->fs, n, from, w->buf, (size_t)r);
		from += (uint64_t)r;
	}
}

static void copy_file(struct walk *w, struct node *n, int fd, const struct stat *st)
{
	uint64_t size = (uint64_t)st->st_size;

	n->size = size;
	if ((uint64_t)st->st_blocks * 512 >= size) {
		copy_range(w, n, fd, 0, size);
		return;
	}
	for (uint64_t pos = 0; pos < size;) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;
			copy_range(w, n, fd, pos, size);	/* no SEEK_DATA here */
			break;
		}
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			die("%s:", w->fs->what);
		uint64_t end = (uint64_t)hole < size ? (uint64_t)hole : size;
		copy_range(w, n, fd, (uint64_t)data, end);
		pos = end;
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(struct walk *w, int dfd, struct node *dir, const char *path)
{
	int dup_fd = dup(dfd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		die("%s:", path);
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names = xgrow(names, &cap, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	if (errno)
		die("%s:", path);
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, name_cmp);

	for (size_t i = 0; i < n; i++) {
		char *sub = xasprintf("%s/%s", path, names[i]);
		size_t nlen = strlen(names[i]);
		struct stat st;

		w->fs->what = sub;
		if (nlen > EXT4_NAME_LEN)
			die("%s: name longer than %d bytes", sub, EXT4_NAME_LEN);
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("%s:", sub);
		if (dir == w->fs->root && !strcmp(names[i], "lost+found") && S_ISDIR(st.st_mode)) {
			/* Our lost+found takes the source's attributes and entries. */
			int fd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				die("%s:", sub);
			set_attrs(w->fs, w->fs->lpf, &st);
			read_xattrs(w, w->fs->lpf, fd, NULL);
			walk(w, fd, w->fs->lpf, sub);
			close(fd);
			free(sub);
			continue;
		}
		if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
			struct node *t = link_find(w, &st);
			if (t) {
				dir_link(w->fs, dir, names[i], nlen, t);
				free(sub);
				continue;
			}
		}
		struct node *node = node_new(w->fs, st.st_mode);
		set_attrs(w->fs, node, &st);
		dir_link(w->fs, dir, names[i], nlen, node);
		if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
			link_put(w, &st, node);

		if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
			int fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
					(S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
			if (fd < 0)
				die("%s:", sub);
			read_xattrs(w, node, fd, NULL);
			if (S_ISREG(st.st_mode))
				copy_file(w, node, fd, &st);
			else
				walk(w, fd, node, sub);
			close(fd);
		} else {
			char *proc = xasprintf("/proc/self/fd/%d/%s", dfd, names[i]);
			read_xattrs(w, node, -1, proc);
			free(proc);
			if (S_ISLNK(st.st_mode)) {
				char *t = xmalloc((size_t)w->fs->l.bs + 1);
				ssize_t len = readlinkat(dfd, names[i], t, w->fs->l.bs);
				if (len < 0)
					die("%s:", sub);
				if (len == 0 || (size_t)len >= w->fs->l.bs)
					die("%s: symlink target empty or longer than %u bytes", sub,
					    w->fs->l.bs - 1);
				node->size = (uint64_t)len;
				if (len <= FAST_SYMLINK_MAX)
					memcpy(node->i_block, t, (size_t)len);
				else
					file_write(w->fs, node, 0, t, (size_t)len);
				free(t);
			} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
				uint32_t ma = major(st.st_rdev), mi = minor(st.st_rdev);
				if (ma < 256 && mi < 256)
					node->i_block[0] = ma << 8 | mi;
				else
					node->i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
			}
		}
		free(sub);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void dir_read(struct mkfs *fs, const char *path)
{
	struct walk w = { .fs = fs };
	struct stat st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s:", path);
	w.buf = xmalloc(COPY_BUF_SIZE);
	w.xnamecap = XATTR_LIST_MAX_BYTES;
	w.xnames = xmalloc(w.xnamecap);
	w.xvalcap = XATTR_VALUE_MAX_BYTES;
	w.xval = xmalloc(w.xvalcap);
	fs->what = path;
	set_attrs(fs, fs->root, &st);
	read_xattrs(&w, fs->root, fd, NULL);
	walk(&w, fd, fs->root, path);
	close(fd);
	free(w.buf);
	free(w.links);
	free(w.xnames);
	free(w.xval);
	fs->what = NULL;
}
