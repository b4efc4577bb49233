#!/bin/sh
# vm-foreign-arch: a linux/arm64 image on this x86_64 host. The arm64
# busybox of the two-platform fixture, pulled with oci-pull --platform
# linux/arm64 from the local registry, unpacked as a bundle and written by
# mkext4, runs `uname -m` in a VM inside the test host and prints aarch64:
# with the architecture read from the bundle's config.json, and with
# --arch arm64 on a config.json that does not say it. --arch amd64 over
# it gets the kernel's exec format error (126): the interpreter is what
# runs it. Arguments arrive intact, argv[0] too; nothing is left behind.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"

need qemu-system-x86_64 'runs the test host'
need /usr/bin/qemu-aarch64-static 'qemu-user-static runs arm64 programs'
need vmboot 'is under test (make)'
need vminit 'is under test (make)'
need oci-pull 'pulls the arm64 image'
need oci-unpack 'unpacks it'
need mkext4 'writes its root filesystem'
need skopeo 'pushes the test image'
need jq 'edits config.json'
[ "$(uname -m)" = x86_64 ] || skip_all 'arm64 is foreign only on an x86_64 host'

cd "$TOP" || exit 1
paths=$(kernel/build) || { echo 'Bail out! kernel/build failed'; exit 1; }
registry_start || exit 1
image_layout busybox-multi >/dev/null ||
	skip_all 'no busybox-multi image (arm64 busybox-static not downloadable)'
registry_push busybox-multi multi:latest || { echo 'Bail out! push'; exit 1; }

m=$T/m
mkdir -p "$m/arm"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$BIN/vmboot" "$BIN/vminit" "$m/"
digest=$(oci-pull -q -o "$T/store" --platform linux/arm64 "$REGISTRY/multi") ||
	{ echo 'Bail out! oci-pull --platform linux/arm64'; exit 1; }
oci-unpack -i "$T/store" --bundle "$m/arm" "$digest" | mkext4 -o "$m/arm/rootfs.ext4" ||
	{ echo 'Bail out! arm64 rootfs'; exit 1; }
is "$(jq -r '.annotations["org.opencontainers.image.architecture"]' "$m/arm/config.json")" arm64 \
	'the bundle says arm64 (from the image config)'
jq 'del(.annotations["org.opencontainers.image.architecture"])' "$m/arm/config.json" \
	>"$m/arm/noarch.json"
cp "$TESTS_DIR/vmboot/foreign-arch.guest.sh" "$m/run.sh"

"$TOP/tests/vmhost/run" --timeout 900 --disk "$m" -- sh /mnt/0/run.sh \
	>"$T/out" 2>"$T/err"
is "$?" 0 'the test host ran the script'
section() { sed -n "/^== $1\$/,/^== /p" "$T/out"; }

s=$(section auto)
like "$s" 'out=<aarch64|args=2:a|b c|aarch64>' 'from the bundle: uname -m prints aarch64, arguments and argv[0] intact'
like "$s" 'rc=0' 'and exits 0'
like "$s" 'left=<>' 'nothing left behind'

s=$(section explicit)
like "$s" 'out=<aarch64|args=2:a|b c|aarch64>' '--arch arm64 on a config.json that does not say: aarch64'
like "$s" 'rc=0' 'and exits 0'
like "$s" 'left=<>' 'nothing left behind'

s=$(section native)
like "$s" 'rc=126' '--arch amd64 over the arm64 image: cannot execute, 126'
like "$s" 'Exec format error' 'the kernel'"'"'s exec format error, reported'
like "$s" 'left=<>' 'nothing left behind'

dump_if_failed "$T/out" "$T/err"
done_testing
