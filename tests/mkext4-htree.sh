#!/bin/sh
# Directories past one block are hashed trees (dir_index) that e2fsck
# accepts: 100,000 entries in one directory, names of 255 bytes, and a
# two-level tree.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need e2fsck 'judges the image'
need debugfs 'looks names up'

s=$T/src
mkdir -p "$s/big" "$s/long"
python3 - "$s" <<'PY'
import os, sys
s = sys.argv[1]
for i in range(100000):
    open(os.path.join(s, 'big', 'f%06d' % i), 'w').close()
for i in range(300):
    open(os.path.join(s, 'long', ('%03d' % i) + 'n' * 252), 'w').close()
PY
ok 'image of 100,000 files in one directory' mkext4 -o "$T/d.img" "$s"
ok 'e2fsck finds nothing' fsck_clean "$T/d.img"
like "$(debugfs -R 'stat /big' "$T/d.img" 2>/dev/null)" 'Flags: 0x81000' 'the big directory is indexed'
out=$(debugfs -R 'htree /big' "$T/d.img" 2>/dev/null)
like "$out" 'Hash Version: 1' 'half_md4'
n=$(debugfs -R 'ls /big' "$T/d.img" 2>/dev/null | tr -s ' ' '\n' | grep -c '^f[0-9]')
is "$n" 100000 'every name is listed'
for f in f000000 f054321 f099999; do
	like "$(debugfs -R "stat /big/$f" "$T/d.img" 2>/dev/null)" 'Type: regular' "$f found"
done
name=299$(printf 'n%.0s' $(seq 252))
like "$(debugfs -R "stat /long/$name" "$T/d.img" 2>/dev/null)" 'Type: regular' '255-byte name found'
seed=$(dumpe2fs -h "$T/d.img" 2>/dev/null | sed -n 's/^Directory Hash Seed: *//p')
want=$(debugfs -R "dx_hash -h half_md4 -s $seed f054321" "$T/d.img" 2>/dev/null |
	sed -n 's/^Hash of f054321 is 0x\([0-9a-f]*\) (minor 0x\([0-9a-f]*\)).*/\1-\2/p')
got=$(debugfs -R 'htree /big' "$T/d.img" 2>/dev/null | sed -n 's/.* 0x\([0-9a-f]*-[0-9a-f]*\) ([0-9]*) f054321 .*/\1/p')
ok "a random hash seed ($seed)" test "$seed" != 00000000-0000-0000-0000-000000000000
# (debugfs prints dx_hash without leading zeros, htree with: compare numbers.)
hexnorm() { echo "$1" | sed 's/^0*//; s/-0*/-/'; }
is "$(hexnorm "$got")" "$(hexnorm "$want")" 'the stored hash is what debugfs computes with that seed'

python3 - "$T/wide.tar" <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
for i in range(30000):
    ti = tarfile.TarInfo('d/%06d' % i + 'x' * 240); t.addfile(ti)
t.close()
PY
ok 'a directory that needs two index levels (tar)' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/w.img" "$T/wide.tar"
ok 'e2fsck finds nothing' fsck_clean "$T/w.img"
like "$(debugfs -R 'htree /d' "$T/w.img" 2>/dev/null | head -8)" 'Indirect levels: 1' 'two levels'
ok 'the same with 1 KiB blocks' sh -c 'mkext4 -b 1024 -o "$1" < "$2" && e2fsck -fn "$1"' sh "$T/w1.img" "$T/wide.tar"
ok 'e2fsck finds nothing (1 KiB)' fsck_clean "$T/w1.img"
done_testing
