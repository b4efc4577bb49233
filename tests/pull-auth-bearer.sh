#!/bin/sh
# pull-auth-bearer: the Docker token protocol (WWW-Authenticate Bearer
# realm/service/scope, "token" or "access_token", expires_in). distribution
# 2.8's token auth needs a token-signing setup, so the token server here is
# tests/fixtures/badregistry.py playing both registry and token server.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
need python3 'runs the fixture registry and token server'
L=$(image_layout busybox) || exit 1
export HOME=$T/home
unset DOCKER_CONFIG

badregistry_start "$L" --bearer anon || exit 1
ok 'anonymous bearer token' oci-pull -q -o "$T/s1" "$BAD/ok/img"
ok 'the token server was asked for the repository scope' \
	grep -q 'scope=repository%3Aok%2Fimg%3Apull' "$BAD_LOG"
ok 'blobs fetched with the bearer token' sh -c "grep '/blobs/' '$BAD_LOG' | grep -q '\"auth\": \"Bearer\"'"

badregistry_start "$L" --bearer bob:pw --token-key access_token || exit 1
msg=$(oci-pull -q -o "$T/s2" "$BAD/ok/img" 2>&1); rc=$?
is "$rc" 1 'credentialed token server without credentials: fails'
like "$msg" 'token server: bad credentials' 'the token server error is shown'
ok 'credentials from --password-stdin, "access_token" answer' \
	sh -c "echo pw | oci-pull -q --username bob --password-stdin -o '$T/s3' '$BAD/ok/img'"
mkdir -p "$HOME/.docker"
printf '{"auths":{"%s":{"username":"bob","password":"pw"}}}\n' "$BAD" >"$HOME/.docker/config.json"
ok 'credentials from config.json' oci-pull -q -o "$T/s4" "$BAD/ok/img"
rm "$HOME/.docker/config.json"

# Tokens that expire during a slow pull are renewed.
badregistry_start "$(image_layout layers)" --bearer anon --token-ttl 2 --throttle 4000000 || exit 1
ok 'expiring tokens renewed mid-pull' oci-pull -q -j 2 -o "$T/s5" "$BAD/ok/img"
n=$(grep -c '"path": "/token' "$BAD_LOG")
[ "$n" -gt 1 ]; is $? 0 "the token was fetched again ($n times)"
done_testing
