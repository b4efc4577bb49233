/* mkext4.h: the in-memory tree that the inputs build and the writers lay
 * out, and the state of the image being written. */
#ifndef MKEXT4_H
#define MKEXT4_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/* A run of blocks of one file: logical block, physical block, length. */
struct extent {
	uint32_t lblk;
	uint32_t len;
	uint64_t pblk;
};

struct xattr {
	uint8_t index;		/* ext4 name index: 1 user, 6 security... */
	uint8_t nlen;
	char *name;		/* the name without its prefix */
	void *value;		/* as stored on disk (ACLs already converted) */
	size_t vlen;
	int in_inode;		/* placed in the inode body, not the block */
};

struct node;
struct names;

struct dent {
	char *name;
	uint8_t nlen;
	struct node *node;
};

/* One inode. Directories hold their entries, files their extents. */
struct node {
	uint32_t ino;		/* assigned once the tree is complete */
	uint32_t mode;		/* S_IFMT | permissions */
	uint32_t uid, gid;
	int64_t atime, mtime, ctime, crtime;
	uint32_t atime_ns, mtime_ns, ctime_ns, crtime_ns;
	uint64_t size;
	uint32_t nlink;		/* entries naming it; directories count subdirs */
	uint32_t rmajor, rminor;
	struct node *parent;	/* directories only */
	struct dent *ents;
	size_t nents, entcap;
	struct extent *ext;
	size_t next, extcap;
	uint64_t mapped_end;	/* first logical block after the mapped ones */
	uint64_t blocks;	/* data and tree blocks, in fs blocks */
	char *target;		/* symlink target */
	struct xattr *xattrs;
	size_t nxattrs;
	uint64_t xattr_block;
	uint32_t i_block[15];	/* extent root, device number or fast symlink */
	uint32_t flags;		/* EXT4_*_FL */
};

/* Geometry and the block allocator: blocks are handed out from a cursor
 * that steps over the superblock backups; freed runs are remembered. */
struct layout {
	uint32_t bs;		/* block size */
	uint32_t log;		/* bs = 1024 << log */
	uint32_t bpg;		/* blocks per group */
	uint32_t first;		/* first data block: 1 for 1 KiB blocks */
	uint64_t blocks;	/* total blocks, 0 while -s auto */
	uint64_t limit;		/* the cursor may not pass it */
	uint32_t gdt_reserve;	/* GDT blocks kept at each backup group */
	uint64_t cursor;
	struct extent *freed;	/* runs below the cursor that are free (pblk, len) */
	size_t nfreed, freedcap;
};

struct image {
	int fd;
	char *path, *tmp;
	unsigned char *buf;	/* coalesces sequential writes */
	size_t len;
	uint64_t off;
};

struct opts {
	uint32_t bs;
	uint64_t size;		/* bytes; 0 for auto */
	uint64_t headroom;	/* bytes, or ... */
	unsigned headroom_pct;	/* ... percent of the content when set */
	uint64_t extra_inodes;
	int extra_inodes_set;
	int journal;
	int readonly;
	int have_uuid;
	uint8_t uuid[16];
	char label[16];
	int64_t epoch;		/* SOURCE_DATE_EPOCH, or -1 */
	int64_t now;
};

struct mkfs {
	struct opts o;
	struct layout l;
	struct image img;
	uint32_t csum_seed;
	uint32_t hash_seed[4];
	struct node *root, *lpf, *journal;
	struct node **nodes;	/* every live node, in creation order */
	size_t nnodes, nodecap;
	uint32_t ninodes;	/* inode numbers used, counting reserved ones */
	struct node **byino;	/* index: inode number */
	const char *what;	/* the entry being written, for messages */
	struct names *names;	/* tree.c: (directory, name) -> entry */
};

/* tree.c */
struct node *node_new(struct mkfs *fs, uint32_t mode);
void node_times(struct mkfs *fs, struct node *n, int64_t sec, uint32_t nsec);
struct node *dir_lookup(struct mkfs *fs, struct node *dir, const char *name, size_t nlen);
void dir_link(struct mkfs *fs, struct node *dir, const char *name, size_t nlen, struct node *n);
void dir_unlink(struct mkfs *fs, struct node *dir, const char *name, size_t nlen);
/* Walks path from the root, creating missing directories; returns the
 * parent and leaves the last component in *name. NULL for the root. */
struct node *tree_parent(struct mkfs *fs, const char *path, const char **name, size_t *nlen);
struct node *tree_find(struct mkfs *fs, const char *path);
void tree_init(struct mkfs *fs);
void tree_number(struct mkfs *fs);
void tree_free(struct mkfs *fs);
void node_free_data(struct mkfs *fs, struct node *n);

/* xattr.c */
void xattr_add(struct mkfs *fs, struct node *n, const char *name, const void *value, size_t vlen);
void xattr_write(struct mkfs *fs, struct node *n);
void xattr_inode_body(struct mkfs *fs, struct node *n, void *ibody, size_t room);

/* alloc.c */
void layout_init(struct mkfs *fs, uint64_t blocks, uint32_t gdt_reserve);
uint64_t alloc_run(struct mkfs *fs, uint64_t want, uint64_t *got);
uint64_t alloc_contig(struct mkfs *fs, uint64_t n);
void alloc_free(struct mkfs *fs, uint64_t start, uint64_t len);
int group_has_super(uint64_t g);
uint64_t groups_of(const struct layout *l, uint64_t blocks);
uint32_t gdt_blocks_of(const struct layout *l, uint64_t groups);
uint64_t layout_fit_blocks(const struct layout *l, uint64_t blocks, int grow);

/* image.c */
void image_open(struct mkfs *fs, const char *path);
void image_pwrite(struct mkfs *fs, uint64_t off, const void *buf, size_t len);
void image_flush(struct mkfs *fs);
void image_commit(struct mkfs *fs, uint64_t bytes);
void image_abort(void);

/* extent.c */
void file_write(struct mkfs *fs, struct node *n, uint64_t off, const void *buf, size_t len);
void file_reserve(struct mkfs *fs, struct node *n, uint64_t nblocks);
uint64_t file_copy_fd(struct mkfs *fs, struct node *n, int fd, uint64_t from, uint64_t to);
void extent_tree_write(struct mkfs *fs, struct node *n);

/* dir.c */
uint32_t dx_hash(const char *name, size_t len, const uint32_t seed[4], uint32_t *minor);
void dir_write(struct mkfs *fs, struct node *dir);

/* journal.c */
uint64_t journal_default_blocks(uint64_t fs_blocks);
void journal_create(struct mkfs *fs, uint64_t jblocks);

/* inode.c */
void inode_encode(struct mkfs *fs, struct node *n, void *raw);
uint32_t inode_csum_seed(struct mkfs *fs, uint32_t ino);

/* super.c */
void fs_finish(struct mkfs *fs);

/* tar.c, dirin.c */
void tar_read(struct mkfs *fs, int fd);
void dir_read(struct mkfs *fs, const char *path);

#endif
