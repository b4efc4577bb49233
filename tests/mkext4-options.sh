#!/bin/sh
# Options: -s auto with headroom keeps the host file sparse, -s SIZE, -b,
# -L, -N, -J, --readonly, --uuid with SOURCE_DATE_EPOCH for identical
# output, root ownership from the tar's ./ entry, --help and --version.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need e2fsck 'judges the image'
need dumpe2fs 'reads the superblock'
need bsdtar 'writes the tar stream'

s=$T/src
mkdir -p "$s/etc"
head -c 3000000 /dev/urandom > "$s/data"
echo root:x:0:0 > "$s/etc/passwd"
(cd "$s" && bsdtar --format=pax --uid 1234 --gid 5678 -cf "$T/src.tar" .)
sb() { dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^$2: *//p"; }

ok '-s auto' mkext4 -o "$T/a.img" -s auto "$s"
ok 'e2fsck finds nothing (auto)' fsck_clean "$T/a.img"
size=$(stat -c %s "$T/a.img"); disk=$(($(stat -c %b "$T/a.img") * 512))
ok "auto image is small ($size bytes) and sparse ($disk on disk)" test "$size" -lt 16000000 -a "$disk" -lt "$size"
free=$(sb "$T/a.img" 'Free blocks')
ok "default headroom leaves free blocks ($free)" test "$free" -ge 73
ok '--headroom 64M' mkext4 -o "$T/h.img" --headroom 64M "$s"
free=$(sb "$T/h.img" 'Free blocks')
ok "64 MiB of headroom ($free free blocks)" test "$free" -ge 16384
ok 'e2fsck finds nothing (headroom)' fsck_clean "$T/h.img"

ok '-s 64M -b 1024 -L -N -J --readonly' mkext4 -o "$T/f.img" -s 64M -b 1024 -L rootfs -N 5000 -J --readonly "$s"
ok 'e2fsck finds nothing (options)' fsck_clean "$T/f.img"
is "$(stat -c %s "$T/f.img")" 67108864 'exactly 64 MiB'
is "$(sb "$T/f.img" 'Block size')" 1024 '1 KiB blocks'
is "$(sb "$T/f.img" 'Filesystem volume name')" rootfs 'label'
like "$(sb "$T/f.img" 'Filesystem features')" 'has_journal ext_attr dir_index filetype extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum read-only' 'features'
is "$(sb "$T/f.img" 'Total journal size')" 4096k 'a journal sized as mke2fs sizes it'
ok '-N leaves 5000 free inodes' test "$(sb "$T/f.img" 'Free inodes')" -ge 5000
ok '-N 100000 in auto mode' mkext4 -o "$T/n.img" -N 100000 "$s"
ok "100000 free inodes ($(sb "$T/n.img" 'Free inodes'))" test "$(sb "$T/n.img" 'Free inodes')" -ge 100000
ok 'e2fsck finds nothing (-N)' fsck_clean "$T/n.img"
ok '-J with 4 KiB blocks' mkext4 -o "$T/j.img" -J -s 2G "$s"
ok 'e2fsck finds nothing (journal)' fsck_clean "$T/j.img"
is "$(sb "$T/j.img" 'Total journal size')" 64M 'journal of a 2 GiB image'

u=0b1f4a6e-5b3c-4d2e-9f80-112233445566
SOURCE_DATE_EPOCH=1700000000 mkext4 -o "$T/r1.img" --uuid $u < "$T/src.tar"
SOURCE_DATE_EPOCH=1700000000 mkext4 -o "$T/r2.img" --uuid $u < "$T/src.tar"
ok 'same input, uuid and epoch give identical images' cmp "$T/r1.img" "$T/r2.img"
is "$(sb "$T/r1.img" 'Filesystem UUID')" $u 'the uuid'
like "$(debugfs -R 'stat /' "$T/r1.img" 2>/dev/null)" 'User:  1234   Group:  5678' 'root owned as the tar ./ entry says'
like "$(debugfs -R 'stat /lost+found' "$T/r1.img" 2>/dev/null)" 'mtime: 0x6553f100' 'synthesized entries take SOURCE_DATE_EPOCH'

out=$(mkext4 --help)
usage=$(printf '%s\n' "$out" | sed -n 1,2p | sed 's/^usage: //; s/^ *//' | tr -s ' \n' '  ')
man=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$TOP/man/mkext4.1" | grep -v '^\.SH' |
	sed 's/\\fB//g; s/\\fI//g; s/\\fR//g; s/\\-/-/g; s/^\.[BI] //' | tr -s ' \n' '  ')
is "$(echo $usage)" "$(echo $man)" 'the usage line is the man page synopsis'
like "$(mkext4 --version)" 'mkext4 ' '--version'
done_testing
