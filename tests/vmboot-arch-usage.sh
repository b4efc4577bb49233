#!/bin/sh
# vmboot --arch on the host, without booting: the names it takes (a
# usage error, exit 2, for others and without --spec), the architecture
# taken from the bundle's annotation, and a missing qemu-user-static
# interpreter or an architecture cz cannot run named before any VM starts
# (exit 1), with nothing left behind. The boots: tests/vm-foreign-arch.sh.
. "$(dirname "$0")/lib/tap.sh"

need vmboot 'is under test (make)'
[ "$(uname -m)" = x86_64 ] || skip_all 'the messages name an x86_64 host'

spec() {	# file arch: a config.json whose image is of arch ("" none)
	printf '{"process":{"args":["true"],"cwd":"/"},"annotations":{%s}}' \
		"${2:+\"org.opencontainers.image.architecture\":\"$2\"}" >"$T/$1"
}
spec arm.json arm64
spec none.json ''
spec s390x.json s390x
: >"$T/rootfs.ext4"
echo 'not a kernel' >"$T/kernel"
: >"$T/vminit"
mkdir "$T/tmp" "$T/qemu"
export TMPDIR=$T/tmp
vm() { vmboot -k "$T/kernel" -d "$T/rootfs.ext4" --init "$T/vminit" "$@"; }
# An interpreter directory holding a stand-in: the checks stop before KVM.
printf '#!/bin/sh\n' >"$T/qemu/qemu-aarch64-static"
chmod 755 "$T/qemu/qemu-aarch64-static"

like "$(vmboot --help)" '--arch ARCH' '--help shows --arch'
fails 2 '--arch s390x: not an architecture cz runs' vm --arch s390x --spec "$T/none.json"
like "$(vm --arch s390x --spec "$T/none.json" 2>&1)" '--arch s390x: want amd64 or arm64' \
	'and says which it takes'
fails 2 '--arch without --spec is a usage error' vmboot -k "$T/kernel" --arch arm64

# Missing interpreter: named, exit 1, whether asked for or read from the image.
err=$(CZ_QEMU_DIR=$T/none vm --spec "$T/arm.json" 2>&1); st=$?
is "$st" 1 'an arm64 image without qemu-user-static fails (exit 1)'
like "$err" 'vmboot: image is linux/arm64 and this host is x86_64: install qemu-user-static' \
	'saying what to install'
like "$err" "$T/none/qemu-aarch64-static: No such file or directory" 'naming the file it looked for'
err=$(CZ_QEMU_DIR=$T/none vm --arch aarch64 --spec "$T/none.json" 2>&1); st=$?
is "$st" 1 '--arch aarch64 (uname -m spelling) on an image that does not say: the same'
like "$err" 'install qemu-user-static' 'the same message'
chmod 644 "$T/qemu/qemu-aarch64-static"
err=$(CZ_QEMU_DIR=$T/qemu vm --spec "$T/arm.json" 2>&1); st=$?
is "$st" 1 'an interpreter that is not executable is refused too'
like "$err" 'qemu-aarch64-static: not an executable file' 'saying so'
chmod 755 "$T/qemu/qemu-aarch64-static"
err=$(vm --spec "$T/s390x.json" 2>&1); st=$?
is "$st" 1 'an image of an architecture cz cannot run fails (exit 1)'
like "$err" 'image is linux/s390x and this host is x86_64: cz runs amd64 and arm64 images only' \
	'saying which it runs'

# Past the interpreter check, vmboot gets as far as the kernel: a
# "kernel" that is none proves the arch checks passed (exit 1, not about
# the interpreter).
for a in "--spec $T/arm.json" "--arch amd64 --spec $T/arm.json" "--arch x86_64 --spec $T/none.json" \
	"--arch arm64 --spec $T/none.json"; do
	# shellcheck disable=SC2086 # options split on purpose
	err=$(CZ_QEMU_DIR=$T/qemu vm $a -- true 2>&1)
	case $err in
	*qemu-user-static*|*'cz runs'*|*usage:*) ok_=1 ;;
	*) ok_=0 ;;
	esac
	is "$ok_" 0 "accepted: $(echo "$a" | sed "s,$T/,,")"
done
# --arch amd64 wins over the image's: no interpreter needed at all.
err=$(CZ_QEMU_DIR=$T/none vm --arch amd64 --spec "$T/arm.json" -- true 2>&1)
case $err in *qemu-user-static*) r=asked ;; *) r=native ;; esac
is "$r" native '--arch amd64 overrides the image: no interpreter asked for'
is "$(ls -A "$T/tmp")" '' 'nothing left in TMPDIR on any of these paths'
done_testing
