#!/bin/sh
# pull-many-jobs: -j 12 on an image of 12 layers, each larger than a
# write buffer, so every transfer holds a buffer of the direct writer at
# once, more than the pool keeps in flight (dwrite.h, DW_BUFS): the pull
# neither waits for nothing nor loses a byte.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
. "$TESTS_DIR/fixtures/pullcheck.sh"
need python3 'runs the registry'
need jq 'reads JSON'

mkdir -p "$T/src"
tars=
for i in $(seq 1 12); do
	mkdir -p "$T/src/$i"
	head -c 1500000 /dev/urandom >"$T/src/$i/data"
	tar -C "$T/src/$i" -cf "$T/src/$i.tar" data || exit 1
	tars="$tars $T/src/$i.tar"
done
# shellcheck disable=SC2086
layout_from_tars "$T/layout" latest $tars || exit 1
# Throttled, so that all transfers are part-way at once.
badregistry_start "$T/layout" --throttle 1000000 || exit 1
S=$T/store
dig=$(timeout 20 oci-pull -q -j 12 -o "$S" "$BAD/ok/img" 2>"$T/err"); st=$?
is "$st" 0 'pull with 12 transfers at once succeeds'
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
ok 'store verified' store_verified "$S"
ok 'no partial left' test -z "$(ls -A "$S/.partial")"
n=$(jq -r '.layers | length + 2' "$S/blobs/sha256/${dig#sha256:}")
is "$(ls "$S/blobs/sha256" | wc -l)" "$n" 'every blob of the image is in the store'
done_testing
