/* ext4.h: the ext4 on-disk structures mkext4 writes, as in the kernel's
 * Documentation/filesystems/ext4/ (section named above each one).
 * Little-endian host only: the structures are written as they lie. */
#ifndef MKEXT4_EXT4_H
#define MKEXT4_EXT4_H

#include <stdint.h>
#include <stddef.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mkext4 writes its structures as they lie in memory: little-endian hosts only"
#endif

#define EXT4_SUPER_MAGIC 0xEF53
#define EXT4_MIN_BLOCK_SIZE 1024
#define EXT4_INODE_SIZE 256
#define EXT4_EXTRA_ISIZE 32
#define EXT4_DESC_SIZE 64
#define EXT4_FIRST_INO 11
#define EXT4_ROOT_INO 2
#define EXT4_JOURNAL_INO 8
#define EXT4_LPF_INO 11
#define EXT4_NAME_LEN 255
#define EXT4_LOG_GROUPS_PER_FLEX 4

#define COMPAT_HAS_JOURNAL 0x0004
#define COMPAT_EXT_ATTR 0x0008
#define COMPAT_DIR_INDEX 0x0020
#define INCOMPAT_FILETYPE 0x0002
#define INCOMPAT_EXTENTS 0x0040
#define INCOMPAT_64BIT 0x0080
#define INCOMPAT_FLEX_BG 0x0200
#define RO_COMPAT_SPARSE_SUPER 0x0001
#define RO_COMPAT_LARGE_FILE 0x0002
#define RO_COMPAT_HUGE_FILE 0x0008
#define RO_COMPAT_DIR_NLINK 0x0020
#define RO_COMPAT_EXTRA_ISIZE 0x0040
#define RO_COMPAT_METADATA_CSUM 0x0400
#define RO_COMPAT_READONLY 0x1000

#define EXT4_FLAGS_UNSIGNED_HASH 0x0002
#define EXT4_DEFM_XATTR_USER 0x0004
#define EXT4_DEFM_ACL 0x0008
#define EXT4_CRC32C_CHKSUM 1
#define EXT4_HASH_HALF_MD4 1

/* Super Block */
struct ext4_super {
	uint32_t s_inodes_count;
	uint32_t s_blocks_count_lo;
	uint32_t s_r_blocks_count_lo;
	uint32_t s_free_blocks_count_lo;
	uint32_t s_free_inodes_count;
	uint32_t s_first_data_block;
	uint32_t s_log_block_size;
	uint32_t s_log_cluster_size;
	uint32_t s_blocks_per_group;
	uint32_t s_clusters_per_group;
	uint32_t s_inodes_per_group;
	uint32_t s_mtime;
	uint32_t s_wtime;
	uint16_t s_mnt_count;
	int16_t s_max_mnt_count;
	uint16_t s_magic;
	uint16_t s_state;
	uint16_t s_errors;
	uint16_t s_minor_rev_level;
	uint32_t s_lastcheck;
	uint32_t s_checkinterval;
	uint32_t s_creator_os;
	uint32_t s_rev_level;
	uint16_t s_def_resuid;
	uint16_t s_def_resgid;
	uint32_t s_first_ino;
	uint16_t s_inode_size;
	uint16_t s_block_group_nr;
	uint32_t s_feature_compat;
	uint32_t s_feature_incompat;
	uint32_t s_feature_ro_compat;
	uint8_t s_uuid[16];
	char s_volume_name[16];
	char s_last_mounted[64];
	uint32_t s_algorithm_usage_bitmap;
	uint8_t s_prealloc_blocks;
	uint8_t s_prealloc_dir_blocks;
	uint16_t s_reserved_gdt_blocks;
	uint8_t s_journal_uuid[16];
	uint32_t s_journal_inum;
	uint32_t s_journal_dev;
	uint32_t s_last_orphan;
	uint32_t s_hash_seed[4];
	uint8_t s_def_hash_version;
	uint8_t s_jnl_backup_type;
	uint16_t s_desc_size;
	uint32_t s_default_mount_opts;
	uint32_t s_first_meta_bg;
	uint32_t s_mkfs_time;
	uint32_t s_jnl_blocks[17];
	uint32_t s_blocks_count_hi;
	uint32_t s_r_blocks_count_hi;
	uint32_t s_free_blocks_count_hi;
	uint16_t s_min_extra_isize;
	uint16_t s_want_extra_isize;
	uint32_t s_flags;
	uint16_t s_raid_stride;
	uint16_t s_mmp_interval;
	uint64_t s_mmp_block;
	uint32_t s_raid_stripe_width;
	uint8_t s_log_groups_per_flex;
	uint8_t s_checksum_type;
	uint8_t s_encryption_level;
	uint8_t s_reserved_pad;
	uint64_t s_kbytes_written;
	uint8_t s_rest[0x3FC - 0x180];	/* snapshots, error log, quota: unused */
	uint32_t s_checksum;
};
_Static_assert(sizeof(struct ext4_super) == 1024, "superblock size");
_Static_assert(offsetof(struct ext4_super, s_hash_seed) == 0xEC, "s_hash_seed");
_Static_assert(offsetof(struct ext4_super, s_jnl_blocks) == 0x10C, "s_jnl_blocks");
_Static_assert(offsetof(struct ext4_super, s_log_groups_per_flex) == 0x174, "flex");

