#!/bin/sh
# vmboot killed by SIGKILL cannot remove the directory it made for its
# vsock sockets (vmboot.<pid>.XXXXXX in TMPDIR); the next vmboot removes
# it, and only what is safely stale: inside the test host, a container
# runs, vmboot is killed mid-run (its directory is left, with the
# sockets), then a second run ends with TMPDIR holding nothing of either.
# Left alone: a directory of a live pid, one whose lock is held (a vmboot
# of another PID namespace), one holding a file vmboot did not make,
# names not in the pattern, and a symlink.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"

need qemu-system-x86_64 'runs the test host'
need vmboot 'is under test (make)'
need vminit 'is under test (make)'
need oci-unpack 'unpacks the image'
need mkext4 'writes the root filesystem'
need flock 'holds a lock as another vmboot would'

cd "$TOP" || exit 1
paths=$(kernel/build) || { echo 'Bail out! kernel/build failed'; exit 1; }
m=$T/m
mkdir -p "$m/bb"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$BIN/vmboot" "$BIN/vminit" "$m/"
layout=$(image_layout busybox) || { echo 'Bail out! image busybox'; exit 1; }
oci-unpack -i "$layout" --bundle "$m/bb" latest | mkext4 -o "$m/bb/rootfs.ext4" ||
	{ echo 'Bail out! busybox rootfs'; exit 1; }

cat >"$m/run.sh" <<'RUN'
cd /mnt/0
mkdir -p /tmp/d && mount -t tmpfs tmpfs /tmp/d && cp -r vmlinux vmboot vminit bb /tmp/d/
cd /tmp/d
export TMPDIR=/tmp/vmtmp
mkdir -p $TMPDIR
VM="./vmboot -k vmlinux -d bb/rootfs.ext4,ro --timeout 300 --spec bb/config.json"
ls1() { ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }

$VM -- sh -c 'echo up; exec sleep 1000' >/tmp/o 2>/tmp/e &
pid=$!
for i in $(seq 600); do grep -q up /tmp/o && break; sleep 0.1; done
kill -KILL $pid
wait $pid
echo "killed rc=$?"
d=$(ls -A $TMPDIR)
echo "after kill=<$d> pid=$pid"
echo "its files=<$(ls1 $TMPDIR/$d)>"

# Not stale, or not ours to judge: each must survive the next run.
mkdir $TMPDIR/vmboot.1.live00		# pid 1 runs
mkdir $TMPDIR/vmboot.99999.locked && : >$TMPDIR/vmboot.99999.locked/vm.sock
flock $TMPDIR/vmboot.99999.locked sleep 1000 & holder=$!
mkdir $TMPDIR/vmboot.99998.other0 && : >$TMPDIR/vmboot.99998.other0/notours &&
	: >$TMPDIR/vmboot.99998.other0/vm.sock
mkdir $TMPDIR/vmboot.XYZ123 $TMPDIR/vmboot.99997.toolong
mkdir -p /tmp/target && : >/tmp/target/vm.sock
ln -s /tmp/target $TMPDIR/vmboot.99996.link00
# Stale, as a SIGKILL leaves it.
mkdir $TMPDIR/vmboot.99995.stale0 && : >$TMPDIR/vmboot.99995.stale0/vm.sock_1024
sleep 0.5

$VM -- true
echo "next rc=$?"
echo "left=<$(ls1 $TMPDIR)>"
echo "other=<$(ls1 $TMPDIR/vmboot.99998.other0)>"
echo "locked=<$(ls1 $TMPDIR/vmboot.99999.locked)>"
echo "target=<$(ls1 /tmp/target)>"
kill $holder 2>/dev/null
echo "vmboots=<$(pgrep -x vmboot)>"
RUN

"$TOP/tests/vmhost/run" --timeout 600 --disk "$m" -- sh /mnt/0/run.sh \
	>"$T/out" 2>"$T/err"
is "$?" 0 'the test host ran the script'
v() { sed -n "s/^$1=<\(.*\)>.*/\1/p" "$T/out"; }
like "$(cat "$T/out")" 'killed rc=137' 'vmboot was killed by SIGKILL mid-run'
like "$(v 'after kill')" "vmboot.$(sed -n 's/.* pid=//p' "$T/out")." \
	'it left its directory, named with its pid, behind'
is "$(v 'its files')" 'vm.sock' 'with the vsock socket in it'
like "$(cat "$T/out")" 'next rc=0' 'the next run succeeds'
is "$(v left)" 'vmboot.1.live00 vmboot.99996.link00 vmboot.99997.toolong vmboot.99998.other0 vmboot.99999.locked vmboot.XYZ123' \
	'and removes the stale directories, the killed one and an old one; no directory of its own is left'
is "$(v other)" 'notours vm.sock' 'a directory holding a file vmboot did not make is untouched'
is "$(v locked)" 'vm.sock' 'a directory whose lock is held is untouched'
is "$(v target)" 'vm.sock' 'a symlink is not followed'
is "$(v vmboots)" '' 'no vmboot process is left'
dump_if_failed "$T/out" "$T/err"
done_testing
