/* super.c: the end of the run. Once the tree and its data are in place:
 * directories, extent trees and xattr blocks, the journal, then the block
 * groups (sized to fit for -s auto), bitmaps, inode tables, descriptors and
 * the superblock with its backups. With flex_bg the bitmaps and inode
 * tables may sit anywhere, so they go after everything else. */
#include "mkext4.h"
#include "ext4.h"
#include "crc32c.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "xalloc.h"

#define INODE_RATIO 16384	/* bytes per inode for a fixed -s, as mke2fs */
#define AUTO_MIN_EXTRA_INODES 256

struct groups {
	uint64_t count;
	uint32_t ipg, itb;	/* inodes per group, inode table blocks per group */
	uint32_t gdt;
	uint64_t *bb, *ib, *it;
};

static uint64_t headroom_blocks(struct mkfs *fs, uint64_t content)
{
	if (fs->o.headroom_pct)
		return content * fs->o.headroom_pct / 100;
	return (fs->o.headroom + fs->l.bs - 1) / fs->l.bs;
}

static uint32_t ipg_for(struct mkfs *fs, uint64_t inodes, uint64_t groups)
{
	uint32_t ipb = fs->l.bs / EXT4_INODE_SIZE, align = ipb > 8 ? ipb : 8;
	uint64_t ipg = (inodes + groups - 1) / groups;

	ipg = (ipg + align - 1) / align * align;
	return (uint32_t)ipg;
}

static uint32_t max_ipg(struct mkfs *fs)
{
	uint32_t m = fs->l.bs * 8;	/* one bitmap block */
	return m > 65536 - 64 ? 65536 - 64 : m;
}

/* Places bitmaps and inode tables at the cursor. */
static void place_groups(struct mkfs *fs, struct groups *g)
{
	for (uint64_t i = 0; i < g->count; i++)
		g->bb[i] = alloc_contig(fs, 1);
	for (uint64_t i = 0; i < g->count; i++)
		g->ib[i] = alloc_contig(fs, 1);
	for (uint64_t i = 0; i < g->count; i++)
		g->it[i] = alloc_contig(fs, g->itb);
}

static void size_groups(struct mkfs *fs, struct groups *g)
{
	struct layout *l = &fs->l;
	uint64_t used = fs->ninodes, inodes;

	if (!l->blocks) {
		/* -s auto: grow until the metadata and the headroom fit. */
		uint64_t extra = fs->o.extra_inodes_set ? fs->o.extra_inodes
			: used * (fs->o.headroom_pct ? fs->o.headroom_pct : 10) / 100 + AUTO_MIN_EXTRA_INODES;
		uint64_t room = headroom_blocks(fs, l->cursor);
		uint64_t t = l->cursor + room;
		struct layout saved = *l;

		inodes = used + extra;
		for (;;) {
			uint64_t groups = groups_of(l, t);
			uint64_t gmin = (inodes + max_ipg(fs) - 1) / max_ipg(fs);
			if (groups < gmin) {
				t = gmin * l->bpg + l->first;
				groups = gmin;
			}
			t = layout_fit_blocks(l, t, 1);
			groups = groups_of(l, t);
			g->count = groups;
			g->ipg = ipg_for(fs, inodes, groups);
			g->itb = g->ipg * EXT4_INODE_SIZE / l->bs;
			g->bb = xrealloc(g->bb, groups * sizeof *g->bb);
			g->ib = xrealloc(g->ib, groups * sizeof *g->ib);
			g->it = xrealloc(g->it, groups * sizeof *g->it);
			place_groups(fs, g);
			uint64_t want = l->cursor + room;
			l->cursor = saved.cursor;
			l->nfreed = saved.nfreed;
			if (want <= t)
				break;
			t = want;
		}
		l->blocks = t;
	} else {
		uint64_t groups = groups_of(l, l->blocks);
		inodes = l->blocks * l->bs / INODE_RATIO;
		uint64_t want = used + (fs->o.extra_inodes_set ? fs->o.extra_inodes : 0);
		if (inodes < want)
			inodes = want;
		g->count = groups;
		g->ipg = ipg_for(fs, inodes, groups);
		if (g->ipg > max_ipg(fs)) {
			if ((uint64_t)max_ipg(fs) * groups < want)
				die("%s: no space for %llu inodes (use a larger -s)", fs->img.path,
				    (unsigned long long)want);
			g->ipg = max_ipg(fs);
		}
		g->itb = g->ipg * EXT4_INODE_SIZE / l->bs;
		g->bb = xcalloc(groups, sizeof *g->bb);
		g->ib = xcalloc(groups, sizeof *g->ib);
		g->it = xcalloc(groups, sizeof *g->it);
	}
	if ((uint64_t)g->ipg * g->count > UINT32_MAX)
		die("%s: too many inodes for ext4", fs->img.path);
	g->gdt = gdt_blocks_of(l, g->count);
	if (g->gdt > l->gdt_reserve)
		die("%s: image too large for -s auto (use -s)", fs->img.path);
	l->limit = l->blocks;
	fs->what = "block group metadata";
	place_groups(fs, g);
}

