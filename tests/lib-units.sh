#!/bin/sh
# lib-units.sh: lib/'s unit tests (C, TAP), and lib/'s musl build, which
# vminit links statically. `make check` builds both first; alone, this
# builds them.
cd "$(dirname "$0")/.." || exit 1
BUILD=${CZ_BUILD:-build}
if [ -z "${CZ_BUILD:-}" ]; then
	make -s build/tests/lib-test build/musl/libcz.a >&2 || { echo "Bail out! build failed"; exit 1; }
fi
if command -v musl-gcc >/dev/null; then
	[ -f "$BUILD/musl/libcz.a" ] || { echo "Bail out! lib/ did not build with musl-gcc"; exit 1; }
	echo "# lib/ builds with musl-gcc"
elif [ -n "${CI:-}" ]; then
	echo "Bail out! musl-gcc missing"; exit 1
fi
exec "$BUILD/tests/lib-test"
