#!/bin/sh
# netlinkctl-fake-kernel.sh: lib/netlink against a socketpair that plays
# the kernel with hostile replies (tests/unit/netlink-test.c, TAP).
# `make check` builds it first; alone, this builds it.
cd "$(dirname "$0")/.." || exit 1
BUILD=${CZ_BUILD:-build}
if [ -z "${CZ_BUILD:-}" ]; then
	make -s build/tests/netlink-test >&2 || { echo "Bail out! build failed"; exit 1; }
fi
exec "$BUILD/tests/netlink-test"
