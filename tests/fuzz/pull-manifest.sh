#!/bin/sh
# pull-manifest: libFuzzer on oci-pull's manifest parsing, bounded time
# (FUZZ_SECONDS, default 30). Seeds in tests/fuzz/corpus/pull-manifest.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${CZ_BUILD:-$top/build}/fuzz
mkdir -p "$out" "$out/pull-manifest.corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I"$top/lib" -I"$top/oci-pull" \
	-o "$out/pull-manifest" "$top/tests/fuzz/pull-manifest.c" "$top/oci-pull/manifest.c" \
	"$top/lib/digest.c" "$top/lib/json.c" "$top/lib/err.c" "$top/lib/xalloc.c" \
	-lyajl -lsodium -lcrypto
"$out/pull-manifest" -max_total_time="${FUZZ_SECONDS:-30}" -max_len=65536 -print_final_stats=0 \
	"$out/pull-manifest.corpus" "$top/tests/fuzz/corpus/pull-manifest" 2>&1 | tail -n 3
