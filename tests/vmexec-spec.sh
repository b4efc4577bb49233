#!/bin/sh
# vmexec --spec: a container and its main process from the config.json
# that oci-unpack --bundle writes for the busybox test image, and the
# command line overriding it field by field.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"
. "$TESTS_DIR/fixtures/images.sh"
need jq 'editing config.json'
[ -x "$BIN/oci-unpack" ] && [ -x "$BIN/mkext4" ] || skip_all 'oci-unpack and mkext4 not built'

lay=$(image_layout busybox) || { echo 'Bail out! no busybox image'; exit 1; }
cd "$T" || exit 1
ok 'oci-unpack --bundle' oci-unpack -i "$lay" latest --bundle b -C b/rootfs
vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
n=0
next() { n=$((n + 1)); C=ctr-$$-s$n; }

next
out=$(vx -c $C --spec b/config.json -n -- sh -c 'echo hello; exit 7'); st=$?
is "$out/$st" hello/7 'the bundle runs, ARGS replacing process.args, exit status kept'
next
is "$(echo 'echo from-image-cmd; id -u' | vx -c $C --spec b/config.json)" 'from-image-cmd
0' "process.args from the image's Cmd (sh), reading our stdin"
next
is "$(vx -c $C --spec b/config.json -n -- sh -c 'echo $PATH')" \
	/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin 'process.env'
next
is "$(vx -c $C --spec b/config.json -n -e PATH=/bin -e FOO=bar -- sh -c 'echo $PATH $FOO')" \
	'/bin bar' '-e replaces a variable of the spec and adds one'
next
is "$(vx -c $C --spec b/config.json -n -- grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/self/status | tr -s '\t' ' ')" \
	'CapEff: 0000000020000420
CapBnd: 0000000020000420
NoNewPrivs: 1' 'capabilities by name and noNewPrivileges'
next
is "$(vx -c $C --spec b/config.json -n -- sh -c 'ulimit -n; hostname')" '1024
cz' 'rlimits and hostname'
next
is "$(vx -c $C --spec b/config.json -n --rlimit nofile=100:200 --hostname other -u nobody \
	-- sh -c 'ulimit -n; ulimit -Hn; hostname; id -u')" '100
200
other
65534' 'options override rlimits, hostname and user'

# A config with the rest of the subset: user ids and groups, cwd (created),
# masked paths, a memory limit; then a read-only root.
jq '.process.user = {uid: 1000, gid: 1000, additionalGids: [50, 60]} |
    .process.cwd = "/tmp/work" |
    .linux = {maskedPaths: ["/etc/hostname"], resources: {memory: {limit: 33554432}, pids: {limit: 64}}}' \
	b/config.json >b/c2.json
next
out=$(vx -c $C --spec b/c2.json -n -- sh -c 'id -u; id -g; id -G; pwd; cat /etc/hostname | wc -c')
is "$out" '1000
1000
1000 50 60
/tmp/work
0' 'user ids, additionalGids, cwd (created), maskedPaths'
jq '.root.readonly = true' b/config.json >b/c3.json
next
is "$(vx -c $C --spec b/c3.json -n -- sh -c 'touch /x 2>/dev/null || echo read-only')" read-only \
	'root.readonly'
next
vx -c $C --spec b/c2.json -n -- sh -c 'x=a; while :; do x=$x$x$x$x; done' 2>err; st=$?
is $st 137 'linux.resources.memory.limit: killed at the limit'
like "$(cat err)" 'OOM killer' 'and reported'

# The bundle's rootfs as an ext4 image from mkext4, on a loop device:
# --rootfs overrides root.path, as vmboot passes the guest's disk.
ok 'mkext4 image of the bundle' sh -c "oci-unpack -i '$lay' latest | mkext4 -o img.ext4"
L2=$(losetup -f --show img.ext4) && at_exit "losetup -d $L2"
next
is "$(vx -c $C --spec b/config.json --rootfs "$L2" -n -- cat /etc/hostname)" cz-test \
	'--rootfs replaces root.path (an ext4 image)'

# Broken configs: refused before anything is created, the field named.
jq '.process.args = "sh"' b/config.json >bad1.json
next
fails 125 'a bad config.json: exit 125' vx -c $C --spec bad1.json -n
like "$(vx -c $C --spec bad1.json -n 2>&1)" 'bad1.json: process.args: not an array of strings' \
	'the field is named'
jq '.process.capabilities.bounding += ["CAP_FLY"]' b/config.json >bad2.json
like "$(vx -c $C --spec bad2.json -n -- true 2>&1)" 'process.capabilities.bounding: unknown capability "CAP_FLY"' \
	'an unknown capability is named'
like "$(vx -c $C --spec missing.json -n -- true 2>&1)" 'missing.json: No such file' 'a missing file'
jq 'del(.process.args)' b/config.json >noargs.json
fails 2 'no process.args and no ARGS: usage' vx -c $C --spec noargs.json -n
# maskedPaths and readonlyPaths: absent, vminit's defaults (runtime-spec's);
# given empty, none at all (A_NO_MASKED, A_NO_RO_PATHS).
masks="grep -cE ' /proc/(keys|sys|bus) ' /proc/self/mountinfo"
jq 'del(.linux.maskedPaths, .linux.readonlyPaths)' b/config.json >dflt.json
next
is "$(vx -c $C --spec dflt.json -n -- sh -c "$masks")" 3 'no maskedPaths, readonlyPaths: the defaults'
jq '.linux.maskedPaths = [] | .linux.readonlyPaths = []' b/config.json >none.json
next
is "$(vx -c $C --spec none.json -n -- sh -c "$masks")" 0 'empty maskedPaths and readonlyPaths: none'
jq '.linux.maskedPaths = [] | .linux.readonlyPaths = ["/proc/bus"]' b/config.json >some.json
next
is "$(vx -c $C --spec some.json -n -- sh -c "$masks")" 1 'empty maskedPaths, one readonlyPath: just that one'
ok 'vminit survived all of it' vx -c ctr-$$-s1 -n -- true
done_testing
