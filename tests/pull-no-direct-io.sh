#!/bin/sh
# pull-no-direct-io: where the filesystem refuses O_DIRECT, when it is set
# or at the first write made with it (tests/lib/nodirect.c, preloaded,
# plays both), oci-pull writes its blobs through the page cache instead:
# the same store, verified, no partial left.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/pullcheck.sh"
SHIM=${CZ_BUILD:-$TOP/build}/tests/nodirect.so
if [ -z "${CZ_BUILD:-}" ]; then
	make -s -C "$TOP" build/tests/nodirect.so >&2 || { echo "Bail out! build failed"; exit 1; }
fi
# An ASan build wants its runtime first; the shim only wraps three calls.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

registry_start >/dev/null || exit 1
registry_push layers nodirect/layers:latest || exit 1
want=$(oci-pull -q -o "$T/plain" "$REGISTRY/nodirect/layers:latest") || exit 1
for m in fcntl write; do
	S=$T/store-$m
	dig=$(NODIRECT=$m LD_PRELOAD=$SHIM oci-pull -q -o "$S" "$REGISTRY/nodirect/layers:latest" 2>"$T/err"); st=$?
	is "$st" 0 "O_DIRECT refused at $m: the pull succeeds"
	[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
	[ "$(grep -c "nodirect: refused $m" "$T/err")" -gt 0 ]; is $? 0 '... after the refusal'
	is "$dig" "$want" '... with the same manifest'
	ok '... the store verified' store_verified "$S"
	ok '... no partial left' test -z "$(ls -A "$S/.partial")"
	is "$(ls "$S/blobs/sha256" | wc -l)" "$(ls "$T/plain/blobs/sha256" | wc -l)" '... every blob in it'
done
done_testing
