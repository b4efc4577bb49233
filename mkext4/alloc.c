/* alloc.c: block groups and the block allocator. Blocks are handed out
 * in order from a cursor; the cursor steps over the superblock and GDT
 * copies that sparse_super keeps in groups 0, 1 and powers of 3, 5, 7. */
#include "mkext4.h"
#include "ext4.h"

#include "err.h"
#include "xalloc.h"

static int is_power_of(uint64_t g, uint64_t b)
{
	while (g % b == 0)
		g /= b;
	return g == 1;
}

int group_has_super(uint64_t g)
{
	return g <= 1 || is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}

static uint64_t next_power(uint64_t g, uint64_t b)
{
	uint64_t p = 1;
	while (p <= g)
		p *= b;
	return p;
}

/* The first group after g that holds a superblock copy. */
static uint64_t next_super_group(uint64_t g)
{
	uint64_t n = g < 1 ? 1 : next_power(g, 3);
	uint64_t n5 = next_power(g, 5), n7 = next_power(g, 7);
	if (n5 < n)
		n = n5;
	if (n7 < n)
		n = n7;
	return n;
}

uint64_t groups_of(const struct layout *l, uint64_t blocks)
{
	return (blocks - l->first + l->bpg - 1) / l->bpg;
}

uint32_t gdt_blocks_of(const struct layout *l, uint64_t groups)
{
	uint64_t per = l->bs / EXT4_DESC_SIZE;
	return (uint32_t)((groups + per - 1) / per);
}

void layout_init(struct mkfs *fs, uint64_t blocks, uint32_t gdt_reserve)
{
	struct layout *l = &fs->l;

	l->bs = fs->o.bs;
	l->log = 0;
	while ((1024u << l->log) < l->bs)
		l->log++;
	l->bpg = l->bs * 8;
	l->first = l->bs == 1024;
	l->blocks = blocks;
	l->gdt_reserve = gdt_reserve;
	l->cursor = l->first;
}

/* Up to want blocks in one run at the cursor; *got says how many. */
uint64_t alloc_run(struct mkfs *fs, uint64_t want, uint64_t *got)
{
	struct layout *l = &fs->l;

	for (;;) {
		uint64_t g = (l->cursor - l->first) / l->bpg;
		uint64_t gstart = g * l->bpg + l->first;
		uint64_t meta = group_has_super(g) ? 1 + l->gdt_reserve : 0;

		if (l->cursor < gstart + meta) {
			l->cursor = gstart + meta;
			continue;
		}
		uint64_t end = next_super_group(g) * l->bpg + l->first;
		uint64_t n = end - l->cursor;
		if (n > want)
			n = want;
		if (l->cursor + n > l->limit)
			die("%s: no space left in the image%s", fs->what ? fs->what : "metadata",
			    fs->o.size ? " (use a larger -s)" : " (use -s)");
		uint64_t start = l->cursor;
		l->cursor += n;
		*got = n;
		return start;
	}
}

/* n blocks in one run; what is stepped over stays free. */
uint64_t alloc_contig(struct mkfs *fs, uint64_t n)
{
	for (;;) {
		uint64_t got, start = alloc_run(fs, n, &got);
		if (got == n)
			return start;
		alloc_free(fs, start, got);
	}
}

void alloc_free(struct mkfs *fs, uint64_t start, uint64_t len)
{
	struct layout *l = &fs->l;

	if (!len)
		return;
	if (l->nfreed && l->freed[l->nfreed - 1].pblk + l->freed[l->nfreed - 1].len == start) {
		l->freed[l->nfreed - 1].len += len;
		return;
	}
	l->freed = xgrow(l->freed, &l->freedcap, l->nfreed + 1, sizeof *l->freed);
	l->freed[l->nfreed++] = (struct extent){ .pblk = start, .len = (uint32_t)len };
}

#define MIN_LAST_GROUP 64	/* blocks beyond the backup in a last group */

/* A last group too small to hold its own backup is dropped or grown. */
uint64_t layout_fit_blocks(const struct layout *l, uint64_t blocks, int grow)
{
	uint64_t last = groups_of(l, blocks) - 1, gstart = last * l->bpg + l->first;
	uint64_t need = (group_has_super(last) ? 1 + l->gdt_reserve : 0) + MIN_LAST_GROUP;

	if (last && blocks - gstart < need)
		return grow ? gstart + need : gstart;
	return blocks;
}
