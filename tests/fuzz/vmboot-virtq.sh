#!/bin/sh
# vmboot-virtq.sh: fuzz vmboot's virtqueue parser (vmboot/virtq.c) with
# libFuzzer for FUZZ_SECONDS seconds (default 30): guest memory, ring
# addresses and queue size are the fuzzer's. Needs clang. Crashes found
# are kept in tests/fuzz/vmboot-virtq.corpus; FUZZ_REPLAY=1 replays them.
cd "$(dirname "$0")/../.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
OUT=${CZ_BUILD:-build}/fuzz/vmboot-virtq
command -v clang >/dev/null || { echo "vmboot-virtq: clang missing, skipped"; exit 0; }
mkdir -p "$OUT/corpus" tests/fuzz/vmboot-virtq.corpus || exit 1
clang -std=c11 -g -O1 -D_GNU_SOURCE -Ivmboot \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-o "$OUT/fuzz" tests/fuzz/vmboot-virtq.c vmboot/virtq.c || exit 1
if [ -n "${FUZZ_REPLAY:-}" ]; then
	set -- tests/fuzz/vmboot-virtq.corpus/*
	[ -e "$1" ] || exit 0
	exec "$OUT/fuzz" "$@"
fi
exec "$OUT/fuzz" -max_total_time="$FUZZ_SECONDS" -max_len=33000 \
	-print_final_stats=1 -artifact_prefix=tests/fuzz/vmboot-virtq.corpus/ \
	"$OUT/corpus" tests/fuzz/vmboot-virtq.corpus
