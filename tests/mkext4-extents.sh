#!/bin/sh
# Extent trees of any depth: a file in 1,000 and one in 2,000 pieces, a
# 5 GiB sparse file whose holes stay holes in the image and on the host.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need e2fsck 'judges the image'
need fuse2fs 'reads the image back'
need bsdtar 'writes the tar stream'

s=$T/src
mkdir -p "$s"
python3 - "$s" <<'PY'
import os, sys
s = sys.argv[1]
def islands(name, n):
    with open(os.path.join(s, name), 'wb') as f:
        for i in range(n):
            f.seek(i * 8192)
            f.write(bytes([i % 251 + 1]) * 4096)
islands('frag1000', 1000)
islands('frag2000', 2000)
with open(os.path.join(s, 'sparse5g'), 'wb') as f:
    f.write(b'head')
    f.seek(3 << 30)
    f.write(b'middle' * 1000)
    f.truncate(5 << 30)
with open(os.path.join(s, 'big'), 'wb') as f:
    f.write(os.urandom(1 << 20) * 40)
PY

ok 'image from a directory' mkext4 -o "$T/d.img" "$s"
ok 'e2fsck finds nothing' fsck_clean "$T/d.img"
# fuse2fs would read 5 GiB of zeros: the sparse file is checked by its map.
export EXT4CHECK_SKIP_CONTENT=sparse5g
sparse_ok() {
	ex=$(debugfs -R 'ex /sparse5g' "$1" 2>/dev/null)
	printf '%s\n' "$ex" | grep -Eq ' 0 - +0 ' && printf '%s\n' "$ex" | grep -Eq ' 786432 - +786433 ' &&
	[ "$(printf '%s\n' "$ex" | grep -c '^ 0/ 0')" = 2 ] &&
	debugfs -R 'cat /sparse5g' "$1" 2>/dev/null | head -c 4 | grep -q head &&
	debugfs -R "bd -f /sparse5g 786432" "$1" 2>/dev/null | grep -q 'middlemiddle'
}
ok 'contents match' tree_matches "$T/d.img" "$s"
like "$(debugfs -R 'stat /frag1000' "$T/d.img" 2>/dev/null)" '(0):' 'a tree for 1,000 extents'
like "$(debugfs -R 'ex /frag2000' "$T/d.img" 2>/dev/null | sed -n 2p)" ' 0/ 2 ' 'the 2,000-extent tree has depth 2'
like "$(debugfs -R 'stat /sparse5g' "$T/d.img" 2>/dev/null)" 'Size: 5368709120' 'size over 4 GiB'
ok 'the 5 GiB file maps only its data' sparse_ok "$T/d.img"
kb=$(du -k "$T/d.img" | cut -f1)
ok "the image file stays sparse (${kb} KiB on disk)" test "$kb" -lt 80000

(cd "$s" && bsdtar --format=pax --read-sparse -cf "$T/src.tar" .)
tkb=$(du -k "$T/src.tar" | cut -f1)
ok 'image from a sparse tar' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/t.img" "$T/src.tar"
ok 'e2fsck finds nothing (tar)' fsck_clean "$T/t.img"
ok 'contents match (tar)' tree_matches "$T/t.img" "$s"
ok 'the 5 GiB file maps only its data (tar)' sparse_ok "$T/t.img"
kb=$(du -k "$T/t.img" | cut -f1)
ok "tar holes stay holes (${kb} KiB on disk, tar ${tkb} KiB)" test "$kb" -lt 80000
done_testing
