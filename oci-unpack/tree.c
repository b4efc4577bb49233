/* tree.c: the merged tree, and how layer entries change it: replacement,
 * whiteouts and opaque directories (image-spec layer.md, "Whiteouts"),
 * hard links, and path resolution that keeps every symlink inside. */
#include "tree.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define NAME_MAX_LEN 255
/* xattr payload held for the whole tree: it lives in memory. */
#define TREE_MAX_XATTR_BYTES (64u << 20)

static int seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t hash(const struct node *parent, const char *name, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ (uintptr_t)parent;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static struct inode *inode_new(void)
{
	struct inode *ino = xcalloc(1, sizeof(*ino));

	ino->refs = 1;
	return ino;
}

static void xattrs_free(struct xattr *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(x[i].name);
		free(x[i].value);
	}
	free(x);
}

static void inode_unref(struct tree *t, struct inode *ino)
{
	size_t i;

	if (--ino->refs > 0)
		return;
	for (i = 0; i < ino->nxattrs; i++)
		t->nxattr_bytes -= ino->xattrs[i].len;
	xattrs_free(ino->xattrs, ino->nxattrs);
	free(ino->symlink);
	free(ino);
}

/* Copies the entry's attributes into ino, replacing what it held. */
static int inode_set(struct tree *t, struct inode *ino, const struct entry *e,
		     char *err, size_t errlen)
{
	size_t i, bytes = 0;

	for (i = 0; i < e->nxattrs; i++)
		bytes += e->xattrs[i].len + strlen(e->xattrs[i].name);
	for (i = 0; i < ino->nxattrs; i++)
		t->nxattr_bytes -= ino->xattrs[i].len;
	xattrs_free(ino->xattrs, ino->nxattrs);
	ino->xattrs = NULL;
	ino->nxattrs = 0;
	if (t->nxattr_bytes + bytes > TREE_MAX_XATTR_BYTES)
		return seterr(err, errlen, "%s: too many extended attributes",
			      e->path);
	ino->mode = e->mode;
	ino->uid = e->uid;
	ino->gid = e->gid;
	ino->mtime = e->mtime;
	ino->mtime_ns = e->mtime_ns;
	ino->size = S_ISREG(e->mode) ? e->size : 0;
	ino->rdev = e->rdev;
	ino->data_off = e->data_off;
	free(ino->symlink);
	ino->symlink = S_ISLNK(e->mode) ? xstrdup(e->symlink) : NULL;
	if (e->nxattrs) {
		ino->xattrs = xcalloc(e->nxattrs, sizeof(*ino->xattrs));
		for (i = 0; i < e->nxattrs; i++) {
			ino->xattrs[i].name = xstrdup(e->xattrs[i].name);
			ino->xattrs[i].value = xmalloc(e->xattrs[i].len + 1);
			memcpy(ino->xattrs[i].value, e->xattrs[i].value,
			       e->xattrs[i].len);
			ino->xattrs[i].len = e->xattrs[i].len;
			t->nxattr_bytes += e->xattrs[i].len;
		}
		ino->nxattrs = e->nxattrs;
	}
	return 0;
}

