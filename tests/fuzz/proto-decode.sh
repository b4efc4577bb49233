#!/bin/sh
# proto-decode.sh: fuzz lib/proto's decoder (header, attributes, nesting,
# typed getters, re-encoding) with libFuzzer for FUZZ_SECONDS seconds,
# default 30. Needs clang. Inputs worth keeping
# (seeds, crash-*) go in tests/fuzz/proto-decode.corpus and are replayed
# by tests/vminit-proto-fuzz-regress.sh (FUZZ_REPLAY=1).
cd "$(dirname "$0")/../.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
OUT=${CZ_BUILD:-build}/fuzz/proto-decode
command -v clang >/dev/null || { echo "proto-decode: clang missing, skipped"; exit 0; }
mkdir -p "$OUT/corpus" || exit 1
clang -std=c11 -g -O1 -D_GNU_SOURCE -Ilib -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -o "$OUT/fuzz" tests/fuzz/proto-decode.c \
	lib/proto.c lib/xalloc.c lib/err.c || exit 1
[ -n "${FUZZ_REPLAY:-}" ] && exec "$OUT/fuzz" tests/fuzz/proto-decode.corpus/*
exec "$OUT/fuzz" -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
	-print_final_stats=1 "$OUT/corpus" tests/fuzz/proto-decode.corpus
