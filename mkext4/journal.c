/* journal.c: an empty jbd2 journal in inode 8, sized as mke2fs sizes it. */
#include "mkext4.h"
#include "ext4.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xalloc.h"

#define JBD2_MAGIC 0xC03B3998u
#define JBD2_SUPERBLOCK_V2 4

/* Journal Superblock (big-endian on disk) */
struct jbd2_super {
	uint32_t h_magic, h_blocktype, h_sequence;
	uint32_t s_blocksize, s_maxlen, s_first;
	uint32_t s_sequence, s_start, s_errno;
	uint32_t s_feature_compat, s_feature_incompat, s_feature_ro_compat;
	uint8_t s_uuid[16];
	uint32_t s_nr_users, s_dynsuper, s_max_transaction, s_max_trans_data;
	uint8_t s_rest[1024 - 0x50];
};
_Static_assert(sizeof(struct jbd2_super) == 1024, "jbd2 superblock");

/* ext2fs_default_journal_size: blocks of journal for a filesystem size. */
uint64_t journal_default_blocks(uint64_t b)
{
	if (b < 2048)
		return 0;
	if (b < 32768)
		return 1024;
	if (b < 256 * 1024)
		return 4096;
	if (b < 512 * 1024)
		return 8192;
	if (b < 4096 * 1024)
		return 16384;
	if (b < 8192 * 1024)
		return 32768;
	if (b < 16384 * 1024)
		return 65536;
	if (b < 32768 * 1024)
		return 131072;
	return 262144;
}

void journal_create(struct mkfs *fs, uint64_t jblocks)
{
	uint32_t bs = fs->l.bs;
	struct node *j = node_new(fs, S_IFREG | 0600);
	unsigned char *blk = xcalloc(1, bs);
	struct jbd2_super *js = (void *)blk;

	node_times(fs, j, fs->o.epoch >= 0 ? fs->o.epoch : fs->o.now, 0);
	j->ino = EXT4_JOURNAL_INO;
	j->nlink = 1;
	js->h_magic = htobe32(JBD2_MAGIC);
	js->h_blocktype = htobe32(JBD2_SUPERBLOCK_V2);
	js->s_blocksize = htobe32(bs);
	js->s_maxlen = htobe32((uint32_t)jblocks);
	js->s_first = htobe32(1);
	js->s_sequence = htobe32(1);
	js->s_nr_users = htobe32(1);
	memcpy(js->s_uuid, fs->o.uuid, 16);
	fs->what = "journal";
	file_write(fs, j, 0, blk, bs);
	file_reserve(fs, j, jblocks - 1);
	j->size = jblocks * bs;
	fs->journal = j;
	free(blk);
}
