/* xattr.c: extended attributes, in the inode body while they fit and in
 * one attribute block beyond. POSIX ACLs are converted from the xattr
 * form that tar and getxattr use to ext4's compact on-disk form. */
#include "mkext4.h"
#include "ext4.h"
#include "crc32c.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

#define ACL_XATTR_VERSION 2	/* posix_acl_xattr_header */
#define ACL_EXT4_VERSION 1	/* ext4_acl_header */
#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20

static const struct {
	const char *prefix;
	uint8_t index;
	int whole;	/* the prefix is the whole name */
} prefixes[] = {
	{ "user.", 1, 0 },
	{ "system.posix_acl_access", 2, 1 },
	{ "system.posix_acl_default", 3, 1 },
	{ "trusted.", 4, 0 },
	{ "security.", 6, 0 },
	{ "system.richacl", 8, 1 },
	{ "system.", 7, 0 },
};

static int place(struct mkfs *fs, struct node *n);

/* posix_acl_xattr (version 2, 8-byte entries) to ext4_acl (version 1,
 * 4-byte entries but for named users and groups). */
static void *acl_to_disk(struct mkfs *fs, const unsigned char *v, size_t len, size_t *out)
{
	if (len < 4 || (len - 4) % 8)
		die("%s: malformed POSIX ACL", fs->what);
	uint32_t ver;
	memcpy(&ver, v, 4);
	if (ver != ACL_XATTR_VERSION)
		die("%s: POSIX ACL version %u not supported", fs->what, ver);
	unsigned char *d = xmalloc(len), *p = d;
	uint32_t dver = ACL_EXT4_VERSION;
	memcpy(p, &dver, 4);
	p += 4;
	for (size_t i = 4; i < len; i += 8) {
		uint16_t tag;
		memcpy(&tag, v + i, 2);
		switch (tag) {
		case ACL_USER_OBJ: case ACL_GROUP_OBJ: case ACL_MASK: case ACL_OTHER:
			memcpy(p, v + i, 4);
			p += 4;
			break;
		case ACL_USER: case ACL_GROUP:
			memcpy(p, v + i, 8);
			p += 8;
			break;
		default:
			die("%s: POSIX ACL entry with tag %u", fs->what, tag);
		}
	}
	*out = (size_t)(p - d);
	return d;
}

void xattr_add(struct mkfs *fs, struct node *n, const char *name, const void *value, size_t vlen)
{
	size_t i;

	for (i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
		size_t pl = strlen(prefixes[i].prefix);
		if (prefixes[i].whole ? !strcmp(name, prefixes[i].prefix) : !strncmp(name, prefixes[i].prefix, pl))
			break;
	}
	if (i == sizeof prefixes / sizeof *prefixes)
		die("%s: xattr %s: unsupported namespace", fs->what, name);
	const char *suffix = name + strlen(prefixes[i].prefix);
	size_t nlen = strlen(suffix);
	if (nlen > 255)
		die("%s: xattr %s: name too long", fs->what, name);
	if (!prefixes[i].whole && !nlen)
		die("%s: xattr %s: empty name", fs->what, name);

	struct xattr x = { .index = prefixes[i].index, .nlen = (uint8_t)nlen, .name = xstrdup(suffix) };
	if (x.index == 2 || x.index == 3) {
		x.value = acl_to_disk(fs, value, vlen, &x.vlen);
	} else {
		x.value = xmalloc(vlen ? vlen : 1);
		memcpy(x.value, value, vlen);
		x.vlen = vlen;
	}
	for (i = 0; i < n->nxattrs; i++) {
		struct xattr *o = &n->xattrs[i];
		if (o->index == x.index && !strcmp(o->name, x.name)) {
			free(o->name);
			free(o->value);
			*o = x;
			place(fs, n);
			return;
		}
	}
	size_t cap = n->nxattrs;
	n->xattrs = xgrow(n->xattrs, &cap, n->nxattrs + 1, sizeof *n->xattrs);
	n->xattrs[n->nxattrs++] = x;
	place(fs, n);	/* refuses, naming the file, what cannot fit */
}

static int xattr_cmp(const void *a, const void *b)
{
	const struct xattr *x = a, *y = b;
	if (x->index != y->index)
		return x->index - y->index;
	if (x->nlen != y->nlen)
		return x->nlen - y->nlen;
	return memcmp(x->name, y->name, x->nlen);
}

