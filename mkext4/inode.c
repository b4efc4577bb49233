/* inode.c: one in-memory node into one 256-byte on-disk inode. */
#include "mkext4.h"
#include "ext4.h"
#include "crc32c.h"

#include <string.h>
#include <sys/stat.h>

uint32_t inode_csum_seed(struct mkfs *fs, uint32_t ino)
{
	uint32_t gen = 0;
	uint32_t c = crc32c(fs->csum_seed, &ino, 4);
	return crc32c(c, &gen, 4);
}

/* Seconds in 32 bits, the two epoch bits and nanoseconds in *extra. */
static uint32_t enc_time(int64_t sec, uint32_t nsec, uint32_t *extra)
{
	*extra = (uint32_t)(((sec - (int32_t)sec) >> 32) & 3) | nsec << 2;
	return (uint32_t)sec;
}

void inode_encode(struct mkfs *fs, struct node *n, void *raw)
{
	struct ext4_inode *in = raw;
	uint64_t sectors = n->blocks * (fs->l.bs / 512);

	memset(in, 0, sizeof *in);
	in->i_mode = (uint16_t)n->mode;
	in->i_uid = (uint16_t)n->uid;
	in->i_uid_high = (uint16_t)(n->uid >> 16);
	in->i_gid = (uint16_t)n->gid;
	in->i_gid_high = (uint16_t)(n->gid >> 16);
	in->i_size_lo = (uint32_t)n->size;
	in->i_size_high = (uint32_t)(n->size >> 32);
	in->i_atime = enc_time(n->atime, n->atime_ns, &in->i_atime_extra);
	in->i_ctime = enc_time(n->ctime, n->ctime_ns, &in->i_ctime_extra);
	in->i_mtime = enc_time(n->mtime, n->mtime_ns, &in->i_mtime_extra);
	in->i_crtime = enc_time(n->crtime, n->crtime_ns, &in->i_crtime_extra);
	in->i_links_count = (uint16_t)n->nlink;
	in->i_blocks_lo = (uint32_t)sectors;
	in->i_blocks_high = (uint16_t)(sectors >> 32);
	in->i_flags = n->flags;
	memcpy(in->i_block, n->i_block, sizeof in->i_block);
	in->i_file_acl_lo = (uint32_t)n->xattr_block;
	in->i_file_acl_high = (uint16_t)(n->xattr_block >> 32);
	in->i_extra_isize = EXT4_EXTRA_ISIZE;
	xattr_inode_body(fs, n, in->i_xattr, sizeof in->i_xattr);

	uint32_t c = crc32c(inode_csum_seed(fs, n->ino), in, sizeof *in);
	in->i_checksum_lo = (uint16_t)c;
	in->i_checksum_hi = (uint16_t)(c >> 16);
}
