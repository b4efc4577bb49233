/* tree.c: the file tree as the inputs describe it. Names are found
 * through one hash table keyed by (directory, name), so a tar stream that
 * puts 100,000 files in one directory is still linear. */
#include "mkext4.h"
#include "ext4.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "xalloc.h"

struct slot {
	struct node *dir;	/* NULL: empty (idx 0) or deleted (idx 1) */
	uint32_t idx;		/* the entry's index in dir->ents */
	uint32_t hash;
};

struct names {
	struct slot *s;
	size_t cap, used;	/* used counts deleted slots too */
};

static uint32_t name_hash(const struct node *dir, const char *name, size_t nlen)
{
	uint64_t h = 1469598103934665603ull ^ (uintptr_t)dir;	/* FNV-1a */
	for (size_t i = 0; i < nlen; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32));
}

static struct slot *names_find(struct names *t, const struct node *dir, const char *name,
			       size_t nlen, uint32_t h)
{
	for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct slot *s = &t->s[i];
		if (!s->dir && s->idx == 0)
			return NULL;
		if (s->dir == dir && s->hash == h) {
			struct dent *d = &dir->ents[s->idx];
			if (d->nlen == nlen && !memcmp(d->name, name, nlen))
				return s;
		}
	}
}

static void names_put(struct names *t, struct node *dir, uint32_t idx, uint32_t h)
{
	if ((t->used + 1) * 2 > t->cap) {
		struct slot *old = t->s;
		size_t oldcap = t->cap;
		t->cap = oldcap ? oldcap * 2 : 1024;
		t->s = xcalloc(t->cap, sizeof *t->s);
		t->used = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].dir)
				names_put(t, old[i].dir, old[i].idx, old[i].hash);
		free(old);
	}
	size_t i = h & (t->cap - 1);
	while (t->s[i].dir)
		i = (i + 1) & (t->cap - 1);
	if (t->s[i].idx == 0)
		t->used++;
	t->s[i] = (struct slot){ dir, idx, h };
}

struct node *node_new(struct mkfs *fs, uint32_t mode)
{
	struct node *n = xcalloc(1, sizeof *n);

	n->mode = mode;
	fs->nodes = xgrow(fs->nodes, &fs->nodecap, fs->nnodes + 1, sizeof *fs->nodes);
	fs->nodes[fs->nnodes++] = n;
	return n;
}

void node_times(struct mkfs *fs, struct node *n, int64_t sec, uint32_t nsec)
{
	(void)fs;
	n->atime = n->mtime = n->ctime = n->crtime = sec;
	n->atime_ns = n->mtime_ns = n->ctime_ns = n->crtime_ns = nsec;
}

struct node *dir_lookup(struct mkfs *fs, struct node *dir, const char *name, size_t nlen)
{
	if (!fs->names->cap)
		return NULL;
	struct slot *s = names_find(fs->names, dir, name, nlen, name_hash(dir, name, nlen));
	return s ? dir->ents[s->idx].node : NULL;
}

void dir_link(struct mkfs *fs, struct node *dir, const char *name, size_t nlen, struct node *n)
{
	dir->ents = xgrow(dir->ents, &dir->entcap, dir->nents + 1, sizeof *dir->ents);
	dir->ents[dir->nents] = (struct dent){ xstrndup(name, nlen), (uint8_t)nlen, n };
	names_put(fs->names, dir, (uint32_t)dir->nents, name_hash(dir, name, nlen));
	dir->nents++;
	n->nlink++;
	if (S_ISDIR(n->mode))
		n->parent = dir;
}

void node_free_data(struct mkfs *fs, struct node *n)
{
	for (size_t i = 0; i < n->next; i++)
		alloc_free(fs, n->ext[i].pblk, n->ext[i].len);
	free(n->ext);
	n->ext = NULL;
	n->next = n->extcap = 0;
	n->mapped_end = n->blocks = 0;
	n->size = 0;
}

void dir_unlink(struct mkfs *fs, struct node *dir, const char *name, size_t nlen)
{
	uint32_t h = name_hash(dir, name, nlen);
	struct slot *s = names_find(fs->names, dir, name, nlen, h);
	if (!s)
		return;
	uint32_t idx = s->idx, last = (uint32_t)dir->nents - 1;
	struct node *n = dir->ents[idx].node;

	s->dir = NULL;
	s->idx = 1;
	free(dir->ents[idx].name);
	if (idx != last) {
		struct dent *m = &dir->ents[last];
		struct slot *ms = names_find(fs->names, dir, m->name, m->nlen,
					     name_hash(dir, m->name, m->nlen));
		ms->idx = idx;
		dir->ents[idx] = *m;
	}
	dir->nents--;
	if (--n->nlink == 0)
		node_free_data(fs, n);
}

