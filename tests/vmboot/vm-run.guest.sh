# vm-run.guest.sh: the checks of tests/vm-run.sh, run by sh inside the
# test host in /mnt/0 (the vmboot, vminit, vmexec binaries, the kernel,
# the bundles bb/ and deb/). Each section prints key=<value> lines.
cd /mnt/0 || exit 1
mkdir -p /tmp/d && mount -t tmpfs tmpfs /tmp/d
cp bb/rootfs.ext4 /tmp/d/bb.ext4
cp deb/rootfs.ext4 /tmp/d/deb.ext4
cp garbage.img /tmp/d/garbage.img
# vmboot makes its socket's directory under TMPDIR: it must end empty.
export TMPDIR=/tmp/vmtmp
mkdir -p $TMPDIR
# --timeout: a check that goes wrong must not hang the whole run.
VM="./vmboot -k vmlinux -d /tmp/d/bb.ext4 --timeout 120 --spec bb/config.json"
vm() { $VM "$@"; }
one() { tr '\n' '|' | sed 's/|$//'; }
left() {
	echo "left=<$(ls -A $TMPDIR; pgrep -x vmboot)>"
}
step() { echo "== $1"; }

step hello
vm -- sh -c 'echo hello; echo oops >&2; exit 7' >/tmp/o 2>/tmp/e
echo "rc=$?"
echo "stdout=<$(one </tmp/o)>"
echo "stderr=<$(one </tmp/e)>"
left

step debian
./vmboot -k vmlinux -d /tmp/d/deb.ext4,ro --spec deb/config.json -- cat /etc/os-release
echo "rc=$?"

step stdin
echo "piped=<$(printf 'abc\ndef\n' | vm -i -- sh -c 'cat; echo done' | one)>"
echo "nostdin=<$(vm -- sh -c 'cat; echo done' | one)>"

step overrides
echo "out=<$(vm -e FOO=bar -w /tmp -u nobody -- sh -c 'echo $FOO $(pwd) $(id -u) "$@"' sh x y)>"
echo "tty=<$(vm -t -- sh -c 'test -t 0 && test -t 1 && echo tty yes' | tr -d '\r')>"

step notfound
vm -- /no/such/binary >/tmp/o 2>/tmp/e
echo "rc=$?"
echo "err=<$(one </tmp/e)>"
left

step selfkill
vm -- sh -c 'kill -KILL $$'
echo "rc=$?"

step signal
# Not through the function: $! must be vmboot itself. The outputs are
# emptied here, not by the background job's redirection, which may come
# after the first look for "up" (and find the last run's).
: >/tmp/o
$VM -- sh -c 'echo up; exec sleep 1000' >/tmp/o 2>/tmp/e &
pid=$!
for i in $(seq 300); do grep -q up /tmp/o && break; sleep 0.1; done
kill -INT $pid
wait $pid
echo "rc=$?"
: >/tmp/o
$VM -- sh -c 'trap "echo TERM; exit 3" TERM; echo up; while :; do sleep 0.1; done' >/tmp/o 2>/tmp/e &
pid=$!
for i in $(seq 300); do grep -q up /tmp/o && break; sleep 0.1; done
kill -TERM $pid
wait $pid
echo "rc2=$?"
echo "trapped=<$(grep -v up /tmp/o | one)>"
left

step vmexec
mkdir -p /tmp/v
$VM --vsock /tmp/v/vm.sock -- sleep 1000 >/tmp/o 2>/tmp/e &
pid=$!
c=
for i in $(seq 300); do
	c=$(./vmexec /tmp/v/vm.sock -- sh -c 'cat /proc/$(pidof sleep)/cmdline' 2>/dev/null | tr '\0' ' ') && [ -n "$c" ] && break
	sleep 0.1
done
echo "cmdline=<${c% }>"
./vmexec /tmp/v/vm.sock -- ps -o args >/tmp/ps
echo "ps=<$(one </tmp/ps)>"
grep -q '^sleep 1000' /tmp/ps && echo ps-lists-sleep=yes
kill -TERM $pid
wait $pid
echo "rc=$?"
echo "sock=<$(ls -A /tmp/v)>"
echo "err=<$(one </tmp/e)>"
left

step timeout
t0=$(date +%s)
./vmboot -k vmlinux -d /tmp/d/bb.ext4 --spec bb/config.json --timeout 2 -- sleep 1000 >/tmp/o 2>/tmp/e
echo "rc=$?"
t1=$(date +%s)
echo "err=<$(one </tmp/e)>"
[ $((t1 - t0)) -lt 30 ] && echo quick=yes
left

step panic
vm --cmdline rdinit=/no/such/init -- true >/tmp/o 2>/tmp/e
echo "rc=$?"
echo "err=<$(one </tmp/e)>"
left

step badroot
./vmboot -k vmlinux -d /tmp/d/garbage.img,ro --spec bb/config.json -- true >/tmp/o 2>/tmp/e
echo "rc=$?"
echo "err=<$(one </tmp/e)>"
left
echo "== end"
