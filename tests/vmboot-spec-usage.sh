#!/bin/sh
# vmboot --spec on the host, without booting: the options that go with it
# (usage errors exit 2), a bad config.json or a missing vminit (exit 1,
# saying which), and, where this /dev/kvm refuses to boot, nothing left
# behind: the socket's temporary directory goes with vmboot.
. "$(dirname "$0")/lib/tap.sh"

need vmboot 'is under test (make)'

printf '{"ociVersion":"1.0.2","process":{"args":["true"],"cwd":"/"},"root":{"path":"rootfs"}}' >"$T/config.json"
: >"$T/rootfs.ext4"
echo 'not a kernel' >"$T/kernel"
: >"$T/vminit"

like "$(vmboot --help)" '--spec CONFIG.JSON' '--help shows --spec'
fails 2 '--spec needs a rootfs disk' vmboot -k "$T/kernel" --spec "$T/config.json"
fails 2 '-e wants K=V' vmboot -k "$T/kernel" -d "$T/rootfs.ext4" --spec "$T/config.json" -e FOO
fails 2 '--timeout wants seconds' vmboot -k "$T/kernel" -d "$T/rootfs.ext4" --spec "$T/config.json" --timeout soon
fails 2 '-t without --spec is a usage error' vmboot -k "$T/kernel" -t
fails 2 'ARGS without --spec are a usage error' vmboot -k "$T/kernel" -- true
echo '{"process":{"args":"true"}}' >"$T/bad.json"
err=$(vmboot -k "$T/kernel" -d "$T/rootfs.ext4" --spec "$T/bad.json" 2>&1); st=$?
is "$st" 1 'a bad config.json fails (exit 1)'
like "$err" 'process.args' 'naming the field'
err=$(CZ_VMINIT=$T/none vmboot -k "$T/kernel" -d "$T/rootfs.ext4" --spec "$T/config.json" 2>&1); st=$?
is "$st" 1 'a missing vminit fails (exit 1)'
like "$err" "$T/none" 'naming it'
fails 2 'no command at all is a usage error' \
	vmboot -k "$T/kernel" -d "$T/rootfs.ext4" --init "$T/vminit" \
	--spec "$(printf '{"process":{"cwd":"/"}}' >"$T/noargs.json"; echo "$T/noargs.json")"

# It gets as far as the kernel (or the KVM probe) and stops there: the
# socket's directory made under TMPDIR must be gone.
mkdir "$T/tmp"
TMPDIR=$T/tmp vmboot -k "$T/kernel" -d "$T/rootfs.ext4" --init "$T/vminit" \
	--spec "$T/config.json" -- true >/dev/null 2>&1
st=$?
[ "$st" -ne 0 ]; is $? 0 'a kernel that is none fails'
is "$(ls -A "$T/tmp")" '' 'and leaves nothing in TMPDIR'
done_testing
