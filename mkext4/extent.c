/* extent.c: file data into blocks, and the extent tree that maps them.
 * Data arrives in increasing offsets; holes are simply never mapped. */
#include "mkext4.h"
#include "ext4.h"
#include "crc32c.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

static void extent_add(struct node *n, uint64_t lblk, uint64_t pblk, uint64_t len)
{
	if (n->next) {
		struct extent *e = &n->ext[n->next - 1];
		if (e->lblk + (uint64_t)e->len == lblk && e->pblk + e->len == pblk &&
		    e->len + len <= EXT4_EXT_MAX_LEN) {
			e->len += (uint32_t)len;
			return;
		}
	}
	n->ext = xgrow(n->ext, &n->extcap, n->next + 1, sizeof *n->ext);
	n->ext[n->next++] = (struct extent){ (uint32_t)lblk, (uint32_t)len, pblk };
}

/* The physical block of the last mapped logical block. */
static uint64_t last_pblk(struct node *n);

/* Copies [from, to) of fd into newly mapped blocks with copy_file_range,
 * so the data never passes through user space. from is block-aligned and
 * past the mapped blocks. Returns the offset reached: short when the
 * kernel cannot copy (the caller reads the rest). */
uint64_t file_copy_fd(struct mkfs *fs, struct node *n, int fd, uint64_t from, uint64_t to)
{
	uint32_t bs = fs->l.bs;

	while (from < to) {
		uint64_t need = (to - from + bs - 1) / bs;
		uint64_t got, pblk = alloc_run(fs, need < EXT4_EXT_MAX_LEN ? need : EXT4_EXT_MAX_LEN, &got);
		uint64_t len = got * bs < to - from ? got * bs : to - from, done = 0;

		while (done < len) {
			loff_t in = (loff_t)(from + done), out = (loff_t)(pblk * bs + done);
			ssize_t r = copy_file_range(fd, &in, fs->img.fd, &out, len - done, 0);
			if (r <= 0)
				break;
			done += (uint64_t)r;
		}
		if (done < len) {
			/* Give back what was not copied; write the rest by hand. */
			uint64_t used = (done + bs - 1) / bs;
			alloc_free(fs, pblk + used, got - used);
			got = used;
		}
		if (got) {
			extent_add(n, from / bs, pblk, got);
			n->blocks += got;
			n->mapped_end = from / bs + got;
		}
		from += done;
		if (done < len)
			return from;
	}
	return from;
}

static uint64_t last_pblk(struct node *n)
{
	struct extent *e = &n->ext[n->next - 1];
	return e->pblk + e->len - 1;
}

void file_write(struct mkfs *fs, struct node *n, uint64_t off, const void *buf, size_t len)
{
	uint32_t bs = fs->l.bs;
	const char *p = buf;

	if (!len)
		return;
	if ((off + len - 1) / bs >= (1ull << 32))
		die("%s: file too large for ext4", fs->what);
	uint64_t fb = off / bs;
	if (n->mapped_end && fb < n->mapped_end - 1)
		die("%s: data out of order", fs->what);
	if (n->mapped_end && fb == n->mapped_end - 1) {
		/* Finish the block that an earlier write began. */
		size_t in = off % bs, k = bs - in < len ? bs - in : len;
		image_pwrite(fs, last_pblk(n) * bs + in, p, k);
		p += k;
		off += k;
		len -= k;
	}
	while (len) {
		uint64_t lblk = off / bs;
		uint64_t need = (off % bs + len + bs - 1) / bs;
		uint64_t got, want = need < EXT4_EXT_MAX_LEN ? need : EXT4_EXT_MAX_LEN;
		uint64_t pblk = alloc_run(fs, want, &got);
		size_t in = off % bs;
		size_t k = got * bs - in < len ? got * bs - in : len;

		extent_add(n, lblk, pblk, got);
		n->blocks += got;
		n->mapped_end = lblk + got;
		image_pwrite(fs, pblk * bs + in, p, k);
		p += k;
		off += k;
		len -= k;
	}
}

static void put_extent_tail(struct mkfs *fs, struct node *n, unsigned char *blk)
{
	struct ext4_extent_header *h = (void *)blk;
	size_t off = sizeof *h + (size_t)h->eh_max * sizeof(struct ext4_extent);
	uint32_t c = crc32c(inode_csum_seed(fs, n->ino), blk, off);
	memcpy(blk + off, &c, 4);
}

