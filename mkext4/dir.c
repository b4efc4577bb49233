/* dir.c: directory blocks. One block of entries stays linear; more become
 * a hashed tree (dir_index) keyed by half-MD4 of the names, with the
 * checksum tails that metadata_csum asks for. */
#include "mkext4.h"
#include "ext4.h"
#include "crc32c.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "xalloc.h"

#define LPF_BYTES 16384	/* lost+found is made this big, as mke2fs does */
#define DX_CONTINUED 1	/* low hash bit: the previous leaf has this hash too */

/* Hash Tree Directories: the half-MD4 transform */
#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) (((x) & (y)) + (((x) ^ (y)) & (z)))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define ROL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
#define ROUND(f, a, b, c, d, x, s) (a += f(b, c, d) + (x), a = ROL(a, s))
#define K2 0x5A827999u
#define K3 0x6ED9EBA1u

static void half_md4(uint32_t buf[4], const uint32_t in[8])
{
	uint32_t a = buf[0], b = buf[1], c = buf[2], d = buf[3];

	ROUND(F, a, b, c, d, in[0], 3);
	ROUND(F, d, a, b, c, in[1], 7);
	ROUND(F, c, d, a, b, in[2], 11);
	ROUND(F, b, c, d, a, in[3], 19);
	ROUND(F, a, b, c, d, in[4], 3);
	ROUND(F, d, a, b, c, in[5], 7);
	ROUND(F, c, d, a, b, in[6], 11);
	ROUND(F, b, c, d, a, in[7], 19);
	ROUND(G, a, b, c, d, in[1] + K2, 3);
	ROUND(G, d, a, b, c, in[3] + K2, 5);
	ROUND(G, c, d, a, b, in[5] + K2, 9);
	ROUND(G, b, c, d, a, in[7] + K2, 13);
	ROUND(G, a, b, c, d, in[0] + K2, 3);
	ROUND(G, d, a, b, c, in[2] + K2, 5);
	ROUND(G, c, d, a, b, in[4] + K2, 9);
	ROUND(G, b, c, d, a, in[6] + K2, 13);
	ROUND(H, a, b, c, d, in[3] + K3, 3);
	ROUND(H, d, a, b, c, in[7] + K3, 9);
	ROUND(H, c, d, a, b, in[2] + K3, 11);
	ROUND(H, b, c, d, a, in[6] + K3, 15);
	ROUND(H, a, b, c, d, in[1] + K3, 3);
	ROUND(H, d, a, b, c, in[5] + K3, 9);
	ROUND(H, c, d, a, b, in[0] + K3, 11);
	ROUND(H, b, c, d, a, in[4] + K3, 15);
	buf[0] += a;
	buf[1] += b;
	buf[2] += c;
	buf[3] += d;
}

/* The name as eight words, bytes taken unsigned (EXT4_FLAGS_UNSIGNED_HASH). */
static void str2hashbuf(const unsigned char *msg, size_t len, uint32_t *buf, int num)
{
	uint32_t pad = (uint32_t)len | ((uint32_t)len << 8), val;

	pad |= pad << 16;
	val = pad;
	if (len > (size_t)num * 4)
		len = (size_t)num * 4;
	for (size_t i = 0; i < len; i++) {
		val = msg[i] + (val << 8);
		if (i % 4 == 3) {
			*buf++ = val;
			val = pad;
			num--;
		}
	}
	if (--num >= 0)
		*buf++ = val;
	while (--num >= 0)
		*buf++ = pad;
}

uint32_t dx_hash(const char *name, size_t len, const uint32_t seed[4], uint32_t *minor)
{
	uint32_t buf[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 }, in[8];
	const unsigned char *p = (const unsigned char *)name;

	if (seed[0] || seed[1] || seed[2] || seed[3])
		memcpy(buf, seed, sizeof buf);
	for (;;) {
		str2hashbuf(p, len, in, 8);
		half_md4(buf, in);
		if (len <= 32)
			break;
		len -= 32;
		p += 32;
	}
	uint32_t hash = buf[1] & ~1u;
	if (hash == 0x7fffffffu << 1)
		hash = (0x7fffffffu - 1) << 1;
	if (minor)
		*minor = buf[2];
	return hash;
}

static uint8_t file_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return FT_REG;
	case S_IFDIR: return FT_DIR;
	case S_IFCHR: return FT_CHR;
	case S_IFBLK: return FT_BLK;
	case S_IFIFO: return FT_FIFO;
	case S_IFSOCK: return FT_SOCK;
	case S_IFLNK: return FT_SYMLINK;
	}
	return FT_UNKNOWN;
}

/* Fills directory blocks one after another into a growing buffer. */
struct dirbuf {
	struct mkfs *fs;
	struct node *dir;
	unsigned char *b;
	size_t nblocks, cap;
	size_t used;		/* bytes used in the current block */
	struct ext4_dirent *last;
};

