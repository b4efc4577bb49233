#!/bin/sh
# Extended attributes in the inode body, in an xattr block, and both;
# security.capability, user.*, trusted.* and POSIX ACLs.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need e2fsck 'judges the image'
need fuse2fs 'reads the image back'
need bsdtar 'writes the tar stream'
[ "$(id -u)" = 0 ] || skip_all 'trusted.* xattrs need root'

s=$T/src
mkdir -p "$s/acldir"
for f in small block both cap link-target; do echo "$f" > "$s/$f"; done
ln -s link-target "$s/link"
python3 - "$s" <<'PY'
import os, struct, sys
s = sys.argv[1]
j = lambda n: os.path.join(s, n)
os.setxattr(j('small'), 'user.a', b'1')
os.setxattr(j('block'), 'user.big', b'v' * 2000)
os.setxattr(j('both'), 'user.x', b'in inode')
os.setxattr(j('both'), 'trusted.y', b'w' * 500)
os.setxattr(j('both'), 'user.empty', b'')
os.setxattr(j('cap'), 'security.capability', bytes.fromhex('0100000220000000000000000000000000000000'))
os.setxattr(j('link'), 'trusted.onlink', b'sym', follow_symlinks=False)
def acl(entries):
    return struct.pack('<I', 2) + b''.join(struct.pack('<HHI', t, p, i) for t, p, i in entries)
U, UO, G, GO, M, O, X = 2, 1, 8, 4, 0x10, 0x20, 0xffffffff
os.setxattr(j('small'), 'system.posix_acl_access', acl([(UO, 6, X), (U, 4, 1000), (GO, 4, X), (G, 6, 2000), (M, 6, X), (O, 4, X)]))
os.setxattr(j('acldir'), 'system.posix_acl_default', acl([(UO, 7, X), (U, 5, 1001), (GO, 5, X), (M, 5, X), (O, 5, X)]))
PY

ok 'image from a directory' mkext4 -o "$T/d.img" "$s"
ok 'e2fsck finds nothing' fsck_clean "$T/d.img"
ok 'every entry and xattr matches' tree_matches "$T/d.img" "$s"
like "$(debugfs -R 'stat /block' "$T/d.img" 2>/dev/null)" 'File ACL: ' 'a large value goes to an xattr block'
is "$(debugfs -R 'stat /small' "$T/d.img" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p')" 0 'small ones stay in the inode'
like "$(debugfs -R 'ea_list /small' "$T/d.img" 2>/dev/null)" 'system.posix_acl_access' 'the ACL is there for debugfs'

(cd "$s" && bsdtar --format=pax --xattrs -cf "$T/src.tar" .)
ok 'image from a tar stream' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/t.img" "$T/src.tar"
ok 'e2fsck finds nothing (tar)' fsck_clean "$T/t.img"
ok 'every entry and xattr matches (tar)' tree_matches "$T/t.img" "$s"

python3 - "$T/huge.tar" <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
ti = tarfile.TarInfo('huge')
ti.pax_headers = {'SCHILY.xattr.user.huge': 'h' * 5000}
t.addfile(ti)
t.close()
PY
fails 1 'xattrs beyond one block are refused' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/big.img" "$T/huge.tar"
like "$(mkext4 -o "$T/big.img" < "$T/huge.tar" 2>&1)" 'huge: extended attributes do not fit' 'the error names the file'
ok 'and no image is left' test ! -e "$T/big.img"
done_testing