static struct node *implicit_dir(struct mkfs *fs)
{
	struct node *d = node_new(fs, S_IFDIR | 0755);
	node_times(fs, d, fs->o.epoch >= 0 ? fs->o.epoch : fs->o.now, 0);
	return d;
}

struct node *tree_parent(struct mkfs *fs, const char *path, const char **name, size_t *nlen)
{
	struct node *dir = fs->root, *parent = NULL;
	const char *p = path, *last = NULL;
	size_t lastlen = 0;

	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *c = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - c);
		if (len == 1 && c[0] == '.')
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.')
			die("%s: path escapes the root", path);
		if (len > EXT4_NAME_LEN)
			die("%s: name longer than %d bytes", path, EXT4_NAME_LEN);
		if (last) {
			/* The previous component is a directory on the way. */
			struct node *d = dir_lookup(fs, dir, last, lastlen);
			if (!d) {
				d = implicit_dir(fs);
				dir_link(fs, dir, last, lastlen, d);
			} else if (!S_ISDIR(d->mode)) {
				die("%s: %.*s is not a directory", path, (int)lastlen, last);
			}
			dir = d;
		}
		last = c;
		lastlen = len;
		parent = dir;
	}
	*name = last;
	*nlen = lastlen;
	return parent;
}

struct node *tree_find(struct mkfs *fs, const char *path)
{
	const char *name;
	size_t nlen;
	struct node *dir = tree_parent(fs, path, &name, &nlen);

	return dir ? dir_lookup(fs, dir, name, nlen) : fs->root;
}

void tree_init(struct mkfs *fs)
{
	int64_t t = fs->o.epoch >= 0 ? fs->o.epoch : fs->o.now;

	fs->names = xcalloc(1, sizeof *fs->names);
	fs->root = node_new(fs, S_IFDIR | 0755);
	node_times(fs, fs->root, t, 0);
	fs->root->parent = fs->root;
	fs->lpf = node_new(fs, S_IFDIR | 0700);
	node_times(fs, fs->lpf, t, 0);
	dir_link(fs, fs->root, "lost+found", 10, fs->lpf);
}

static void number(struct mkfs *fs, struct node *dir)
{
	uint32_t subdirs = 0;

	for (size_t i = 0; i < dir->nents; i++) {
		struct node *n = dir->ents[i].node;
		if (!n->ino) {
			if (fs->ninodes == UINT32_MAX)
				die("too many inodes");
			n->ino = ++fs->ninodes;
		}
		if (S_ISDIR(n->mode)) {
			subdirs++;
			number(fs, n);
		}
	}
	dir->nlink = 2 + subdirs;
	if (dir->nlink >= 65000)	/* dir_nlink: 1 means "many" */
		dir->nlink = 1;
}

/* Inode numbers in depth-first order: root 2, lost+found 11, then 12... */
void tree_number(struct mkfs *fs)
{
	fs->root->ino = EXT4_ROOT_INO;
	fs->lpf->ino = EXT4_LPF_INO;
	fs->ninodes = EXT4_LPF_INO;
	number(fs, fs->root);
	fs->byino = xcalloc((size_t)fs->ninodes + 1, sizeof *fs->byino);
	for (size_t i = 0; i < fs->nnodes; i++)
		if (fs->nodes[i]->ino)
			fs->byino[fs->nodes[i]->ino] = fs->nodes[i];
}

void tree_free(struct mkfs *fs)
{
	for (size_t i = 0; i < fs->nnodes; i++) {
		struct node *n = fs->nodes[i];
		for (size_t k = 0; k < n->nents; k++)
			free(n->ents[k].name);
		for (size_t k = 0; k < n->nxattrs; k++) {
			free(n->xattrs[k].name);
			free(n->xattrs[k].value);
		}
		free(n->ents);
		free(n->ext);
		free(n->target);
		free(n->xattrs);
		free(n);
	}
	free(fs->nodes);
	free(fs->byino);
	free(fs->names->s);
	free(fs->names);
}
