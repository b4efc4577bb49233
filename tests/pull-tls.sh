#!/bin/sh
# pull-tls: Debian's docker-registry over TLS with a self-signed CA:
# trusted through --ca-file, refused without it (no silent fallback to
# plain HTTP), accepted with --insecure.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'pushes the test image'
need openssl 'makes the CA'

registry_start --tls || exit 1
registry_push busybox busybox:latest || exit 1
dig=$(oci-pull -q --ca-file "$REGISTRY_CA" -o "$T/s1" "$REGISTRY/busybox"); rc=$?
is "$rc" 0 'pull over TLS with --ca-file'
ok 'digest printed' test -n "$dig"
msg=$(oci-pull -q -o "$T/s2" "$REGISTRY/busybox" 2>&1); rc=$?
is "$rc" 1 'untrusted certificate: fails'
like "$msg" 'certificate' 'untrusted certificate: says so'
ok '--insecure skips verification' oci-pull -q --insecure -o "$T/s3" "$REGISTRY/busybox"
ok 'localhost name in the certificate works too' oci-pull -q --ca-file "$REGISTRY_CA" -o "$T/s4" "localhost:${REGISTRY#*:}/busybox"
done_testing