/* ext4_xattr_hash_entry */
static uint32_t entry_hash(const struct xattr *x)
{
	uint32_t h = 0;

	for (size_t i = 0; i < x->nlen; i++)
		h = (h << 5) ^ (h >> 27) ^ (unsigned char)x->name[i];
	for (size_t i = 0; i < x->vlen; i += 4) {
		uint32_t w = 0;
		memcpy(&w, (const char *)x->value + i, x->vlen - i < 4 ? x->vlen - i : 4);
		h = (h << 16) ^ (h >> 16) ^ w;
	}
	return h;
}

/* Lays out entries from the start of area and values from its end; the
 * value offsets count from base. Returns 0 when they do not fit. */
static int layout(struct xattr *xs, size_t n, int in_inode, unsigned char *area,
		  size_t room, size_t base, uint32_t *hashes)
{
	size_t e = 0, v = room;

	for (size_t i = 0; i < n; i++) {
		if (xs[i].in_inode != in_inode)
			continue;
		size_t el = EXT4_XATTR_ENTRY_LEN(xs[i].nlen), vl = EXT4_XATTR_PAD(xs[i].vlen);
		if (e + el + 4 + vl > v)
			return 0;
		if (area) {
			struct ext4_xattr_entry *ent = (void *)(area + e);
			ent->e_name_len = xs[i].nlen;
			ent->e_name_index = xs[i].index;
			ent->e_value_size = (uint32_t)xs[i].vlen;
			memcpy(ent->e_name, xs[i].name, xs[i].nlen);
			if (xs[i].vlen) {
				v -= vl;
				memcpy(area + v, xs[i].value, xs[i].vlen);
				ent->e_value_offs = (uint16_t)(v + base);
			}
			ent->e_hash = entry_hash(&xs[i]);
			if (hashes)
				*hashes = (*hashes << 16) ^ (*hashes >> 16) ^ ent->e_hash;
		} else {
			v -= xs[i].vlen ? vl : 0;
		}
		e += el;
	}
	return 1;
}

#define IBODY_ROOM (EXT4_INODE_SIZE - 128 - EXT4_EXTRA_ISIZE - 4)	/* after the magic */

/* Sorts the attributes and puts the first ones in the inode body while
 * they fit; 1 when some go to a block. Dies when the block overflows. */
static int place(struct mkfs *fs, struct node *n)
{
	size_t hl = sizeof(struct ext4_xattr_header);
	int full = 0, any_block = 0;

	qsort(n->xattrs, n->nxattrs, sizeof *n->xattrs, xattr_cmp);
	for (size_t i = 0; i < n->nxattrs; i++) {
		n->xattrs[i].in_inode = !full;
		if (!full && !layout(n->xattrs, i + 1, 1, NULL, IBODY_ROOM, 0, NULL)) {
			n->xattrs[i].in_inode = 0;
			full = 1;
		}
		any_block |= !n->xattrs[i].in_inode;
	}
	if (any_block && !layout(n->xattrs, n->nxattrs, 0, NULL, fs->l.bs - hl, hl, NULL))
		die("%s: extended attributes do not fit in one %u-byte block", fs->what, fs->l.bs);
	return any_block;
}

/* Decides placement and writes the attribute block if one is needed. */
void xattr_write(struct mkfs *fs, struct node *n)
{
	uint32_t bs = fs->l.bs;

	if (!n->nxattrs || !place(fs, n))
		return;

	unsigned char *blk = xcalloc(1, bs);
	struct ext4_xattr_header *h = (void *)blk;
	size_t hl = sizeof *h;
	uint32_t hash = 0;
	layout(n->xattrs, n->nxattrs, 0, blk + hl, bs - hl, hl, &hash);
	h->h_magic = EXT4_XATTR_MAGIC;
	h->h_refcount = 1;
	h->h_blocks = 1;
	h->h_hash = hash;
	n->xattr_block = alloc_contig(fs, 1);
	uint64_t le = n->xattr_block;
	uint32_t c = crc32c(fs->csum_seed, &le, 8);
	h->h_checksum = crc32c(c, blk, bs);
	image_pwrite(fs, n->xattr_block * bs, blk, bs);
	n->blocks++;
	free(blk);
}

void xattr_inode_body(struct mkfs *fs, struct node *n, void *ibody, size_t room)
{
	(void)fs;
	for (size_t i = 0; i < n->nxattrs; i++) {
		if (n->xattrs[i].in_inode) {
			uint32_t magic = EXT4_XATTR_MAGIC;
			memcpy(ibody, &magic, 4);
			layout(n->xattrs, n->nxattrs, 1, (unsigned char *)ibody + 4, room - 4, 0, NULL);
			return;
		}
	}
}
