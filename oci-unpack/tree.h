/* tree.h: the merged filesystem tree of an image, metadata only.
 * Layers are applied in order (image-spec layer.md, "Applying
 * Changesets"); each surviving path points at an inode that records
 * which layer entry supplies it and where its data sits in the spool. */
#ifndef OCI_UNPACK_TREE_H
#define OCI_UNPACK_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Symlinks followed while resolving one path, as the kernel's limit. */
#define TREE_MAX_SYMLINKS 40
/* Directory depth of the tree; deeper paths are refused. */
#define TREE_MAX_DEPTH 256

struct xattr {
	char *name;
	void *value;
	size_t len;
};

/* What a layer's tar entry says, before it is applied. */
struct entry {
	const char *path;
	const char *hardlink;	/* target path of a hard link, or NULL */
	const char *symlink;	/* target of a symbolic link */
	mode_t mode;		/* type and permission bits */
	uid_t uid;
	gid_t gid;
	int64_t mtime;
	long mtime_ns;
	int64_t size;
	dev_t rdev;
	struct xattr *xattrs;
	size_t nxattrs;
	int64_t data_off;	/* where its data starts in the spool */
};

struct inode {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int64_t mtime;
	long mtime_ns;
	int64_t size;
	dev_t rdev;
	char *symlink;
	struct xattr *xattrs;
	size_t nxattrs;
	int64_t data_off;
	unsigned refs;		/* paths naming it (hard links) */
	struct node *primary;	/* first path written out; the others link */
};

struct node {
	char *name;
	struct node *parent;
	struct node *child, *next, *prev;	/* children, siblings */
	struct node *hnext;			/* hash chain */
	size_t nchildren;
	int layer;		/* layer that last set this path */
	struct inode *ino;
};

struct tree {
	struct node *root;
	struct node **buckets;
	size_t nbuckets, count;
	size_t nxattr_bytes;	/* total xattr payload, bounded */
};

void tree_init(struct tree *t);
void tree_free(struct tree *t);

/* Applies one entry of layer number `layer` (0 = bottom): an ordinary
 * entry, a whiteout or an opaque marker. -1 with a reason in err when
 * the entry is invalid or hostile; the tree is then still consistent. */
int tree_apply(struct tree *t, const struct entry *e, int layer,
	       char *err, size_t errlen);

/* Looks a path up, following symlinks inside the tree (never out of
 * it) for every component, the last one included. NULL if absent. */
struct node *tree_lookup(struct tree *t, const char *path);

/* Children of n sorted by name, in a new array of n->nchildren. */
struct node **tree_children(struct node *n);

/* Path of n relative to the root ("" for the root), newly allocated. */
char *tree_path(const struct node *n);

/* Visits every node depth first, parents before children, siblings in
 * name order. Sets each inode's primary to the first node reaching it.
 * fn returning nonzero stops the walk and is returned. */
int tree_walk(struct tree *t, int (*fn)(struct node *, void *), void *arg);

#endif
