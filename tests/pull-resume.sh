#!/bin/sh
# pull-resume: a pull killed with SIGKILL mid-layer (the fixture registry
# is throttled so it is mid-layer for sure) leaves a valid store; the next
# run finishes it, asking only for what is missing: partial blobs with a
# Range from their current size, complete blobs not at all.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
. "$TESTS_DIR/fixtures/pullcheck.sh"
need python3 'runs the throttled registry'
need jq 'reads JSON'

L=$(image_layout layers) || exit 1
badregistry_start "$L" --throttle 3000000 || exit 1
S=$T/store
oci-pull -q -j 3 -o "$S" "$BAD/ok/layers" >/dev/null 2>&1 &
pid=$!
# Wait until some layer is part-way down, then kill.
for i in $(seq 1 100); do
	[ "$(find "$S/.partial" -type f -size +100k 2>/dev/null | wc -l)" -gt 0 ] && break
	sleep 0.05
done
sleep 0.5
kill -9 $pid; wait $pid 2>/dev/null
ok 'killed pull left a valid store with only verified blobs' store_verified "$S"
is "$(jq '.manifests | length' "$S/index.json")" 0 'killed pull recorded nothing in index.json'
parts=$(find "$S/.partial" -type f -size +0 | wc -l)
[ "$parts" -gt 0 ]; is $? 0 "partial blobs kept ($parts)"
# What the store holds before the second run.
for f in "$S"/.partial/sha256-*; do
	[ -s "$f" ] && echo "sha256:${f##*/sha256-} $(stat -c %s "$f")"
done >"$T/partials"
ls "$S/blobs/sha256" | sed 's/^/sha256:/' >"$T/complete"
lines=$(wc -l <"$BAD_LOG")

dig=$(oci-pull -q -o "$S" "$BAD/ok/layers"); rc=$?
is "$rc" 0 'second run completes'
ok 'store verified' store_verified "$S"
ok 'no partial left' test -z "$(ls -A "$S/.partial")"
tail -n +$((lines + 1)) "$BAD_LOG" | jq -r 'select(.path | test("/blobs/")) | "\(.path | sub(".*/blobs/"; "")) \(.range)"' >"$T/asked"
bad=0
while read -r b n; do
	grep -qx "$b bytes=$n-" "$T/asked" || { diag "partial $b ($n bytes) not resumed"; bad=1; }
done <"$T/partials"
is "$bad" 0 'every partial blob resumed with Range: bytes=SIZE-'
bad=0
while read -r b; do
	grep -q "^$b " "$T/asked" && { diag "complete $b fetched again"; bad=1; }
done <"$T/complete"
is "$bad" 0 'complete blobs not fetched again'
n=$(jq -r '.layers | length + 1' "$S/blobs/sha256/${dig#sha256:}")
is "$(($(wc -l <"$T/asked") + $(wc -l <"$T/complete")))" "$n" \
	'every missing blob asked for exactly once'
done_testing