static int ext_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	return x->pblk < y->pblk ? -1 : x->pblk > y->pblk;
}

static void bit_range(unsigned char *bm, uint64_t from, uint64_t to, int set)
{
	for (uint64_t i = from; i < to; i++) {
		if (set)
			bm[i >> 3] |= (unsigned char)(1u << (i & 7));
		else
			bm[i >> 3] &= (unsigned char)~(1u << (i & 7));
	}
}

static void write_inodes(struct mkfs *fs, struct groups *g, struct ext4_group_desc *gd)
{
	uint32_t bs = fs->l.bs;
	unsigned char *buf = xmalloc((size_t)g->itb * bs);
	unsigned char *bm = xmalloc(bs);
	struct node empty = { 0 };

	for (uint64_t i = 0; i < g->count; i++) {
		uint64_t first = i * g->ipg + 1;
		uint32_t used = 0, dirs = 0;
		if (first <= fs->ninodes)
			used = (uint32_t)(fs->ninodes - first + 1 < g->ipg ? fs->ninodes - first + 1 : g->ipg);
		for (uint32_t k = 0; k < used; k++) {
			uint32_t ino = (uint32_t)(first + k);
			struct node *n = ino == EXT4_JOURNAL_INO ? fs->journal : fs->byino[ino];
			if (!n) {
				empty.ino = ino;
				n = &empty;
			}
			inode_encode(fs, n, buf + (size_t)k * EXT4_INODE_SIZE);
			dirs += S_ISDIR(n->mode) && n->ino == ino;
		}
		size_t bytes = ((size_t)used * EXT4_INODE_SIZE + bs - 1) / bs * bs;
		memset(buf + (size_t)used * EXT4_INODE_SIZE, 0, bytes - (size_t)used * EXT4_INODE_SIZE);
		if (bytes)
			image_pwrite(fs, g->it[i] * bs, buf, bytes);

		memset(bm, 0, bs);
		bit_range(bm, 0, used, 1);
		bit_range(bm, g->ipg, (uint64_t)bs * 8, 1);
		if (used)
			image_pwrite(fs, g->ib[i] * bs, bm, bs);
		else
			image_pwrite(fs, g->ib[i] * bs, bm, bs);
		uint32_t c = crc32c(fs->csum_seed, bm, g->ipg / 8);
		gd[i].bg_inode_bitmap_csum_lo = (uint16_t)c;
		gd[i].bg_inode_bitmap_csum_hi = (uint16_t)(c >> 16);
		gd[i].bg_free_inodes_count_lo = (uint16_t)(g->ipg - used);
		gd[i].bg_free_inodes_count_hi = (uint16_t)((g->ipg - used) >> 16);
		gd[i].bg_itable_unused_lo = (uint16_t)(g->ipg - used);
		gd[i].bg_itable_unused_hi = (uint16_t)((g->ipg - used) >> 16);
		gd[i].bg_used_dirs_count_lo = (uint16_t)dirs;
		gd[i].bg_used_dirs_count_hi = (uint16_t)(dirs >> 16);
		gd[i].bg_flags = EXT4_BG_INODE_ZEROED | (used ? 0 : EXT4_BG_INODE_UNINIT);
	}
	free(buf);
	free(bm);
}

/* Block bitmaps: everything below the cursor is in use but for the runs
 * freed on the way; backups are in use wherever they are. */
