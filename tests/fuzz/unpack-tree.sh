#!/bin/sh
# unpack-tree.sh: fuzz oci-unpack's tree_apply() (whiteouts, opaque
# markers, links, path resolution) with libFuzzer for FUZZ_SECONDS seconds
# (default 30). Needs clang. Crashes found are kept in
# tests/fuzz/unpack-tree.corpus and replayed by tests/unpack-fuzz-regress.sh.
cd "$(dirname "$0")/../.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
OUT=${CZ_BUILD:-build}/fuzz/unpack-tree
command -v clang >/dev/null || { echo "unpack-tree: clang missing, skipped"; exit 0; }
mkdir -p "$OUT/corpus" || exit 1
clang -std=c11 -g -O1 -D_GNU_SOURCE -Ilib -Ioci-unpack \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-o "$OUT/fuzz" tests/fuzz/unpack-tree.c oci-unpack/tree.c \
	lib/xalloc.c lib/err.c || exit 1
# FUZZ_REPLAY=1: run each kept input once (tests/unpack-fuzz-regress.sh).
[ -n "${FUZZ_REPLAY:-}" ] && exec "$OUT/fuzz" tests/fuzz/unpack-tree.corpus/*
exec "$OUT/fuzz" -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
	-print_final_stats=1 "$OUT/corpus" tests/fuzz/unpack-tree.corpus
