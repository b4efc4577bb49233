#!/bin/sh
# Every input the oci-unpack fuzzers keep (seeds and crash-*) runs clean
# under ASan and UBSan: tree_apply() and the layout reader.
. "$(dirname "$0")/lib/tap.sh"
need clang 'builds the fuzz targets'
for f in tree layout; do
	ok "unpack-$f: kept inputs replay clean" env FUZZ_REPLAY=1 \
		CZ_BUILD="$T" sh "$TESTS_DIR/fuzz/unpack-$f.sh"
done
done_testing