static void rehash(struct tree *t)
{
	size_t nb = t->nbuckets * 2, i;
	struct node **b = xcalloc(nb, sizeof(*b)), *n, *next;

	for (i = 0; i < t->nbuckets; i++)
		for (n = t->buckets[i]; n; n = next) {
			size_t h = hash(n->parent, n->name, strlen(n->name));
			next = n->hnext;
			n->hnext = b[h & (nb - 1)];
			b[h & (nb - 1)] = n;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

static struct node *child(struct tree *t, const struct node *dir,
			  const char *name, size_t n)
{
	struct node *c = t->buckets[hash(dir, name, n) & (t->nbuckets - 1)];

	for (; c; c = c->hnext)
		if (c->parent == dir && !strncmp(c->name, name, n) &&
		    c->name[n] == '\0')
			return c;
	return NULL;
}

static struct node *node_add(struct tree *t, struct node *dir,
			     const char *name, size_t n, int layer,
			     struct inode *ino)
{
	struct node *c = xcalloc(1, sizeof(*c));
	size_t h;

	if (t->count >= t->nbuckets)
		rehash(t);
	c->name = xstrndup(name, n);
	c->parent = dir;
	c->layer = layer;
	c->ino = ino;
	h = hash(dir, name, n) & (t->nbuckets - 1);
	c->hnext = t->buckets[h];
	t->buckets[h] = c;
	c->next = dir->child;
	if (dir->child)
		dir->child->prev = c;
	dir->child = c;
	dir->nchildren++;
	t->count++;
	return c;
}

/* Removes n and everything beneath it. */
static void node_remove(struct tree *t, struct node *n)
{
	struct node **pp;

	while (n->child)
		node_remove(t, n->child);
	pp = &t->buckets[hash(n->parent, n->name, strlen(n->name)) &
			 (t->nbuckets - 1)];
	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	if (n->prev)
		n->prev->next = n->next;
	else
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->parent->nchildren--;
	t->count--;
	inode_unref(t, n->ino);
	free(n->name);
	free(n);
}

static int depth_of(const struct node *n)
{
	int d = 0;

	for (; n->parent; n = n->parent)
		d++;
	return d;
}

/* A directory the layer did not name but a path needs. */
static struct node *implicit_dir(struct tree *t, struct node *dir,
				 const char *name, size_t n, int layer)
{
	struct inode *ino = inode_new();

	ino->mode = S_IFDIR | 0755;
	return node_add(t, dir, name, n, layer, ino);
}

/* Resolves path as a directory starting at cur, following every
 * symlink inside the tree: ".." stops at the root, an absolute target
 * starts again at the root. Missing directories are created when
 * create is set; otherwise NULL with err empty means absent. */
static struct node *walk(struct tree *t, struct node *cur, const char *path,
			 int *budget, int create, int layer,
			 char *err, size_t errlen)
{
	const char *p = path;
	struct node *c;
	size_t n;

	if (*p == '/')
		cur = t->root;
	for (;; p += n) {
		while (*p == '/')
			p++;
		if (!*p)
			return cur;
		n = strcspn(p, "/");
		if (n == 1 && p[0] == '.')
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (cur->parent)
				cur = cur->parent;
			continue;
		}
		if (n > NAME_MAX_LEN) {
			seterr(err, errlen, "%s: file name too long", path);
			return NULL;
		}
		c = child(t, cur, p, n);
		if (!c) {
			if (!create) {
				err[0] = '\0';
				return NULL;
			}
			if (depth_of(cur) >= TREE_MAX_DEPTH) {
				seterr(err, errlen, "%s: too deep", path);
				return NULL;
			}
			c = implicit_dir(t, cur, p, n, layer);
		} else if (S_ISLNK(c->ino->mode)) {
			if (--*budget < 0) {
				seterr(err, errlen, "%s: too many levels of "
				       "symbolic links", path);
				return NULL;
			}
			c = walk(t, cur, c->ino->symlink, budget, create,
				 layer, err, errlen);
			if (!c)
				return NULL;
		} else if (!S_ISDIR(c->ino->mode)) {
			if (!create) {
				err[0] = '\0';
				return NULL;
			}
			seterr(err, errlen, "%.*s: not a directory",
			       (int)(p + n - path), path);
			return NULL;
		}
		cur = c;
	}
}

/* Splits an entry path into its parent and last name, stripping leading
 * slashes (tar's rule) and "." components. ".." anywhere is refused.
 * Returns a new string holding the parent path; *name points into it
 * (empty for the root itself). */
static char *split(const char *path, const char **name, char *err,
		   size_t errlen)
{
	size_t len = strlen(path), n, o = 0;
	char *buf = xmalloc(len + 2), *last = NULL;
	const char *p = path;

	for (;; p += n) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n == 1 && p[0] == '.')
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(buf);
			seterr(err, errlen, "%s: path with \"..\" refused",
			       path);
			return NULL;
		}
		if (n > NAME_MAX_LEN) {
			free(buf);
			seterr(err, errlen, "%s: file name too long", path);
			return NULL;
		}
		if (o)
			buf[o++] = '/';
		last = buf + o;
		memcpy(buf + o, p, n);
		o += n;
	}
	buf[o] = '\0';
	if (!last) {
		*name = buf + o;
		return buf;
	}
	/* "a/b/c" becomes "a/b" and "c", in place. */
	if (last > buf) {
		last[-1] = '\0';
		*name = last;
	} else {
		memmove(buf + 1, buf, o + 1);
		buf[0] = '\0';
		*name = buf + 1;
	}
	return buf;
}

