#!/bin/sh
# pull-digest-mismatch: a blob whose bytes do not match its digest never
# enters blobs/: against the real docker-registry (a layer corrupted in its
# storage, which it serves unverified) and against badregistry.py. The
# store stays valid, and a partial that no longer verifies is dropped.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
. "$TESTS_DIR/fixtures/pullcheck.sh"
need skopeo 'pushes the test image'
need jq 'reads JSON'

L=$(image_layout busybox) || exit 1
registry_start || exit 1
registry_push busybox busybox:latest || exit 1
idx=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="latest") | .digest' "$L/index.json")
layer=$(jq -r '.layers[0].digest' "$L/blobs/sha256/${idx#sha256:}")
data=$(find "$T" -path "*/blobs/sha256/*/${layer#sha256:}/data")
ok 'found the layer in the registry storage' test -f "$data"
# Same size, one byte different.
printf 'X' | dd of="$data" bs=1 seek=1000 conv=notrunc 2>/dev/null

S=$T/store
msg=$(oci-pull -q -o "$S" "$REGISTRY/busybox" 2>&1); rc=$?
is "$rc" 1 'real registry, corrupt layer: exit 1'
like "$msg" "blob $layer: digest mismatch" 'says which blob and why'
ok 'store valid, only verified blobs' store_verified "$S"
ok 'the corrupt layer is not in blobs/' test ! -e "$S/blobs/sha256/${layer#sha256:}"
ok 'nor kept as a partial' test ! -s "$S/.partial/sha256-${layer#sha256:}"
is "$(jq '.manifests | length' "$S/index.json")" 0 'index.json untouched'

# A stale partial (wrong bytes) is resumed, fails to verify, and is
# fetched once more from the start.
badregistry_start "$L" || exit 1
size=$(jq -r '.layers[0].size' "$L/blobs/sha256/${idx#sha256:}")
head -c $((size / 2)) /dev/zero >"$S/.partial/sha256-${layer#sha256:}"
ok 'a corrupt partial is re-fetched from scratch' oci-pull -q -o "$S" "$BAD/ok/img"
ok 'store verified' store_verified "$S"
is "$(grep "/blobs/$layer" "$BAD_LOG" | jq -r .range | tr '\n' ' ')" "bytes=$((size / 2))- null " \
	'first a Range request, then the whole blob'
done_testing
