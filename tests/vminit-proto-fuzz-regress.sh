#!/bin/sh
# Every input the proto-decode fuzzer keeps (seeds, and what it once
# found: a nest whose last member is unpadded) replays clean under ASan
# and UBSan, with its round-trip checks (tests/fuzz/proto-decode.sh).
. "$(dirname "$0")/lib/tap.sh"
need clang 'builds the fuzz target'
ok 'proto-decode: kept inputs replay clean' env FUZZ_REPLAY=1 \
	CZ_BUILD="$T" sh "$TESTS_DIR/fuzz/proto-decode.sh"
ok 'the corpus is there' test -s "$TESTS_DIR/fuzz/proto-decode.corpus/seed-process"
done_testing
