#!/bin/bash
# pipeline.sh: an image reference to a running container, one tool a line.
#   examples/pipeline.sh REFERENCE [COMMAND [ARG...]]
# Writes ./store (the OCI image layout, shared by every image) and ./ctr
# (config.json and rootfs.ext4). The boot needs vmboot with --spec and a
# guest kernel ($KERNEL, default ./vmlinux; `make kernel` builds one);
# without them the image is built and the boot is skipped, saying so.
set -euo pipefail	# a failing oci-unpack fails the pipe, not just mkext4
ref=${1:?usage: pipeline.sh REFERENCE [COMMAND...]}; shift
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${CZ_BIN:-$top/build/bin}
if [ -x "$bin/mkext4" ]; then PATH=$bin:$PATH; fi
KERNEL=${KERNEL:-vmlinux} VMBOOT=${VMBOOT:-vmboot}
# The boot needs a vmboot that takes a bundle's config.json, and a kernel.
can_boot() {
	case $("$VMBOOT" --help 2>&1) in
	*--spec*) ;;
	*) echo "pipeline: no $VMBOOT with --spec yet: ctr/ built, boot skipped" >&2; return 1 ;;
	esac
	[ -f "$KERNEL" ] && return 0
	echo "pipeline: no guest kernel $KERNEL (set KERNEL): ctr/ built, boot skipped" >&2
	return 1
}
mkdir -p ctr

digest=$(oci-pull -q -o store "$ref")
oci-unpack -i store --bundle ctr "$digest" |
	mkext4 -o ctr/rootfs.ext4
can_boot || exit 0
exec "$VMBOOT" -k "$KERNEL" -d ctr/rootfs.ext4 --spec ctr/config.json -- "$@"
