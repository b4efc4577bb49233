#!/bin/sh
# pull-platforms: from an index oci-pull picks the host's platform, or
# --platform's (variant normalised: arm64/v8 = arm64), never an attestation
# (unknown/unknown); --all-platforms keeps the index and every image.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'pushes the test image'
need jq 'reads JSON'
[ "$(uname -m)" = x86_64 ] || skip_all 'the default-platform check assumes an amd64 host'

registry_start || exit 1
L=$(image_layout busybox-multi) || skip_all 'no busybox-multi image (arm64 busybox-static not downloadable)'
registry_push busybox-multi multi:latest || exit 1
idx=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="latest") | .digest' "$L/index.json")
amd=$(jq -r '.manifests[] | select(.platform.architecture=="amd64") | .digest' "$L/blobs/sha256/${idx#sha256:}")
arm=$(jq -r '.manifests[] | select(.platform.architecture=="arm64") | .digest' "$L/blobs/sha256/${idx#sha256:}")

S=$T/store
is "$(oci-pull -q -o "$S" "$REGISTRY/multi")" "$amd" 'default: the host platform (linux/amd64)'
is "$(jq -r '.manifests[0].platform.architecture' "$S/index.json")" amd64 'index.json entry carries the platform'
is "$(oci-pull -q -o "$S" --platform linux/arm64 "$REGISTRY/multi")" "$arm" '--platform linux/arm64'
is "$(oci-pull -q -o "$S" --platform linux/arm64/v8 "$REGISTRY/multi")" "$arm" '--platform linux/arm64/v8 (normalised)'
is "$(oci-pull -q -o "$S" --platform linux/aarch64 "$REGISTRY/multi")" "$arm" '--platform linux/aarch64 (normalised)'
fails 1 'no such platform' oci-pull -q -o "$S" --platform linux/s390x "$REGISTRY/multi"
fails 1 'attestations are never selected' oci-pull -q -o "$S" --platform unknown/unknown "$REGISTRY/multi"
fails 2 'malformed --platform' oci-pull -q -o "$S" --platform linux "$REGISTRY/multi"
fails 2 '--platform with --all-platforms' oci-pull -q -o "$S" --platform linux/amd64 --all-platforms "$REGISTRY/multi"

A=$T/all
is "$(oci-pull -q -o "$A" --all-platforms "$REGISTRY/multi")" "$idx" '--all-platforms prints the index digest'
ok 'both platform manifests stored' test -f "$A/blobs/sha256/${amd#sha256:}" -a -f "$A/blobs/sha256/${arm#sha256:}"
is "$(jq -r '.manifests[0].mediaType' "$A/index.json")" application/vnd.oci.image.index.v1+json 'index.json points at the index'
att=$(jq -r '.manifests[] | select(.platform.architecture=="unknown") | .digest' "$L/blobs/sha256/${idx#sha256:}")
ok 'attestation manifest skipped' test ! -e "$A/blobs/sha256/${att#sha256:}"
if command -v skopeo >/dev/null; then
	ok 'skopeo reads the arm64 image from the index' \
		skopeo inspect --override-arch arm64 "oci:$A:$REGISTRY/multi:latest"
fi
done_testing
