#!/bin/sh
# pull-bad-responses: a misbehaving registry (tests/fixtures/badregistry.py)
# gets a clear error, exit 1, and a store that is still a valid layout
# holding only verified blobs; passing hiccups (429, 503, a dropped
# connection) are retried.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
. "$TESTS_DIR/fixtures/pullcheck.sh"
need python3 'runs the misbehaving registry'
need jq 'reads JSON'

badregistry_start "$(image_layout busybox)" || exit 1
S=$T/store

bad() {	# mode expected-message description
	msg=$(oci-pull -q -o "$S" "$BAD/$1/img" 2>&1 >/dev/null); rc=$?
	is "$rc" 1 "$3: exit 1"
	like "$msg" "$2" "$3: says why"
	ok "$3: store still valid, only verified blobs" store_verified "$S"
}
bad m401 'HTTP 401: badregistry says unauthorized' '401 with the registry message'
bad m403 'HTTP 403: badregistry says denied' '403 with the registry message'
bad m404 'HTTP 404: badregistry says manifest_unknown' '404 with the registry message'
bad m429 'HTTP 429: badregistry says toomanyrequests' 'persistent 429'
bad malformed 'malformed manifest' 'malformed manifest'
bad huge 'larger than 4194304 bytes' 'oversized manifest'
bad bad-mediatype 'unknown layer media type "application/x-unknown"' 'unknown media type'
bad bad-digest 'invalid digest "sha256:../../../../etc/passwd"' 'digest that is not alg:hex'
bad bad-header-digest 'digest mismatch' 'Docker-Content-Digest disagrees with the bytes'
bad corrupt 'digest mismatch' 'corrupt layer'
bad short 'truncated body' 'truncated layer'
bad long 'more than the' 'layer longer than its descriptor'
bad b404 'HTTP 404: blob unknown to badregistry' 'missing blob'
ok 'nothing escaped the store' test ! -e "$T/etc"
is "$(jq '.manifests | length' "$S/index.json")" 0 'no failed pull reached index.json'
ok 'no stray temporary files' sh -c "! ls '$S'/blobs/sha256 | grep -v '^[0-9a-f]\{64\}\$'"

for m in flaky429 flaky503 drop; do
	ok "$m: retried and pulled" oci-pull -q -o "$T/$m" "$BAD/$m/img"
	ok "$m: store verified" store_verified "$T/$m"
done
is "$(grep -c '"path": "/v2/flaky429/img/blobs/' "$BAD_LOG")" 4 '429: each blob asked twice (Retry-After honoured)'
is "$(grep '/v2/drop/img/blobs/' "$BAD_LOG" | grep -c '"range": "bytes=')" 1 'dropped connection resumed with a Range request'

# Non-distributable layers are reported, not fetched.
msg=$(oci-pull -q -o "$T/nd" "$BAD/nondist/img" 2>&1 >/dev/null); rc=$?
is "$rc" 0 'non-distributable layer: pull succeeds'
like "$msg" 'non-distributable' 'non-distributable layer reported'
ld=$(grep -c '/v2/nondist/img/blobs/' "$BAD_LOG")
is "$ld" 1 'only the config was fetched'

# Redirects: followed, and the Authorization header stays home.
: >"$BAD_LOG"
badregistry_start "$(image_layout busybox)" --basic u:p || exit 1
ok 'redirected blobs pulled' sh -c "echo p | oci-pull -q --username u --password-stdin -o '$T/rd' '$BAD/redirect/img'"
is "$(grep '/direct/' "$BAD_LOG" | grep -c '"auth": null')" "$(grep -c '/direct/' "$BAD_LOG")" 'no Authorization sent to the redirect target'
ok 'the redirect target was used' grep -q '/direct/' "$BAD_LOG"
done_testing
