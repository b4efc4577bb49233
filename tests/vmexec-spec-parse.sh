#!/bin/sh
# vmexec-spec-parse.sh: lib/spec, an OCI config.json to vminit's create
# attributes, with hostile and malformed configs refused by field name
# (tests/unit/spec-test.c, TAP). `make check` builds it; alone, this does.
cd "$(dirname "$0")/.." || exit 1
BUILD=${CZ_BUILD:-build}
if [ -z "${CZ_BUILD:-}" ]; then
	make -s build/tests/spec-test >&2 || { echo "Bail out! build failed"; exit 1; }
fi
exec "$BUILD/tests/spec-test"
