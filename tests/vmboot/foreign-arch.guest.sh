# foreign-arch.guest.sh: the checks of tests/vm-foreign-arch.sh, run
# by sh inside the test host in /mnt/0 (vmboot, vminit, the kernel, the
# arm64 bundle arm/ with config.json and noarch.json, the same without
# the architecture annotation). Each section prints key=<value> lines.
cd /mnt/0 || exit 1
mkdir -p /tmp/d && mount -t tmpfs tmpfs /tmp/d
cp arm/rootfs.ext4 /tmp/d/arm.ext4
export TMPDIR=/tmp/vmtmp
mkdir -p $TMPDIR
# --timeout: a check that goes wrong must not hang the whole run.
vm() { ./vmboot -k vmlinux -d /tmp/d/arm.ext4,ro --timeout 240 "$@"; }
one() { tr '\n' '|' | sed 's/|$//'; }
left() { echo "left=<$(ls -A $TMPDIR; pgrep -x vmboot)>"; }
step() { echo "== $1"; }
# argv must reach the program exactly through the interpreter, argv[0]
# too (binfmt's P flag): busybox named "uname" runs its uname applet.
cmd() {
	vm "$@" -- sh -c 'uname -m; echo "args=$#:$1|$2"; (exec -a uname /bin/busybox -m)' \
		sh a 'b c' >/tmp/o 2>/tmp/e
}

step auto
cmd --spec arm/config.json
echo "rc=$?"
echo "out=<$(one </tmp/o)>"
echo "err=<$(one </tmp/e)>"
left

step explicit
cmd --arch arm64 --spec arm/noarch.json
echo "rc=$?"
echo "out=<$(one </tmp/o)>"
echo "err=<$(one </tmp/e)>"
left

step native
# --arch amd64 over the image's arm64: no interpreter, so the kernel
# cannot run the arm64 busybox.
cmd --arch amd64 --spec arm/config.json
echo "rc=$?"
echo "err=<$(one </tmp/e)>"
left
