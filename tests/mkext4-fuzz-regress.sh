#!/bin/sh
# Every input the fuzzer kept (seeds and crash-*) gives an image or a
# clean refusal (exit 1, no image left), never a crash.
. "$(dirname "$0")/lib/tap.sh"
# Under make SAN=1: ASan and UBSan exit 1 by default, as a clean refusal.
export ASAN_OPTIONS=exitcode=99 UBSAN_OPTIONS=exitcode=99:halt_on_error=1
for f in "$TESTS_DIR"/fuzz/mkext4-corpus/*; do
	[ -f "$f" ] || continue
	mkext4 -o "$T/img" -s 8M < "$f" >/dev/null 2>&1; st=$?
	ok "$(basename "$f"): exit $st" test $st -le 1
	[ $st -eq 0 ] || ok "$(basename "$f"): no image left" test ! -e "$T/img"
	rm -f "$T/img"
done
done_testing
