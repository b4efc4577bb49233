#!/bin/sh
# e2e-examples: examples/Makefile and examples/pipeline.sh, run against the
# local registry with the busybox and Debian images, build root filesystems
# that e2fsck finds clean, that hold the image's files, with a bundle
# config.json beside them; a second make does nothing, `make update` rebuilds
# only what moved, and a failing stage leaves no image behind.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need make 'runs the example Makefile'
need bash 'runs the example pipeline'
need skopeo 'seeds the registry'
need e2fsck 'judges the images'
need debugfs 'reads the images'
need jq 'reads config.json'

registry_start || exit 1
registry_push busybox busybox:latest || exit 1
registry_push debian library/debian:bookworm || exit 1

W=$T/w
mkdir -p "$W"
mk() { make -C "$W" -f "$TOP/examples/Makefile" REGISTRY="$REGISTRY" \
	debian_REF="$REGISTRY/library/debian:bookworm" "$@"; }
# The rootfs listing of PATH in IMAGE, as debugfs reads it.
dbg() { debugfs -R "$2" "$1" 2>/dev/null; }

# The Makefile: both images in one make, in parallel into one store.
ok 'make -j2 busybox.ext4 debian.ext4' mk -j2 busybox.ext4 debian.ext4
is "$(jq '.manifests | length' "$W/store/index.json")" 2 'the store records both references'
for n in busybox debian; do
	ok "$n.ext4 is clean for e2fsck -fn" fsck_clean "$W/$n.ext4"
	ok "$n/config.json is a runtime spec" \
		jq -e '.ociVersion and (.process.args | length > 0) and .root.path == "rootfs"' "$W/$n/config.json"
	like "$(cat "$W/$n.digest")" 'sha256:' "$n.digest holds the manifest digest"
done
like "$(dbg "$W/busybox.ext4" 'stat /bin/busybox')" 'Type: regular' 'busybox.ext4 has /bin/busybox'
like "$(dbg "$W/busybox.ext4" 'stat /bin/sh')" 'Type: symlink' 'busybox.ext4 has /bin/sh'
like "$(dbg "$W/debian.ext4" 'stat /etc/os-release')" 'link dest: "../usr/lib/os-release"' \
	'debian.ext4 has /etc/os-release, a symlink'
like "$(dbg "$W/debian.ext4" 'cat /usr/lib/os-release')" 'VERSION_CODENAME=bookworm' \
	'... to the os-release of bookworm'
like "$(dbg "$W/debian.ext4" 'cat /etc/cz-release')" 'cz test layer' 'debian.ext4 has the upper layer'
is "$(dbg "$W/debian.ext4" 'ls -p /usr/share/doc' | cut -d/ -f6 | grep -v '^\.*$' | tr '\n' ' ')" 'README ' \
	'debian.ext4: the opaque directory hides the lower layer'
like "$(debugfs -R 'stat /etc/motd' "$W/debian.ext4" 2>&1)" 'File not found' 'debian.ext4: the whiteout removed /etc/motd'
is "$(jq -c .process.args "$W/busybox/config.json")" '["sh"]' 'busybox config.json runs the image Cmd'

# A second make does nothing: make -q agrees and no file changes.
ls -l --time-style=full-iso "$W" "$W/busybox" "$W/debian" >"$T/before"
ok 'second make: nothing to be done (make -q)' mk -q busybox.ext4 debian.ext4
out=$(mk busybox.ext4 debian.ext4 2>&1)
like "$out" "'busybox.ext4' is up to date" 'second make runs no command'
ls -l --time-style=full-iso "$W" "$W/busybox" "$W/debian" >"$T/after"
ok 'second make changed no file' cmp "$T/before" "$T/after"

# make update pulls again; an unmoved tag rewrites nothing.
ok 'make update, tags unmoved' mk IMAGES='busybox debian' update
ok '... and everything is still up to date' mk -q busybox.ext4 debian.ext4
# A tag that moves: the next update rewrites its digest, make rebuilds it.
old=$(cat "$W/busybox.digest")
registry_push layers busybox:latest || exit 1
out=$(mk IMAGES='busybox debian' update 2>&1)
like "$out" 'busybox: sha256:' 'make update names the image whose tag moved'
fails 1 '... its image is now out of date' mk -q busybox.ext4
ok '... debian is not' mk -q debian.ext4
ok 'make rebuilds busybox.ext4' mk busybox.ext4
[ "$(cat "$W/busybox.digest")" != "$old" ]; is $? 0 'busybox.digest moved'
like "$(dbg "$W/busybox.ext4" 'cat /data/6/note')" 'layer 6' 'the rebuilt image is the new one'
ok 'the rebuilt image is clean' fsck_clean "$W/busybox.ext4"

# Failures leave no target behind: a reference the registry lacks ...
fails 2 'make nothere.ext4 fails' mk nothere.ext4
ok '... leaving no nothere.digest' test ! -e "$W/nothere.digest"
ok '... and no nothere.ext4' test ! -e "$W/nothere.ext4"
# ... and an oci-unpack that fails: mkext4 refuses the empty stream, and
# pipefail fails the recipe even where the consumer would not; make
# deletes the image (.DELETE_ON_ERROR).
rm -f "$W/busybox.ext4"
fails 2 'make with a failing oci-unpack fails' mk OCI_UNPACK=false busybox.ext4
ok '... leaving no busybox.ext4' test ! -e "$W/busybox.ext4"
ok '... and no temporary file' test -z "$(ls -A "$W" | grep -v -x -e store -e busybox -e debian -e busybox.digest -e debian.digest -e debian.ext4)"

# The pipeline: pull, unpack, mkext4, and the boot when it can run.
P=$T/p
for img in busybox:latest library/debian:bookworm; do
	rm -rf "$P"; mkdir -p "$P"
	out=$(cd "$P" && KERNEL=$T/no-kernel bash "$TOP/examples/pipeline.sh" "$REGISTRY/$img" 2>&1); st=$?
	is "$st" 0 "pipeline.sh $img"
	like "$out" 'boot skipped' '... says the boot was skipped'
	ok '... ctr/rootfs.ext4 is clean' fsck_clean "$P/ctr/rootfs.ext4"
	ok '... ctr/config.json is a runtime spec' jq -e '.process.args' "$P/ctr/config.json"
	ok '... the store is an OCI layout' test -f "$P/store/oci-layout"
done
like "$(dbg "$P/ctr/rootfs.ext4" 'cat /usr/lib/os-release')" 'Debian GNU/Linux 12' \
	'pipeline.sh: Debian rootfs has its os-release'
# The busybox tag now names the layers image (moved above).
rm -rf "$P"; mkdir -p "$P"
(cd "$P" && KERNEL=$T/no-kernel bash "$TOP/examples/pipeline.sh" "$REGISTRY/busybox" >/dev/null 2>&1)
like "$(dbg "$P/ctr/rootfs.ext4" 'stat /bin/busybox')" 'Type: regular' 'pipeline.sh: rootfs has /bin/busybox'
# A failing stage fails the script and leaves no image.
rm -rf "$P"; mkdir -p "$P"
(cd "$P" && bash "$TOP/examples/pipeline.sh" "$REGISTRY/nothere:latest" >/dev/null 2>&1); st=$?
[ "$st" -ne 0 ]; is $? 0 'pipeline.sh of a missing image fails'
ok '... and leaves no rootfs.ext4' test ! -e "$P/ctr/rootfs.ext4"
done_testing
