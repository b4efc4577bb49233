#!/bin/sh
# umoci is the oracle: `umoci unpack --rootless` of the same layout gives
# the same tree as oci-unpack -C and as oci-unpack's tar stream extracted
# by bsdtar, entry by entry (type, mode, size, content digest, link
# target, xattrs, mtime), for a real Debian image with a second layer of
# whiteouts, an opaque directory, replacements and a cross-layer link.
# Where umoci differs, it is umoci's rootless mode, not the spec:
#  - device nodes become empty regular files (it cannot mknod rootless);
#    the spec wants devices, and oci-unpack writes them;
#  - it records ownership in a user.rootlesscontainers xattr instead of
#    chown; so owners are compared between oci-unpack's tar stream and
#    its directory (as root), and umoci's tree without owners.
. "$(dirname "$0")/lib/tap.sh"
need umoci 'the oracle'
need bsdtar 'extracts the tar stream'
need mmdebstrap 'builds the Debian image'
need python3 'compares trees'

lay=$("$TESTS_DIR/fixtures/unpack-debian.sh") || { echo 'Bail out! fixture'; exit 1; }
cd "$T" || exit 1
dump() { python3 "$TESTS_DIR/lib/unpack-tree.py" dump "$@"; }
# umoci's rootless stand-ins, removed from its side only.
rootless() {
	sed -E 's/ user\.rootlesscontainers=[0-9a-f]+/ -/; s/ -,/ /; s/,user\.rootlesscontainers=[0-9a-f]+//'
}

ok 'umoci unpack --rootless' umoci unpack --rootless --image "$lay:debian:layered" u
ok 'oci-unpack -C' oci-unpack -i "$lay" debian:layered -C d
ok 'oci-unpack tar stream' sh -c "oci-unpack -i '$lay' debian:layered > s.tar"
mkdir x
ok 'bsdtar extracts the stream' bsdtar -xpf s.tar -C x --numeric-owner

dump --no-owner u/rootfs | rootless > u.txt
dump --no-owner d > d.txt
dump --no-owner x > x.txt
grep -v '^\. ' x.txt > x.txt.noroot
grep -v '^\./dev/' u.txt > u.nodev; grep -v '^\./dev/' d.txt > d.nodev
ok 'directory matches umoci (devices aside)' diff u.nodev d.nodev
# bsdtar leaves the extraction root's own mtime alone.
ok 'extracted tar matches the directory' sh -c "grep -v '^\\. ' d.txt | diff - x.txt.noroot"
is "$(grep -c ' char ' d.txt)" "$(grep -c '^./dev/.* file ' u.txt)" \
	'devices are devices here, empty files in rootless umoci'
dump d > d.own
dump s.tar > s.own
ok 'owners, modes and all in the stream match the directory' diff d.own s.own
is "$(wc -l < d.txt)" "$(wc -l < u.txt)" "same number of entries ($(wc -l < d.txt))"

like "$(grep '^./etc/hostname ' s.own)" 'file 0600 1000 1000' 'replaced file, owner from the upper layer'
ok 'opaque /etc/apt holds only the upper layer entry' \
	test "$(ls d/etc/apt)" = sources.list
ok 'whiteout of a lower file' test ! -e d/usr/bin/perl
ok 'directory replaced by a file' test -f d/var/cache/debconf
ok 'cross-layer hard link' test "$(stat -c %i d/usr/local/bin/dpkg-again)" = "$(stat -c %i d/usr/bin/dpkg)"
like "$(grep '^./usr/local/bin/ping ' d.txt)" 'security.capability=' 'security.capability on disk'
done_testing
