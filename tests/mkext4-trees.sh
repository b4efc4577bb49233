#!/bin/sh
# Real trees: busybox with its applet links, and a Debian-like tree (a
# slice of this machine's /usr), from a directory and from tar.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need e2fsck 'judges the image'
need fuse2fs 'reads the image back'
need bsdtar 'writes the tar stream'
need busybox 'the busybox tree'

bb=$T/busybox
mkdir -p "$bb/bin" "$bb/etc" "$bb/dev" "$bb/tmp"
cp "$(command -v busybox)" "$bb/bin/busybox"
for a in $(busybox --list); do ln "$bb/bin/busybox" "$bb/bin/$a" 2>/dev/null; done
ln -s bin "$bb/sbin"; echo 'root:x:0:0:root:/root:/bin/sh' > "$bb/etc/passwd"
chmod 1777 "$bb/tmp"
ok 'busybox tree' mkext4 -o "$T/bb.img" "$bb"
ok 'e2fsck finds nothing (busybox)' fsck_clean "$T/bb.img"
ok 'busybox tree matches' tree_matches "$T/bb.img" "$bb"
(cd "$bb" && bsdtar --format=pax -cf "$T/bb.tar" .)
ok 'busybox tar' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/bbt.img" "$T/bb.tar"
ok 'e2fsck finds nothing (busybox tar)' fsck_clean "$T/bbt.img"
ok 'busybox tar matches' tree_matches "$T/bbt.img" "$bb"

deb=$T/debian
mkdir -p "$deb/usr"
for d in bin sbin lib/x86_64-linux-gnu/perl-base share/perl5 share/doc/dpkg share/zoneinfo/Europe; do
	[ -d "/usr/$d" ] && mkdir -p "$deb/usr/$d" && cp -a "/usr/$d/." "$deb/usr/$d/"
done
ln -s usr/bin "$deb/bin"; ln -s usr/lib "$deb/lib"
diag "debian-like tree: $(du -sh "$deb" | cut -f1), $(find "$deb" | wc -l) entries"
ok 'Debian-like tree' mkext4 -o "$T/deb.img" "$deb"
ok 'e2fsck finds nothing (Debian-like)' fsck_clean "$T/deb.img"
ok 'Debian-like tree matches' tree_matches "$T/deb.img" "$deb"
(cd "$deb" && bsdtar --format=pax --xattrs -cf - .) | gzip -1 > "$T/deb.tar.gz"
ok 'Debian-like tar.gz' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/debt.img" "$T/deb.tar.gz"
ok 'e2fsck finds nothing (Debian-like tar)' fsck_clean "$T/debt.img"
ok 'Debian-like tar matches' tree_matches "$T/debt.img" "$deb"
done_testing
