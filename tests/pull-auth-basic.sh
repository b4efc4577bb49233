#!/bin/sh
# pull-auth-basic: Debian's docker-registry with htpasswd (basic auth):
# credentials from --username/--password-stdin, from ~/.docker/config.json
# "auths", and from a credential helper (credHelpers and credsStore);
# none or wrong ones give the registry's error.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'pushes the test image'
need htpasswd 'writes the registry password file'

registry_start --htpasswd alice:s3cret || exit 1
REGISTRY_AUTH=alice:s3cret registry_push busybox busybox:latest || exit 1
export HOME=$T/home DOCKER_CONFIG=
unset DOCKER_CONFIG
mkdir -p "$HOME/.docker"

msg=$(oci-pull -q -o "$T/s0" "$REGISTRY/busybox" 2>&1); rc=$?
is "$rc" 1 'no credentials: fails'
like "$msg" 'authentication required' 'no credentials: the registry says why'
msg=$(echo wrong | oci-pull -q --username alice --password-stdin -o "$T/s0" "$REGISTRY/busybox" 2>&1); rc=$?
is "$rc" 1 'wrong password: fails'
like "$msg" 'HTTP 401' 'wrong password: 401 reported'
ok '--username with --password-stdin' sh -c "printf 's3cret\n' | oci-pull -q --username alice --password-stdin -o '$T/s1' '$REGISTRY/busybox'"
fails 2 '--username without --password-stdin is a usage error' oci-pull -q --username alice -o "$T/s1" "$REGISTRY/busybox"

auth=$(printf alice:s3cret | base64)
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$auth" >"$HOME/.docker/config.json"
ok 'config.json auths (host:port key)' oci-pull -q -o "$T/s2" "$REGISTRY/busybox"
printf '{"auths":{"https://%s/v2/":{"auth":"%s"}}}\n' "$REGISTRY" "$auth" >"$HOME/.docker/config.json"
ok 'config.json auths (URL key)' oci-pull -q -o "$T/s3" "$REGISTRY/busybox"

# A credential helper, as docker-credential-NAME get speaks it.
mkdir -p "$T/helpers"
cat >"$T/helpers/docker-credential-cztest" <<'H'
#!/bin/sh
[ "$1" = get ] || exit 1
read -r server
echo "$server" >>"$HELPER_LOG"
printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}\n' "$server"
H
chmod +x "$T/helpers/docker-credential-cztest"
export PATH="$T/helpers:$PATH" HELPER_LOG=$T/helper.log
printf '{"credHelpers":{"%s":"cztest"}}\n' "$REGISTRY" >"$HOME/.docker/config.json"
ok 'credHelpers' oci-pull -q -o "$T/s4" "$REGISTRY/busybox"
is "$(tail -n1 "$HELPER_LOG")" "$REGISTRY" 'the helper was asked for this registry'
printf '{"credsStore":"cztest"}\n' >"$HOME/.docker/config.json"
ok 'credsStore' oci-pull -q -o "$T/s5" "$REGISTRY/busybox"
printf '{"credsStore":"missing-helper"}\n' >"$HOME/.docker/config.json"
fails 1 'a missing helper: fails with the registry error' oci-pull -q -o "$T/s6" "$REGISTRY/busybox"
done_testing
