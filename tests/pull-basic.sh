#!/bin/sh
# pull-basic: oci-pull against Debian's docker-registry, anonymous: the
# layout is valid, blobs verify, index.json records the normalised
# reference, a second pull fetches nothing, two images share a store.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'pushes the test image'
need jq 'reads index.json'

registry_start || exit 1
registry_push busybox busybox:latest || exit 1
registry_push layers multi/layers:v1 || exit 1

S=$T/store
dig=$(oci-pull -q -o "$S" "$REGISTRY/busybox" 2>"$T/err"); st=$?
is "$st" 0 'pull busybox (tag defaults to latest)'
case $dig in sha256:????????????????????????????????????????????????????????????????) r=0 ;; *) r=1 ;; esac
is "$r" 0 "prints the manifest digest ($dig)"
ok 'oci-layout written' test -f "$S/oci-layout"
is "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$S/index.json")" \
	"$REGISTRY/busybox:latest" 'index.json ref name is the full normalised reference'
is "$(jq -r '.manifests[0].digest' "$S/index.json")" "$dig" 'index.json points at the printed digest'

# Every blob's name is its content's digest.
bad=0
for f in "$S"/blobs/sha256/*; do
	[ "sha256:$(sha256sum "$f" | cut -d' ' -f1)" = "sha256:${f##*/}" ] || bad=$((bad + 1))
done
is "$bad" 0 'every blob verifies'
m=$S/blobs/sha256/${dig#sha256:}
n=$(jq -r '[.config.digest, .layers[].digest][]' "$m" | while read -r b; do
	[ -f "$S/blobs/sha256/${b#sha256:}" ] && echo x; done | wc -l)
is "$n" "$(jq '.layers | length + 1' "$m")" 'config and every layer are in blobs/'
is "$(ls -A "$S/.partial" | wc -l)" 0 'no partial left behind'

# The same tag again: nothing fetched, the entry replaced, not added.
js=$(oci-pull -q --json -o "$S" "$REGISTRY/busybox:latest")
is "$(echo "$js" | jq -r '[.manifests[].layers[].status] | unique | join(",")')" present 'second pull: every layer already present'
is "$(jq '.manifests | length' "$S/index.json")" 1 'same ref name replaced in index.json'

# A second image in the same store: shared blobs, both refs listed.
d2=$(oci-pull -q -o "$S" "$REGISTRY/multi/layers:v1"); st=$?
is "$st" 0 'pull a 7-layer image into the same store'
is "$(jq '.manifests | length' "$S/index.json")" 2 'index.json lists both images'
js=$(oci-pull -q --json -o "$S" "$REGISTRY/multi/layers:v1")
is "$(echo "$js" | jq -r '.manifests[0].layers | length')" 7 '--json lists 7 layers'
is "$(echo "$js" | jq -r '.digest')" "$d2" '--json digest matches'

# By digest.
dd=$(oci-pull -q -o "$T/s2" "$REGISTRY/busybox@$dig")
is "$dd" "$dig" 'pull by digest'
is "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$T/s2/index.json")" \
	"$REGISTRY/busybox@$dig" 'digest reference recorded'

fails 1 'missing tag fails' oci-pull -q -o "$T/s3" "$REGISTRY/busybox:nope"
err=$(oci-pull -q -o "$T/s3" "$REGISTRY/busybox:nope" 2>&1)
like "$err" 'manifest unknown' 'the registry error message is shown'
fails 1 'missing repository fails' oci-pull -q -o "$T/s3" "$REGISTRY/nothing/here"
done_testing