/* Block Group Descriptors (64-byte form) */
struct ext4_group_desc {
	uint32_t bg_block_bitmap_lo;
	uint32_t bg_inode_bitmap_lo;
	uint32_t bg_inode_table_lo;
	uint16_t bg_free_blocks_count_lo;
	uint16_t bg_free_inodes_count_lo;
	uint16_t bg_used_dirs_count_lo;
	uint16_t bg_flags;
	uint32_t bg_exclude_bitmap_lo;
	uint16_t bg_block_bitmap_csum_lo;
	uint16_t bg_inode_bitmap_csum_lo;
	uint16_t bg_itable_unused_lo;
	uint16_t bg_checksum;
	uint32_t bg_block_bitmap_hi;
	uint32_t bg_inode_bitmap_hi;
	uint32_t bg_inode_table_hi;
	uint16_t bg_free_blocks_count_hi;
	uint16_t bg_free_inodes_count_hi;
	uint16_t bg_used_dirs_count_hi;
	uint16_t bg_itable_unused_hi;
	uint32_t bg_exclude_bitmap_hi;
	uint16_t bg_block_bitmap_csum_hi;
	uint16_t bg_inode_bitmap_csum_hi;
	uint32_t bg_reserved;
};
_Static_assert(sizeof(struct ext4_group_desc) == EXT4_DESC_SIZE, "desc size");

#define EXT4_BG_INODE_UNINIT 0x0001
#define EXT4_BG_INODE_ZEROED 0x0004

/* Inode Table (256-byte inodes, 32 bytes of extra fields) */
struct ext4_inode {
	uint16_t i_mode;
	uint16_t i_uid;
	uint32_t i_size_lo;
	uint32_t i_atime;
	uint32_t i_ctime;
	uint32_t i_mtime;
	uint32_t i_dtime;
	uint16_t i_gid;
	uint16_t i_links_count;
	uint32_t i_blocks_lo;
	uint32_t i_flags;
	uint32_t i_version;
	uint32_t i_block[15];
	uint32_t i_generation;
	uint32_t i_file_acl_lo;
	uint32_t i_size_high;
	uint32_t i_obso_faddr;
	uint16_t i_blocks_high;
	uint16_t i_file_acl_high;
	uint16_t i_uid_high;
	uint16_t i_gid_high;
	uint16_t i_checksum_lo;
	uint16_t i_reserved;
	uint16_t i_extra_isize;
	uint16_t i_checksum_hi;
	uint32_t i_ctime_extra;
	uint32_t i_mtime_extra;
	uint32_t i_atime_extra;
	uint32_t i_crtime;
	uint32_t i_crtime_extra;
	uint32_t i_version_hi;
	uint32_t i_projid;
	uint8_t i_xattr[EXT4_INODE_SIZE - 160];	/* in-inode extended attributes */
};
_Static_assert(sizeof(struct ext4_inode) == EXT4_INODE_SIZE, "inode size");
_Static_assert(offsetof(struct ext4_inode, i_extra_isize) == 128, "extra");

#define EXT4_INDEX_FL 0x00001000
#define EXT4_EXTENTS_FL 0x00080000

/* The Contents of inode.i_block: extent tree */
#define EXT4_EXT_MAGIC 0xF30A
#define EXT4_EXT_MAX_LEN 32768
struct ext4_extent_header {
	uint16_t eh_magic;
	uint16_t eh_entries;
	uint16_t eh_max;
	uint16_t eh_depth;
	uint32_t eh_generation;
};
struct ext4_extent {
	uint32_t ee_block;
	uint16_t ee_len;
	uint16_t ee_start_hi;
	uint32_t ee_start_lo;
};
struct ext4_extent_idx {
	uint32_t ei_block;
	uint32_t ei_leaf_lo;
	uint16_t ei_leaf_hi;
	uint16_t ei_unused;
};

/* Directory Entries (ext4_dir_entry_2) and the checksum tail */
struct ext4_dirent {
	uint32_t inode;
	uint16_t rec_len;
	uint8_t name_len;
	uint8_t file_type;
	char name[];
};
struct ext4_dirent_tail {
	uint32_t det_reserved_zero1;
	uint16_t det_rec_len;
	uint8_t det_reserved_zero2;
	uint8_t det_reserved_ft;
	uint32_t det_checksum;
};
#define EXT4_DIRENT_TAIL_FT 0xDE
#define EXT4_DIRENT_LEN(namelen) ((8 + (namelen) + 3) & ~3u)

enum { FT_UNKNOWN, FT_REG, FT_DIR, FT_CHR, FT_BLK, FT_FIFO, FT_SOCK, FT_SYMLINK };

/* Hash Tree Directories */
struct dx_root_info {
	uint32_t reserved_zero;
	uint8_t hash_version;
	uint8_t info_length;
	uint8_t indirect_levels;
	uint8_t unused_flags;
};
struct dx_entry {
	uint32_t hash;
	uint32_t block;
};
struct dx_tail {
	uint32_t dt_reserved;
	uint32_t dt_checksum;
};

/* Extended Attributes */
#define EXT4_XATTR_MAGIC 0xEA020000
struct ext4_xattr_header {
	uint32_t h_magic;
	uint32_t h_refcount;
	uint32_t h_blocks;
	uint32_t h_hash;
	uint32_t h_checksum;
	uint32_t h_reserved[3];
};
struct ext4_xattr_entry {
	uint8_t e_name_len;
	uint8_t e_name_index;
	uint16_t e_value_offs;
	uint32_t e_value_inum;
	uint32_t e_value_size;
	uint32_t e_hash;
	char e_name[];
};
#define EXT4_XATTR_ENTRY_LEN(namelen) ((16 + (namelen) + 3) & ~3u)
#define EXT4_XATTR_PAD(n) (((n) + 3) & ~3u)

#endif
