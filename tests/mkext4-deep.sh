#!/bin/sh
# A tree 500 directories deep, from a directory and from tar.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need e2fsck 'judges the image'
need fuse2fs 'reads the image back'
need bsdtar 'writes the tar stream'

s=$T/src
mkdir -p "$s"
python3 - "$s" <<'PY'
import os, sys
os.chdir(sys.argv[1])
for i in range(500):
    os.mkdir('d%d' % i)
    os.chdir('d%d' % i)
open('bottom', 'w').write('deep\n')
PY
ok 'image of a 500-level tree' mkext4 -o "$T/d.img" "$s"
ok 'e2fsck finds nothing' fsck_clean "$T/d.img"
ok 'every level matches' tree_matches "$T/d.img" "$s"
(cd "$s" && bsdtar --format=pax -cf "$T/src.tar" .)
ok 'image from tar' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/t.img" "$T/src.tar"
ok 'e2fsck finds nothing (tar)' fsck_clean "$T/t.img"
ok 'every level matches (tar)' tree_matches "$T/t.img" "$s"
done_testing