static void db_new_block(struct dirbuf *d)
{
	d->b = xgrow(d->b, &d->cap, (d->nblocks + 1) * d->fs->l.bs, 1);
	memset(d->b + d->nblocks * d->fs->l.bs, 0, d->fs->l.bs);
	d->nblocks++;
	d->used = 0;
	d->last = NULL;
}

static unsigned char *db_block(struct dirbuf *d, size_t i)
{
	return d->b + i * d->fs->l.bs;
}

/* Closes the current leaf block: the last entry reaches the tail. */
static void db_close(struct dirbuf *d)
{
	uint32_t bs = d->fs->l.bs, room = bs - sizeof(struct ext4_dirent_tail);
	unsigned char *blk = db_block(d, d->nblocks - 1);

	if (d->last) {
		d->last->rec_len = (uint16_t)(room - ((unsigned char *)d->last - blk));
	} else {
		struct ext4_dirent *e = (void *)blk;
		e->inode = 0;
		e->rec_len = (uint16_t)room;
	}
	struct ext4_dirent_tail *t = (void *)(blk + room);
	t->det_rec_len = sizeof *t;
	t->det_reserved_ft = EXT4_DIRENT_TAIL_FT;
	t->det_checksum = crc32c(inode_csum_seed(d->fs, d->dir->ino), blk, room);
}

/* Appends an entry; 0 when it does not fit in the current block. */
static int db_add(struct dirbuf *d, uint32_t ino, const char *name, size_t nlen, uint8_t ft)
{
	uint32_t room = d->fs->l.bs - sizeof(struct ext4_dirent_tail);
	uint32_t len = EXT4_DIRENT_LEN(nlen);

	if (d->used + len > room)
		return 0;
	struct ext4_dirent *e = (void *)(db_block(d, d->nblocks - 1) + d->used);
	e->inode = ino;
	e->rec_len = (uint16_t)len;
	e->name_len = (uint8_t)nlen;
	e->file_type = ft;
	memcpy(e->name, name, nlen);
	d->used += len;
	d->last = e;
	return 1;
}

struct hent {
	uint32_t hash, minor;
	const struct dent *d;
};

static int hent_cmp(const void *a, const void *b)
{
	const struct hent *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->minor != y->minor)
		return x->minor < y->minor ? -1 : 1;
	return 0;
}

static void dx_csum(struct mkfs *fs, struct node *dir, unsigned char *blk, size_t count_off)
{
	uint16_t limit, count;
	memcpy(&limit, blk + count_off, 2);
	memcpy(&count, blk + count_off + 2, 2);
	struct dx_tail *t = (void *)(blk + count_off + (size_t)limit * sizeof(struct dx_entry));
	uint32_t zero = 0;
	uint32_t c = crc32c(inode_csum_seed(fs, dir->ino), blk, count_off + (size_t)count * sizeof(struct dx_entry));
	c = crc32c(c, &t->dt_reserved, 4);
	c = crc32c(c, &zero, 4);
	t->dt_checksum = c;
}

/* Writes an index block's entries: the first slot holds limit and count. */
static void dx_fill(unsigned char *blk, size_t count_off, uint16_t limit,
		    const struct dx_entry *ents, size_t n)
{
	struct dx_entry *e = (void *)(blk + count_off);
	uint16_t count = (uint16_t)n;

	for (size_t i = 0; i < n; i++)
		e[i] = ents[i];
	memcpy(blk + count_off, &limit, 2);
	memcpy(blk + count_off + 2, &count, 2);
}