/* A whiteout hides what lower layers put at n, never what this layer
 * put there itself, whatever the order of the entries in the tar. */
static void whiteout(struct tree *t, struct node *n, int layer)
{
	struct node *c, *next;

	for (c = n->child; c; c = next) {
		next = c->next;
		whiteout(t, c, layer);
	}
	if (n->layer < layer && !n->child && n->parent)
		node_remove(t, n);
}

static int apply_whiteout(struct tree *t, const char *path, const char *dirp,
			  const char *name, int layer, char *err, size_t errlen)
{
	const char *what = name + strlen(WH_PREFIX);
	int budget = TREE_MAX_SYMLINKS;
	struct node *dir, *c, *next;

	if (!strcmp(name, WH_OPAQUE)) {
		if (!(dir = walk(t, t->root, dirp, &budget, 0, layer, err,
				 errlen)))
			return err[0] ? -1 : 0;
		for (c = dir->child; c; c = next) {
			next = c->next;
			whiteout(t, c, layer);
		}
		return 0;
	}
	if (!strncmp(what, WH_PREFIX, strlen(WH_PREFIX)))
		return 0;	/* other AUFS metadata: not part of the tree */
	if (!*what || !strcmp(what, ".") || !strcmp(what, ".."))
		return seterr(err, errlen, "%s: invalid whiteout", path);
	if (!(dir = walk(t, t->root, dirp, &budget, 0, layer, err, errlen)))
		return err[0] ? -1 : 0;
	if ((c = child(t, dir, what, strlen(what))))
		whiteout(t, c, layer);
	return 0;
}

/* The node a hard link names: its parents resolved inside the tree,
 * its last component not followed (link(2) does not follow it). */
static struct node *link_target(struct tree *t, const char *path,
				char *err, size_t errlen)
{
	int budget = TREE_MAX_SYMLINKS;
	const char *name;
	struct node *dir, *c = NULL;
	char *dirp;

	if (!(dirp = split(path, &name, err, errlen)))
		return NULL;
	if (!*name)
		seterr(err, errlen, "hard link to the root directory");
	else if (!(dir = walk(t, t->root, dirp, &budget, 0, 0, err, errlen)) ||
		 !(c = child(t, dir, name, strlen(name))))
		seterr(err, errlen, "hard link to %s: no such file", path);
	else if (S_ISDIR(c->ino->mode)) {
		seterr(err, errlen, "hard link to directory %s", path);
		c = NULL;
	}
	free(dirp);
	return c;
}

static int valid_type(mode_t m)
{
	return S_ISREG(m) || S_ISDIR(m) || S_ISLNK(m) || S_ISCHR(m) ||
	       S_ISBLK(m) || S_ISFIFO(m);
}

int tree_apply(struct tree *t, const struct entry *e, int layer,
	       char *err, size_t errlen)
{
	int budget = TREE_MAX_SYMLINKS, r = -1;
	struct inode *ino = NULL;
	struct node *dir, *old, *target;
	const char *name;
	char *dirp;

	if (!(dirp = split(e->path, &name, err, errlen)))
		return -1;
	if (!strncmp(name, WH_PREFIX, strlen(WH_PREFIX))) {
		r = apply_whiteout(t, e->path, dirp, name, layer, err, errlen);
		goto out;
	}
	if (!e->hardlink && !valid_type(e->mode)) {
		seterr(err, errlen, "%s: unsupported file type 0%o", e->path,
		       (unsigned)(e->mode & S_IFMT));
		goto out;
	}
	if (!e->hardlink && S_ISLNK(e->mode) && (!e->symlink || !*e->symlink)) {
		seterr(err, errlen, "%s: empty symlink target", e->path);
		goto out;
	}
	if (!*name) {
		/* The root: a symlink or file named "." or "/" would let
		 * later entries land outside (CVE-2021-29136). */
		if (e->hardlink || !S_ISDIR(e->mode)) {
			seterr(err, errlen, "%s: the root must stay a "
			       "directory", e->path);
			goto out;
		}
		r = inode_set(t, t->root->ino, e, err, errlen);
		t->root->layer = layer;
		goto out;
	}
	if (!(dir = walk(t, t->root, dirp, &budget, 1, layer, err, errlen)))
		goto out;
	if (depth_of(dir) >= TREE_MAX_DEPTH) {
		seterr(err, errlen, "%s: too deep", e->path);
		goto out;
	}
	old = child(t, dir, name, strlen(name));
	if (e->hardlink) {
		if (!(target = link_target(t, e->hardlink, err, errlen)))
			goto out;
		if (target == old) {
			old->layer = layer;
			r = 0;
			goto out;
		}
		ino = target->ino;
		ino->refs++;
	} else if (old && S_ISDIR(e->mode) && S_ISDIR(old->ino->mode)) {
		/* A directory over a directory keeps its children. */
		r = inode_set(t, old->ino, e, err, errlen);
		old->layer = layer;
		goto out;
	} else {
		ino = inode_new();
		if (inode_set(t, ino, e, err, errlen) < 0) {
			inode_unref(t, ino);
			goto out;
		}
	}
	if (old)
		node_remove(t, old);
	node_add(t, dir, name, strlen(name), layer, ino);
	r = 0;
out:
	free(dirp);
	return r;
}

