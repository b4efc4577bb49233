#!/bin/sh
# unpack-layout.sh: fuzz oci-unpack's image layout reading (index,
# manifest and config JSON, reference and platform matching) with
# libFuzzer for FUZZ_SECONDS seconds (default 30). Needs clang. die()
# longjmps back to the harness, which frees what it jumped over. Crashes
# found are kept in tests/fuzz/unpack-layout.corpus and replayed by
# tests/unpack-fuzz-regress.sh.
cd "$(dirname "$0")/../.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
OUT=${CZ_BUILD:-build}/fuzz/unpack-layout
command -v clang >/dev/null || { echo "unpack-layout: clang missing, skipped"; exit 0; }
mkdir -p "$OUT/corpus" || exit 1
CFLAGS="-std=c11 -g -O1 -D_GNU_SOURCE -Ilib -Ioci-unpack -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
# layout.c's allocations go through the harness, which frees what die()
# jumps over (see unpack-layout.c).
clang $CFLAGS -c -o "$OUT/layout.o" oci-unpack/layout.c \
	-Dxmalloc=fz_xmalloc -Dxcalloc=fz_xcalloc -Dxrealloc=fz_xrealloc \
	-Dxstrdup=fz_xstrdup -Dfree=fz_free -Djson_parse=fz_json_parse \
	-Djson_free=fz_json_free || exit 1
clang $CFLAGS -o "$OUT/fuzz" tests/fuzz/unpack-layout.c "$OUT/layout.o" \
	lib/json.c lib/digest.c lib/xalloc.c -lyajl -lcrypto -lsodium || exit 1
# FUZZ_REPLAY=1: run each kept input once (tests/unpack-fuzz-regress.sh).
[ -n "${FUZZ_REPLAY:-}" ] && exec "$OUT/fuzz" tests/fuzz/unpack-layout.corpus/*
exec "$OUT/fuzz" -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
	-print_final_stats=1 "$OUT/corpus" tests/fuzz/unpack-layout.corpus