static uint64_t write_block_bitmaps(struct mkfs *fs, struct groups *g, struct ext4_group_desc *gd)
{
	struct layout *l = &fs->l;
	uint32_t bs = l->bs;
	unsigned char *bm = xmalloc(bs);
	uint64_t total_free = 0;
	size_t f = 0;

	if (l->nfreed)
		qsort(l->freed, l->nfreed, sizeof *l->freed, ext_cmp);
	for (uint64_t i = 0; i < g->count; i++) {
		uint64_t gstart = i * l->bpg + l->first, gend = gstart + l->bpg;
		if (gend > l->blocks)
			gend = l->blocks;
		memset(bm, 0, bs);
		if (group_has_super(i))
			bit_range(bm, 0, 1 + g->gdt, 1);
		if (l->cursor > gstart)
			bit_range(bm, 0, (l->cursor < gend ? l->cursor : gend) - gstart, 1);
		while (f < l->nfreed && l->freed[f].pblk + l->freed[f].len <= gstart)
			f++;
		for (size_t k = f; k < l->nfreed && l->freed[k].pblk < gend; k++) {
			uint64_t a = l->freed[k].pblk, b = a + l->freed[k].len;
			bit_range(bm, (a > gstart ? a : gstart) - gstart, (b < gend ? b : gend) - gstart, 0);
		}
		uint32_t nfree = 0;
		for (uint64_t b = 0; b < gend - gstart; b++)
			nfree += !(bm[b >> 3] & (1u << (b & 7)));
		bit_range(bm, gend - gstart, l->bpg, 1);
		image_pwrite(fs, g->bb[i] * bs, bm, bs);
		uint32_t c = crc32c(fs->csum_seed, bm, l->bpg / 8);
		gd[i].bg_block_bitmap_csum_lo = (uint16_t)c;
		gd[i].bg_block_bitmap_csum_hi = (uint16_t)(c >> 16);
		gd[i].bg_free_blocks_count_lo = (uint16_t)nfree;
		gd[i].bg_free_blocks_count_hi = (uint16_t)(nfree >> 16);
		total_free += nfree;
	}
	free(bm);
	return total_free;
}

static void write_super(struct mkfs *fs, struct groups *g, struct ext4_group_desc *gd,
			uint64_t free_blocks)
{
	struct layout *l = &fs->l;
	struct ext4_super sb = { 0 };
	uint32_t t = (uint32_t)(fs->o.epoch >= 0 ? fs->o.epoch : fs->o.now);

	sb.s_inodes_count = (uint32_t)(g->ipg * g->count);
	sb.s_blocks_count_lo = (uint32_t)l->blocks;
	sb.s_blocks_count_hi = (uint32_t)(l->blocks >> 32);
	sb.s_free_blocks_count_lo = (uint32_t)free_blocks;
	sb.s_free_blocks_count_hi = (uint32_t)(free_blocks >> 32);
	sb.s_free_inodes_count = sb.s_inodes_count - fs->ninodes;
	sb.s_first_data_block = l->first;
	sb.s_log_block_size = l->log;
	sb.s_log_cluster_size = l->log;
	sb.s_blocks_per_group = l->bpg;
	sb.s_clusters_per_group = l->bpg;
	sb.s_inodes_per_group = g->ipg;
	sb.s_wtime = sb.s_lastcheck = sb.s_mkfs_time = t;
	sb.s_max_mnt_count = -1;
	sb.s_magic = EXT4_SUPER_MAGIC;
	sb.s_state = 1;		/* cleanly unmounted */
	sb.s_errors = 1;	/* continue */
	sb.s_rev_level = 1;
	sb.s_first_ino = EXT4_FIRST_INO;
	sb.s_inode_size = EXT4_INODE_SIZE;
	sb.s_feature_compat = COMPAT_EXT_ATTR | COMPAT_DIR_INDEX |
			      (fs->journal ? COMPAT_HAS_JOURNAL : 0);
	sb.s_feature_incompat = INCOMPAT_FILETYPE | INCOMPAT_EXTENTS | INCOMPAT_64BIT |
				INCOMPAT_FLEX_BG;
	sb.s_feature_ro_compat = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE |
				 RO_COMPAT_HUGE_FILE | RO_COMPAT_DIR_NLINK |
				 RO_COMPAT_EXTRA_ISIZE | RO_COMPAT_METADATA_CSUM |
				 (fs->o.readonly ? RO_COMPAT_READONLY : 0);
	memcpy(sb.s_uuid, fs->o.uuid, 16);
	memcpy(sb.s_volume_name, fs->o.label, sizeof sb.s_volume_name);
	memcpy(sb.s_hash_seed, fs->hash_seed, sizeof sb.s_hash_seed);
	sb.s_def_hash_version = EXT4_HASH_HALF_MD4;
	sb.s_desc_size = EXT4_DESC_SIZE;
	sb.s_default_mount_opts = EXT4_DEFM_XATTR_USER | EXT4_DEFM_ACL;
	if (fs->journal) {
		sb.s_journal_inum = EXT4_JOURNAL_INO;
		sb.s_jnl_backup_type = 1;	/* EXT3_JNL_BACKUP_BLOCKS */
		memcpy(sb.s_jnl_blocks, fs->journal->i_block, 60);
		sb.s_jnl_blocks[15] = (uint32_t)(fs->journal->size >> 32);
		sb.s_jnl_blocks[16] = (uint32_t)fs->journal->size;
	}
	sb.s_min_extra_isize = sb.s_want_extra_isize = EXT4_EXTRA_ISIZE;
	sb.s_flags = EXT4_FLAGS_UNSIGNED_HASH;
	sb.s_log_groups_per_flex = EXT4_LOG_GROUPS_PER_FLEX;
	sb.s_checksum_type = EXT4_CRC32C_CHKSUM;

	size_t gdt_bytes = (size_t)g->gdt * l->bs;
	unsigned char *gdt = xcalloc(1, gdt_bytes);
	memcpy(gdt, gd, g->count * sizeof *gd);
	for (uint64_t i = 0; i < g->count; i++) {
		if (!group_has_super(i))
			continue;
		uint64_t gstart = i * l->bpg + l->first;
		sb.s_block_group_nr = (uint16_t)i;
		sb.s_checksum = crc32c(~0u, &sb, offsetof(struct ext4_super, s_checksum));
		image_pwrite(fs, i ? gstart * l->bs : 1024, &sb, sizeof sb);
		image_pwrite(fs, (gstart + 1) * l->bs, gdt, gdt_bytes);
	}
	free(gdt);
}

