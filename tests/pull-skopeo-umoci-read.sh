#!/bin/sh
# pull-skopeo-umoci-read: what oci-pull writes is an OCI layout that skopeo
# and umoci read. skopeo's oci: transport splits "oci:DIR:REF" at the first
# ':' after DIR, so a ref name holding ':' (127.0.0.1:PORT/busybox:latest)
# works as long as DIR has none.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'reads the layout'
need umoci 'unpacks the layout'
need jq 'reads JSON'

registry_start || exit 1
registry_push busybox busybox:latest || exit 1
registry_push layers layers:latest || exit 1

S=$T/store
dig=$(oci-pull -q -o "$S" "$REGISTRY/busybox")
oci-pull -q -o "$S" "$REGISTRY/layers" >/dev/null
ref=$REGISTRY/busybox:latest
info=$(skopeo inspect "oci:$S:$ref" 2>&1)
is "$(echo "$info" | jq -r .Digest)" "$dig" 'skopeo inspect oci:DIR:HOST:PORT/NAME:TAG finds the image'
is "$(echo "$info" | jq -r .Architecture)" amd64 'skopeo reads its config'
ok 'skopeo copies it out of the layout' skopeo copy -q "oci:$S:$REGISTRY/layers:latest" "oci:$T/copy:x"
ok 'umoci unpacks it' umoci unpack --rootless --image "$S:$ref" "$T/bundle"
ok 'the rootfs has busybox' test -x "$T/bundle/rootfs/bin/busybox"
ok 'umoci unpacks the 7-layer image' umoci unpack --rootless --image "$S:$REGISTRY/layers:latest" "$T/b2"
ok 'whiteout applied' test ! -e "$T/b2/rootfs/data/2/note"
ok 'umoci stat' umoci stat --image "$S:$ref"
done_testing
