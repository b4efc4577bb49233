#!/bin/sh
# netlink-reply.sh: fuzz lib/netlink's reply parser and decoders with
# libFuzzer for FUZZ_SECONDS seconds (default 30). Needs clang.
cd "$(dirname "$0")/../.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
OUT=${CZ_BUILD:-build}/fuzz/netlink-reply
command -v clang >/dev/null || { echo "netlink-reply: clang missing, skipped"; exit 0; }
mkdir -p "$OUT/corpus" || exit 1
clang -std=c11 -g -O1 -D_GNU_SOURCE -Ilib -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -o "$OUT/fuzz" tests/fuzz/netlink-reply.c \
	lib/netlink.c lib/xalloc.c lib/err.c || exit 1
# Seeds: an ack, an error with an extended ack message, a link in a dump.
printf '\000\044\000\000\000\002\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' \
	> "$OUT/corpus/ack"
printf '\000\050\000\000\000\002\000\000\003\001\000\000\000\000\000\000\000\352\377\377\377\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\010\000\001\000\150\151\000\000' \
	> "$OUT/corpus/extack"
printf '\001\054\000\000\000\020\000\002\000\001\000\000\000\000\000\000\000\000\000\000\000\002\000\000\000\000\000\000\000\000\000\000\000\007\000\003\000\154\157\000\000\024\000\000\000\003\000\002\000\001\000\000\000\000\000\000\000\000\000\000\000' \
	> "$OUT/corpus/link"
exec "$OUT/fuzz" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -print_final_stats=1 "$OUT/corpus"
