#!/bin/sh
# pull-commit-fails: verified blobs move into blobs/ on worker threads;
# when that fails (here an immutable blobs/sha256, chattr +i), the pull
# stops and fails naming the step, index.json names nothing, no manifest
# enters blobs/, and the next run finishes, moving the blobs verified
# before in without downloading them again.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
. "$TESTS_DIR/fixtures/pullcheck.sh"
need python3 'runs the fixture registry'
need jq 'reads JSON'
need chattr 'makes blobs/sha256 immutable'

L=$(image_layout layers) || exit 1
badregistry_start "$L" || exit 1
S=$T/store
mkdir -p "$S/blobs/sha256"
chattr +i "$S/blobs/sha256" 2>/dev/null || skip_all "chattr +i does not work under $T"
at_exit "chattr -i '$S/blobs/sha256'"

msg=$(oci-pull -q -o "$S" "$BAD/ok/layers" 2>&1); rc=$?
chattr -i "$S/blobs/sha256"
is "$rc" 1 'a blob that cannot enter the store fails the pull'
like "$msg" 'rename into blobs/: Operation not permitted' 'the message names the failing step and why'
is "$(jq '.manifests | length' "$S/index.json")" 0 'index.json names nothing'
is "$(ls "$S/blobs/sha256" | wc -l)" 0 'nothing entered blobs/'
ok 'the store is valid' store_verified "$S"

# Partials as large as their blob were verified before the failure.
for f in "$S"/.partial/sha256-*; do
	h=${f##*/sha256-}
	[ "$(stat -c %s "$f")" = "$(stat -c %s "$L/blobs/sha256/$h")" ] && echo "$h"
done >"$T/verified"
[ -s "$T/verified" ]; is $? 0 "verified blobs kept in .partial ($(wc -l <"$T/verified"))"
lines=$(wc -l <"$BAD_LOG")
dig=$(oci-pull -q -o "$S" "$BAD/ok/layers"); rc=$?
is "$rc" 0 'the next run completes'
ok 'store verified' store_verified "$S"
is "$(jq -r '.manifests[0].digest' "$S/index.json")" "$dig" 'index.json names the image'
n=$(tail -n +$((lines + 1)) "$BAD_LOG" | grep -c -F -f "$T/verified")
is "$n" 0 'no verified blob downloaded again'
done_testing
