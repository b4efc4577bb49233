#!/bin/sh
# vmnet-unit.sh: vmboot's --net bridge= option parser, resolv.conf reader
# and address allocator, in C (tests/unit/ipam-test.c, TAP).
# `make check` builds it first; alone, this builds it.
cd "$(dirname "$0")/.." || exit 1
BUILD=${CZ_BUILD:-build}
if [ -z "${CZ_BUILD:-}" ]; then
	make -s build/tests/ipam-test >&2 || { echo "Bail out! build failed"; exit 1; }
fi
exec "$BUILD/tests/ipam-test"
