#!/bin/sh
# fixtures-registry.sh: the test registry starts plain, with htpasswd and
# with TLS, and the offline-built images push into it with the shapes the
# other tests rely on.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'pushes test images'
need umoci 'builds test images'

registry_start || { echo 'Bail out! registry did not start'; exit 1; }
ok 'plain registry answers /v2/' curl -sf "$REGISTRY_URL/v2/"
ok 'busybox image pushes' registry_push busybox library/busybox
ok 'two-platform index pushes' registry_push busybox-multi multi
ok 'multi-layer image pushes' registry_push layers layers
idx=$(curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' "$REGISTRY_URL/v2/multi/manifests/latest")
is "$(echo "$idx" | jq -r '[.manifests[].platform | .os + "/" + .architecture] | join(" ")')" \
	'linux/amd64 linux/arm64 unknown/unknown' 'index lists amd64, arm64 and an attestation'
man=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/layers/manifests/latest")
is "$(echo "$man" | jq '.layers | length')" 7 'layers image has 7 layers'

deb=$(image_layout debian)
ok 'debian image is a layout skopeo reads' skopeo inspect --raw "oci:$deb:latest"
ok 'debian image pushes' registry_push debian debian
man=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/debian/manifests/latest")
is "$(echo "$man" | jq '.layers | length')" 2 'debian image has 2 layers'

registry_start --htpasswd user:secret || { echo 'Bail out! registry did not start'; exit 1; }
fails 22 'htpasswd registry refuses anonymous' curl -sf "$REGISTRY_URL/v2/"
ok 'htpasswd registry takes the password' curl -sf -u user:secret "$REGISTRY_URL/v2/"

registry_start --tls || { echo 'Bail out! registry did not start'; exit 1; }
ok 'TLS registry verifies with its CA' curl -sf --cacert "$REGISTRY_CA" "$REGISTRY_URL/v2/"
fails 60 'TLS registry fails without its CA' curl -sf "$REGISTRY_URL/v2/"
done_testing