/* Builds the tree bottom up: leaves of extents, then index levels until
 * the top fits in the four slots of i_block. */
void extent_tree_write(struct mkfs *fs, struct node *n)
{
	uint32_t bs = fs->l.bs;
	size_t per = (bs - sizeof(struct ext4_extent_header)) / sizeof(struct ext4_extent);
	struct ext4_extent_header *root = (void *)n->i_block;

	memset(n->i_block, 0, sizeof n->i_block);
	root->eh_magic = EXT4_EXT_MAGIC;
	root->eh_max = 4;
	n->flags |= EXT4_EXTENTS_FL;
	if (n->next <= 4) {
		struct ext4_extent *e = (void *)(root + 1);
		root->eh_entries = (uint16_t)n->next;
		for (size_t i = 0; i < n->next; i++) {
			e[i].ee_block = n->ext[i].lblk;
			e[i].ee_len = (uint16_t)n->ext[i].len;
			e[i].ee_start_hi = (uint16_t)(n->ext[i].pblk >> 32);
			e[i].ee_start_lo = (uint32_t)n->ext[i].pblk;
		}
		return;
	}

	/* Level 0: the extents themselves; above: (first lblk, block). */
	size_t count = n->next;
	struct extent *items = n->ext;	/* lblk, pblk of a child for index levels */
	struct extent *up = NULL;
	unsigned depth = 0;
	unsigned char *blk = xmalloc(bs);

	while (count > 4) {
		size_t nb = (count + per - 1) / per;
		struct extent *next = xcalloc(nb, sizeof *next);
		for (size_t b = 0; b < nb; b++) {
			size_t first = b * per, k = count - first < per ? count - first : per;
			struct ext4_extent_header *h = (void *)blk;
			memset(blk, 0, bs);
			h->eh_magic = EXT4_EXT_MAGIC;
			h->eh_entries = (uint16_t)k;
			h->eh_max = (uint16_t)per;
			h->eh_depth = (uint16_t)depth;
			for (size_t i = 0; i < k; i++) {
				struct extent *x = &items[first + i];
				if (depth == 0) {
					struct ext4_extent *e = (struct ext4_extent *)(h + 1) + i;
					e->ee_block = x->lblk;
					e->ee_len = (uint16_t)x->len;
					e->ee_start_hi = (uint16_t)(x->pblk >> 32);
					e->ee_start_lo = (uint32_t)x->pblk;
				} else {
					struct ext4_extent_idx *e = (struct ext4_extent_idx *)(h + 1) + i;
					e->ei_block = x->lblk;
					e->ei_leaf_lo = (uint32_t)x->pblk;
					e->ei_leaf_hi = (uint16_t)(x->pblk >> 32);
				}
			}
			put_extent_tail(fs, n, blk);
			uint64_t pblk = alloc_contig(fs, 1);
			image_pwrite(fs, pblk * bs, blk, bs);
			n->blocks++;
			next[b] = (struct extent){ .lblk = items[first].lblk, .pblk = pblk };
		}
		free(up);
		up = next;
		items = next;
		count = nb;
		depth++;
	}
	root->eh_entries = (uint16_t)count;
	root->eh_depth = (uint16_t)depth;
	for (size_t i = 0; i < count; i++) {
		struct ext4_extent_idx *e = (struct ext4_extent_idx *)(root + 1) + i;
		e->ei_block = items[i].lblk;
		e->ei_leaf_lo = (uint32_t)items[i].pblk;
		e->ei_leaf_hi = (uint16_t)(items[i].pblk >> 32);
	}
	free(up);
	free(blk);
}

/* Maps nblocks more blocks after the mapped ones without writing them. */
void file_reserve(struct mkfs *fs, struct node *n, uint64_t nblocks)
{
	while (nblocks) {
		uint64_t got, want = nblocks < EXT4_EXT_MAX_LEN ? nblocks : EXT4_EXT_MAX_LEN;
		uint64_t pblk = alloc_run(fs, want, &got);
		extent_add(n, n->mapped_end, pblk, got);
		n->blocks += got;
		n->mapped_end += got;
		nblocks -= got;
	}
}
