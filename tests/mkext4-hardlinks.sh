#!/bin/sh
# 1,000 hard links to one file share one inode with the right link count,
# from a directory and from tar; a tar entry that replaces a link leaves
# the other names with the old content.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need e2fsck 'judges the image'
need fuse2fs 'reads the image back'
need bsdtar 'writes the tar stream'

s=$T/src
mkdir -p "$s/a" "$s/b"
echo shared > "$s/a/target"
i=0
while [ $i -lt 1000 ]; do ln "$s/a/target" "$s/b/l$i"; i=$((i + 1)); done
echo two > "$s/pair1"; ln "$s/pair1" "$s/a/pair2"

ok 'image from a directory' mkext4 -o "$T/d.img" "$s"
ok 'e2fsck finds nothing' fsck_clean "$T/d.img"
ok 'names and link groups match' tree_matches "$T/d.img" "$s"
like "$(debugfs -R 'stat /b/l999' "$T/d.img" 2>/dev/null)" 'Links: 1001' 'nlink is 1001'
is "$(debugfs -R 'ls -l /b' "$T/d.img" 2>/dev/null | awk 'NF > 5 && $NF ~ /^l/ {print $1}' | sort -u | wc -l)" 1 'all in one inode'

(cd "$s" && bsdtar --format=pax -cf "$T/src.tar" .)
ok 'image from tar' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/t.img" "$T/src.tar"
ok 'e2fsck finds nothing (tar)' fsck_clean "$T/t.img"
ok 'names and link groups match (tar)' tree_matches "$T/t.img" "$s"

python3 - "$T/replace.tar" <<'PY'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
def f(name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
f('x', b'old' * 2000)
ti = tarfile.TarInfo('y'); ti.type = tarfile.LNKTYPE; ti.linkname = 'x'; t.addfile(ti)
f('x', b'new')
f('z', b'gone' * 5000)
f('z', b'kept')
t.close()
PY
ok 'replacing entries' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/r.img" "$T/replace.tar"
ok 'e2fsck finds nothing after replacements' fsck_clean "$T/r.img"
is "$(debugfs -R 'cat /y' "$T/r.img" 2>/dev/null | head -c 6)" oldold 'the other link keeps the old data'
is "$(debugfs -R 'cat /x' "$T/r.img" 2>/dev/null)" new 'the name has the new data'
is "$(debugfs -R 'cat /z' "$T/r.img" 2>/dev/null)" kept 'a replaced file frees its blocks'
done_testing