static void dir_htree(struct dirbuf *d)
{
	struct mkfs *fs = d->fs;
	struct node *dir = d->dir;
	uint32_t bs = fs->l.bs;
	struct hent *h = xmalloc(dir->nents * sizeof *h);

	for (size_t i = 0; i < dir->nents; i++) {
		h[i].d = &dir->ents[i];
		h[i].hash = dx_hash(dir->ents[i].name, dir->ents[i].nlen, fs->hash_seed, &h[i].minor);
	}
	qsort(h, dir->nents, sizeof *h, hent_cmp);

	/* Leaves first, into their own buffer; each gets its index entry. */
	struct dirbuf leaves = { .fs = fs, .dir = dir };
	struct dx_entry *lx = NULL;
	size_t lxcap = 0;
	db_new_block(&leaves);
	lx = xgrow(lx, &lxcap, 1, sizeof *lx);
	lx[0] = (struct dx_entry){ 0, 0 };
	for (size_t i = 0; i < dir->nents; i++) {
		const struct dent *e = h[i].d;
		if (db_add(&leaves, e->node->ino, e->name, e->nlen, file_type(e->node->mode)))
			continue;
		db_close(&leaves);
		db_new_block(&leaves);
		lx = xgrow(lx, &lxcap, leaves.nblocks, sizeof *lx);
		lx[leaves.nblocks - 1].hash = h[i].hash |
			(i && h[i - 1].hash == h[i].hash ? DX_CONTINUED : 0);
		db_add(&leaves, e->node->ino, e->name, e->nlen, file_type(e->node->mode));
	}
	db_close(&leaves);

	size_t nleaves = leaves.nblocks;
	size_t root_off = 32, node_off = 8;
	uint16_t root_limit = (uint16_t)((bs - root_off - sizeof(struct dx_tail)) / sizeof(struct dx_entry));
	uint16_t node_limit = (uint16_t)((bs - node_off - sizeof(struct dx_tail)) / sizeof(struct dx_entry));
	size_t nnodes = 0;
	uint8_t levels = 0;

	if (nleaves > root_limit) {
		levels = 1;
		nnodes = (nleaves + node_limit - 1) / node_limit;
		if (nnodes > root_limit)
			die("%s: directory too large (%zu entries)", fs->what, dir->nents);
	}

	/* Block 0 is the root, then the index nodes, then the leaves. */
	size_t first_leaf = 1 + nnodes;
	for (size_t i = 0; i < nleaves; i++)
		lx[i].block = (uint32_t)(first_leaf + i);

	d->nblocks = 0;
	db_new_block(d);
	for (size_t i = 0; i < nnodes; i++)
		db_new_block(d);
	d->b = xgrow(d->b, &d->cap, (first_leaf + nleaves) * bs, 1);
	memcpy(d->b + first_leaf * bs, leaves.b, nleaves * bs);
	d->nblocks = first_leaf + nleaves;

	unsigned char *root = db_block(d, 0);
	struct ext4_dirent *dot = (void *)root;
	dot->inode = dir->ino;
	dot->rec_len = 12;
	dot->name_len = 1;
	dot->file_type = FT_DIR;
	dot->name[0] = '.';
	struct ext4_dirent *dotdot = (void *)(root + 12);
	dotdot->inode = dir->parent->ino;
	dotdot->rec_len = (uint16_t)(bs - 12);
	dotdot->name_len = 2;
	dotdot->file_type = FT_DIR;
	memcpy(dotdot->name, "..", 2);
	struct dx_root_info *info = (void *)(root + 24);
	info->hash_version = EXT4_HASH_HALF_MD4;
	info->info_length = sizeof *info;
	info->indirect_levels = levels;

	if (!levels) {
		dx_fill(root, root_off, root_limit, lx, nleaves);
	} else {
		struct dx_entry *rx = xcalloc(nnodes, sizeof *rx);
		for (size_t k = 0; k < nnodes; k++) {
			size_t first = k * node_limit;
			size_t cnt = nleaves - first < node_limit ? nleaves - first : node_limit;
			unsigned char *nb = db_block(d, 1 + k);
			struct ext4_dirent *fake = (void *)nb;
			fake->rec_len = (uint16_t)bs;
			dx_fill(nb, node_off, node_limit, lx + first, cnt);
			dx_csum(fs, dir, nb, node_off);
			rx[k] = (struct dx_entry){ lx[first].hash, (uint32_t)(1 + k) };
		}
		dx_fill(root, root_off, root_limit, rx, nnodes);
		free(rx);
	}
	dx_csum(fs, dir, root, root_off);
	dir->flags |= EXT4_INDEX_FL;
	free(leaves.b);
	free(lx);
	free(h);
}

void dir_write(struct mkfs *fs, struct node *dir)
{
	struct dirbuf d = { .fs = fs, .dir = dir };
	uint32_t bs = fs->l.bs;
	size_t need = 24;

	for (size_t i = 0; i < dir->nents; i++)
		need += EXT4_DIRENT_LEN(dir->ents[i].nlen);
	if (need > bs - sizeof(struct ext4_dirent_tail) && dir != fs->lpf) {
		dir_htree(&d);
	} else {
		db_new_block(&d);
		db_add(&d, dir->ino, ".", 1, FT_DIR);
		db_add(&d, dir->parent->ino, "..", 2, FT_DIR);
		for (size_t i = 0; i < dir->nents; i++) {
			const struct dent *e = &dir->ents[i];
			if (db_add(&d, e->node->ino, e->name, e->nlen, file_type(e->node->mode)))
				continue;
			db_close(&d);
			db_new_block(&d);
			db_add(&d, e->node->ino, e->name, e->nlen, file_type(e->node->mode));
		}
		db_close(&d);
		if (dir == fs->lpf) {
			while (d.nblocks * bs < LPF_BYTES) {
				db_new_block(&d);
				db_close(&d);
			}
		}
	}
	dir->size = (uint64_t)d.nblocks * bs;
	file_write(fs, dir, 0, d.b, d.nblocks * bs);
	free(d.b);
}
