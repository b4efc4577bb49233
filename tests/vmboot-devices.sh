#!/bin/sh
# vmboot's device models (virtqueue parser, virtio-mmio transport, blk,
# rng, vsock), driven from the driver side on the host with no KVM:
# well-formed requests work, hostile chains set NEEDS_RESET and never
# crash. The C test prints the TAP itself.
cd "$(dirname "$0")/.." || exit 1
BUILD=${CZ_BUILD:-build}
case $BUILD in *san) san=SAN=1 ;; *) san= ;; esac
make -s -f Makefile -f tests/vmboot/vmboot.mk $san BUILD="$BUILD" \
	"$BUILD/tests/virtq-test" >&2 || { echo "Bail out! build failed"; exit 1; }
exec "$BUILD/tests/virtq-test" 2>/dev/null