struct node *tree_lookup(struct tree *t, const char *path)
{
	int budget = TREE_MAX_SYMLINKS;
	struct node *dir = t->root, *c;
	char err[256], *p = xstrdup(path), *s;
	const char *name;

	for (;;) {
		/* dir is where a relative symlink target starts. */
		if ((s = strrchr(p, '/'))) {
			*s = '\0';
			name = s + 1;
			dir = walk(t, *p ? dir : t->root, p, &budget, 0, 0,
				   err, sizeof(err));
		} else {
			name = p;
		}
		c = NULL;
		if (!dir)
			break;
		if (!*name || !strcmp(name, ".")) {
			c = dir;
			break;
		}
		if (!strcmp(name, "..")) {
			c = dir->parent ? dir->parent : dir;
			break;
		}
		if (!(c = child(t, dir, name, strlen(name))) ||
		    !S_ISLNK(c->ino->mode))
			break;
		if (--budget < 0) {
			c = NULL;
			break;
		}
		s = xstrdup(c->ino->symlink);
		free(p);
		p = s;
		if (*p == '/')
			dir = t->root;
	}
	free(p);
	return c;
}

static int byname(const void *a, const void *b)
{
	return strcmp((*(struct node *const *)a)->name,
		      (*(struct node *const *)b)->name);
}

struct node **tree_children(struct node *n)
{
	struct node **v = xcalloc(n->nchildren + 1, sizeof(*v)), *c;
	size_t i = 0;

	for (c = n->child; c; c = c->next)
		v[i++] = c;
	qsort(v, i, sizeof(*v), byname);
	return v;
}

char *tree_path(const struct node *n)
{
	size_t len = 0, o;
	const struct node *m;
	char *s;

	for (m = n; m->parent; m = m->parent)
		len += strlen(m->name) + 1;
	if (len)
		len--;		/* no slash before the first name */
	s = xmalloc(len + 1);
	o = len;
	s[o] = '\0';
	for (m = n; m->parent; m = m->parent) {
		size_t l = strlen(m->name);
		o -= l;
		memcpy(s + o, m->name, l);
		if (o)
			s[--o] = '/';
	}
	return s;
}

static int walk_rec(struct node *n, int (*fn)(struct node *, void *),
		    void *arg)
{
	struct node **v;
	size_t i;
	int r;

	if (!n->ino->primary)
		n->ino->primary = n;
	if ((r = fn(n, arg)))
		return r;
	if (!n->nchildren)
		return 0;
	v = tree_children(n);
	for (i = 0, r = 0; v[i] && !r; i++)
		r = walk_rec(v[i], fn, arg);
	free(v);
	return r;
}

int tree_walk(struct tree *t, int (*fn)(struct node *, void *), void *arg)
{
	return walk_rec(t->root, fn, arg);
}

void tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 1024;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	t->root = xcalloc(1, sizeof(*t->root));
	t->root->name = xstrdup("");
	t->root->ino = inode_new();
	t->root->ino->mode = S_IFDIR | 0755;
	t->root->layer = -1;
}

void tree_free(struct tree *t)
{
	while (t->root->child)
		node_remove(t, t->root->child);
	inode_unref(t, t->root->ino);
	free(t->root->name);
	free(t->root);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}
