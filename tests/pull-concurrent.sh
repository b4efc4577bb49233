#!/bin/sh
# pull-concurrent: two oci-pull runs of one image into one store at once
# (the fixture registry is throttled so they overlap for sure). The
# second finds the first's partials locked and fetches private copies;
# both succeed, the store holds only verified blobs, no partial is left
# and index.json names the image once.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
. "$TESTS_DIR/fixtures/pullcheck.sh"
need python3 'runs the throttled registry'
need jq 'reads JSON'

L=$(image_layout layers) || exit 1
badregistry_start "$L" --throttle 20000000 || exit 1
S=$T/store
oci-pull -q -o "$S" "$BAD/ok/layers" >"$T/d1" 2>"$T/e1" &
p1=$!
# Until the first run is part-way down a layer.
for i in $(seq 1 100); do
	[ "$(find "$S/.partial" -type f -size +100k 2>/dev/null | wc -l)" -gt 0 ] && break
	sleep 0.05
done
oci-pull -q -o "$S" "$BAD/ok/layers" >"$T/d2" 2>"$T/e2"; r2=$?
wait $p1; r1=$?
is "$r1" 0 'first run succeeds'
[ "$r1" -eq 0 ] || diag "$(cat "$T/e1")"
is "$r2" 0 'second run, started while the first was downloading, succeeds'
[ "$r2" -eq 0 ] || diag "$(cat "$T/e2")"
is "$(cat "$T/d2")" "$(cat "$T/d1")" 'both print the same manifest digest'
ok 'store verified' store_verified "$S"
ok 'no partial left' test -z "$(ls -A "$S/.partial")"
is "$(jq '.manifests | length' "$S/index.json")" 1 'index.json names the image once'
n=$(jq -r '.layers | length + 2' "$S/blobs/sha256/$(cut -d: -f2 "$T/d1")")
is "$(ls "$S/blobs/sha256" | wc -l)" "$n" 'every blob of the image is in the store'
done_testing