void fs_finish(struct mkfs *fs)
{
	struct groups g = { 0 };

	tree_number(fs);
	fs->what = "directories";
	for (uint32_t ino = EXT4_ROOT_INO; ino <= fs->ninodes; ino++) {
		struct node *n = fs->byino[ino];
		if (n && S_ISDIR(n->mode))
			dir_write(fs, n);
	}
	fs->what = "extent trees and xattrs";
	for (uint32_t ino = EXT4_ROOT_INO; ino <= fs->ninodes; ino++) {
		struct node *n = fs->byino[ino];
		if (!n)
			continue;
		if (S_ISREG(n->mode) || S_ISDIR(n->mode) || (S_ISLNK(n->mode) && n->next))
			extent_tree_write(fs, n);
		xattr_write(fs, n);
	}
	if (fs->o.journal) {
		uint64_t est = fs->l.blocks ? fs->l.blocks
			: fs->l.cursor + headroom_blocks(fs, fs->l.cursor);
		uint64_t jb = journal_default_blocks(est);
		if (jb) {
			journal_create(fs, jb);
			extent_tree_write(fs, fs->journal);
		}
	}

	size_groups(fs, &g);

	/* The GDT copies in groups passed by the cursor kept room for
	 * gdt_reserve blocks; what the final count leaves over is free. */
	for (uint64_t i = 0; i < g.count; i++) {
		uint64_t gstart = i * fs->l.bpg + fs->l.first;
		if (group_has_super(i) && fs->l.cursor > gstart)
			alloc_free(fs, gstart + 1 + g.gdt, fs->l.gdt_reserve - g.gdt);
	}

	struct ext4_group_desc *gd = xcalloc(g.count, sizeof *gd);
	write_inodes(fs, &g, gd);
	uint64_t free_blocks = write_block_bitmaps(fs, &g, gd);
	for (uint64_t i = 0; i < g.count; i++) {
		gd[i].bg_block_bitmap_lo = (uint32_t)g.bb[i];
		gd[i].bg_block_bitmap_hi = (uint32_t)(g.bb[i] >> 32);
		gd[i].bg_inode_bitmap_lo = (uint32_t)g.ib[i];
		gd[i].bg_inode_bitmap_hi = (uint32_t)(g.ib[i] >> 32);
		gd[i].bg_inode_table_lo = (uint32_t)g.it[i];
		gd[i].bg_inode_table_hi = (uint32_t)(g.it[i] >> 32);
		uint32_t le = (uint32_t)i;
		uint32_t c = crc32c(fs->csum_seed, &le, 4);
		gd[i].bg_checksum = (uint16_t)crc32c(c, &gd[i], sizeof gd[i]);
	}
	write_super(fs, &g, gd, free_blocks);
	image_commit(fs, fs->l.blocks * fs->l.bs);
	free(gd);
	free(g.bb);
	free(g.ib);
	free(g.it);
	free(fs->l.freed);
}
