#!/bin/sh
# pull-tls-probe: oci-pull asks a loopback registry in plain HTTP first;
# a TLS server there is still reached over TLS and verified, whether it
# answers plain HTTP with 400 (Go's docker-registry) or just closes the
# connection (Python's ssl). A name that is not loopback never gets
# plain HTTP without --insecure.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
need skopeo 'pushes the test image'
need openssl 'makes the CA'
need python3 'runs the TLS fixture registry that drops plain HTTP'

# Go's TLS server answers a plain request with 400.
registry_start --tls || exit 1
registry_push busybox busybox:latest || exit 1
CA=$REGISTRY_CA
CZ_DEBUG=1 oci-pull -q --ca-file "$CA" -o "$T/s1" "$REGISTRY/busybox" >/dev/null 2>"$T/err1"; rc=$?
is "$rc" 0 'Go TLS registry on loopback: pulled'
like "$(cat "$T/err1")" "ping https://$REGISTRY/v2/" 'Go TLS registry: pinged over TLS'
msg=$(oci-pull -q -o "$T/s2" "$REGISTRY/busybox" 2>&1); rc=$?
is "$rc" 1 'Go TLS registry, untrusted certificate: fails'
like "$msg" 'certificate' 'Go TLS registry, untrusted certificate: says so'

# badregistry.py over TLS (Python's ssl) drops a plain connection.
badregistry_start "$(image_layout busybox)" --tls-cert "$(dirname "$CA")/server.pem" \
	--tls-key "$(dirname "$CA")/server.key" || exit 1
got=$(CZ_DEBUG=1 oci-pull -q --ca-file "$CA" -o "$T/s3" "$BAD/ok/busybox" 2>"$T/err3"); rc=$?
is "$rc" 0 'TLS server that closes plain connections: pulled'
[ "$rc" = 0 ] || diag "$(cat "$T/err3")"
ok 'TLS server that closes plain connections: a manifest digest' test -n "$got"
like "$(cat "$T/err3")" "ping https://$BAD/v2/" 'TLS server that closes plain connections: pinged over TLS'
msg=$(oci-pull -q -o "$T/s4" "$BAD/ok/busybox" 2>&1); rc=$?
is "$rc" 1 'TLS server that closes plain connections, untrusted certificate: fails'
like "$msg" 'certificate' 'TLS server that closes plain connections, untrusted certificate: says so'

# A plain registry under a name that is not loopback (this host's name,
# when it resolves to 127.0.0.1, where the registry listens): TLS only,
# unless --insecure.
registry_start || exit 1
registry_push busybox busybox:latest || exit 1
host=$(hostname)
case $(getent ahostsv4 "$host" 2>/dev/null | head -n 1) in
"127.0.0.1 "*)
	fails 1 'plain registry under a non-loopback name: no plain HTTP' \
		oci-pull -q -o "$T/s5" "$host:${REGISTRY#*:}/busybox"
	ok 'plain registry under a non-loopback name, --insecure: pulled' \
		oci-pull -q --insecure -o "$T/s6" "$host:${REGISTRY#*:}/busybox"
	;;
*)
	echo "ok $((_tap_n + 1)) # skip $host does not resolve to 127.0.0.1"
	_tap_n=$((_tap_n + 1))
	;;
esac
ok 'plain registry on loopback: pulled' oci-pull -q -o "$T/s7" "$REGISTRY/busybox"
done_testing
