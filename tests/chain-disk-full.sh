#!/bin/sh
# chain-disk-full: each stage of the chain meets a full disk (a small tmpfs,
# in a mount namespace of this test's own) and fails cleanly: exit 1, a
# message naming the file and the cause, nothing half-written left.
#   mkext4 -o onto it: no image and no temporary file
#   oci-unpack | mkext4: the same, through the pipe
#   oci-pull into a full store: only verified blobs, nothing recorded; with
#     room made (the tmpfs grown), a re-run completes
#   oci-unpack -C into it: the directory it created is gone, no staging
#   oci-unpack to a full stdout, and with its spool ($TMPDIR) full
# Needs root for the mounts (unshare -m).
if [ -z "${CZ_MOUNT_NS:-}" ] && unshare -m --propagation private true 2>/dev/null; then
	CZ_MOUNT_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/pullcheck.sh"
need unshare 'gives the test its own mounts'
need skopeo 'seeds the registry'
need jq 'reads JSON'
if [ -z "${CZ_MOUNT_NS:-}" ]; then
	[ -n "${CI:-}" ] && { echo 'Bail out! unshare -m failed: root needed for tmpfs mounts'; exit 1; }
	skip_all 'unshare -m failed: root needed for tmpfs mounts'
fi

M=$T/full
mkdir -p "$M"
# A fresh tmpfs of SIZE at $M.
small() { umount "$M" 2>/dev/null; mount -t tmpfs -o "size=$1" cz-full "$M"; }
at_exit "umount $M"
L=$(image_layout layers) || exit 1
# The layers image: about 25 MiB of incompressible file data.
oci-unpack -i "$L" latest >"$T/layers.tar" || exit 1

# mkext4 -o onto a full disk, from a tar file ...
small 8m
mkext4 -o "$M/rootfs.ext4" <"$T/layers.tar" 2>"$T/err"; st=$?
is "$st" 1 'mkext4 onto a full disk: exit 1'
like "$(cat "$T/err")" "$M/rootfs.ext4: No space left on device" '... naming the image and the cause'
is "$(ls -A "$M")" '' '... no image, no temporary file'
# ... with a size given, so the image file is set up before the data comes
mkext4 -s 64M -o "$M/rootfs.ext4" <"$T/layers.tar" 2>"$T/err"; st=$?
is "$st" 1 'mkext4 -s 64M onto a full disk: exit 1'
like "$(cat "$T/err")" "$M/rootfs.ext4: No space left on device" '... naming the image and the cause'
is "$(ls -A "$M")" '' '... nothing left'
# ... and at the end of the pipe.
oci-unpack -i "$L" latest 2>"$T/err.unpack" | mkext4 -o "$M/rootfs.ext4" 2>"$T/err"; st=$?
is "$st" 1 'oci-unpack | mkext4 onto a full disk: mkext4 exits 1'
like "$(cat "$T/err")" "$M/rootfs.ext4: No space left on device" '... naming the image and the cause'
is "$(ls -A "$M")" '' '... nothing left'
# A disk that has room for the image afterwards takes it.
small 64m
ok 'with room, the same pipe writes the image' sh -c "oci-unpack -i '$L' latest | mkext4 -o '$M/rootfs.ext4'"

# oci-pull into a full store.
registry_start || exit 1
registry_push layers chain/layers:latest || exit 1
small 6m
oci-pull -q -o "$M/store" "$REGISTRY/chain/layers:latest" >/dev/null 2>"$T/err"; st=$?
is "$st" 1 'oci-pull into a full store: exit 1'
like "$(cat "$T/err")" 'No space left on device' '... saying so'
diag "$(head -c 400 "$T/err")"
ok '... the store holds only verified blobs' store_verified "$M/store"
is "$(jq '.manifests | length' "$M/store/index.json" 2>/dev/null)" 0 '... and records nothing'
mount -o remount,size=64m "$M"
dig=$(oci-pull -q -o "$M/store" "$REGISTRY/chain/layers:latest" 2>"$T/err"); st=$?
is "$st" 0 'with room made, a re-run completes'
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
ok '... the store holds only verified blobs' store_verified "$M/store"
ok '... no partial blob left' test -z "$(ls -A "$M/store/.partial" 2>/dev/null)"
like "$dig" 'sha256:' '... and the manifest is recorded'

# oci-unpack -C into a full directory: one it creates, one that exists.
small 8m
oci-unpack -i "$L" latest -C "$M/root" 2>"$T/err"; st=$?
is "$st" 1 'oci-unpack -C into a full disk: exit 1'
like "$(cat "$T/err")" 'No space left on device' '... saying so'
diag "$(head -c 300 "$T/err")"
is "$(ls -A "$M")" '' '... the directory it created is gone'
mkdir "$M/root"
oci-unpack -i "$L" latest -C "$M/root" 2>"$T/err"; st=$?
is "$st" 1 'oci-unpack -C into an existing dir on a full disk: exit 1'
is "$(ls -A "$M/root")" '' '... the directory is left empty'
rmdir "$M/root"

# oci-unpack writing its tar stream to a full disk.
oci-unpack -i "$L" latest >"$M/layers.tar" 2>"$T/err"; st=$?
is "$st" 1 'oci-unpack > file on a full disk: exit 1'
like "$(cat "$T/err")" 'oci-unpack: stdout: No space left on device' '... saying where and why'
rm -f "$M/layers.tar"
# oci-unpack with its spool on a full disk.
TMPDIR=$M oci-unpack -i "$L" latest >/dev/null 2>"$T/err"; st=$?
is "$st" 1 'oci-unpack with a full spool ($TMPDIR): exit 1'
like "$(cat "$T/err")" 'No space left on device' '... saying so'
diag "$(head -c 300 "$T/err")"
is "$(ls -A "$M")" '' '... and leaves nothing there'
done_testing
