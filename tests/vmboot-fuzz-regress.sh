#!/bin/sh
# Every input the vmboot virtqueue fuzzer keeps (seeds and crash-*) runs
# clean under ASan and UBSan.
. "$(dirname "$0")/lib/tap.sh"
need clang 'builds the fuzz target'
ok 'vmboot-virtq: kept inputs replay clean' env FUZZ_REPLAY=1 \
	CZ_BUILD="$T" sh "$TESTS_DIR/fuzz/vmboot-virtq.sh"
done_testing
