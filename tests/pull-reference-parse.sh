#!/bin/sh
# pull-reference-parse: references parse with distribution's grammar and
# Docker Hub's normalisation; malformed ones are usage errors (exit 2)
# before anything touches the network or the store. The normalised name
# shows in the failure message (no network here: docker.io is unreachable).
. "$(dirname "$0")/lib/tap.sh"

norm() {	# reference expected-normalised-name
	msg=$(oci-pull -q -o "$T/s" "$1" 2>&1)
	like "$msg" "pulling $2 failed" "$1 -> $2"
}
norm busybox docker.io/library/busybox:latest
norm busybox:1.36 docker.io/library/busybox:1.36
norm library/busybox docker.io/library/busybox:latest
norm docker.io/busybox docker.io/library/busybox:latest
norm index.docker.io/foo/bar:x docker.io/foo/bar:x
norm user/repo docker.io/user/repo:latest
norm localhost/a/b localhost/a/b:latest
norm 'nosuch.invalid:5000/a/b:t' 'nosuch.invalid:5000/a/b:t'
D=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
norm "busybox@$D" "docker.io/library/busybox@$D"
norm "busybox:1@$D" "docker.io/library/busybox:1@$D"

bad() {	# reference description
	fails 2 "rejected: $2" oci-pull -q -o "$T/bad" "$1"
}
bad '' 'empty'
bad 'Busybox' 'upper case in the repository'
bad 'a//b' 'empty component'
bad '/busybox' 'leading slash'
bad 'busybox/' 'trailing slash'
bad 'busy..box' 'double dot'
bad 'busybox:' 'empty tag'
bad 'busybox:-x' 'tag starting with -'
bad "busybox:$(printf 'a%.0s' $(seq 1 129))" 'tag longer than 128'
bad 'busybox@sha256:abc' 'short digest'
bad 'busybox@md5:0123456789abcdef0123456789abcdef' 'unknown digest algorithm'
bad "busybox@sha256:../../../../etc/passwd" 'digest with a path'
bad 'busybox@SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' 'upper-case algorithm'
bad 'bad_host.-x:5000/a' 'bad host'
bad 'host:99999999/a' 'port too long'
bad "$(printf 'a%.0s' $(seq 1 260))" 'name longer than 255'
ok 'nothing was created for bad references' test ! -e "$T/bad"
fails 2 'no reference' oci-pull -o "$T/bad"
fails 2 'no -o' oci-pull busybox
fails 2 'unknown option' oci-pull --bogus -o "$T/bad" busybox
ok '--help' oci-pull --help
ok '--version' oci-pull --version
done_testing
