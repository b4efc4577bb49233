#!/bin/sh
# vm-cold-start: a container's cold start, image already pulled and made
# into an ext4 rootfs (issue 9): from the VMM's launch to the container's
# command done and the VMM exited, wall clock, inside the test host under
# the same KVM. Side by side:
#   cz    vmboot -k vmlinux -d rootfs.ext4,ro --spec config.json -- CMD
#         (vminit as /init, the rootfs mounted in a new mount, PID, UTS
#         and IPC namespace, CMD's stdio over vsock, OP_SHUTDOWN)
#   qemu  qemu-system-x86_64 -M microvm -accel kvm: the same vmlinux, the
#         same rootfs as a read-only virtio-blk /dev/vda mounted as root,
#         the same memory (256 MiB), 1 vCPU and vmboot's kernel options;
#         init=/bin/sh runs the same CMD and then `reboot -f` (QEMU has no
#         vminit: its side does no container set-up, no namespaces and no
#         host protocol, so it is the least work a VM can do to run CMD;
#         reboot=t with -no-reboot makes the reset end QEMU, as vmboot's
#         reboot ends it).
# CMD is `echo cz-cold-start`, whose output each side must print. RUNS
# (default 5) after one discarded warm-up each, medians, then the ratio.
set -e
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CZ_BIN:-$TOP/build/bin}
RUNS=${RUNS:-5}
MEM=256
export CZ_CACHE=${CZ_CACHE:-/var/cache/cz} TESTS_DIR=$TOP/tests
. "$TOP/tests/fixtures/images.sh"
need() { command -v "$1" >/dev/null || { echo "vm-cold-start: needs $1" >&2; exit 1; }; }
need qemu-system-x86_64
cd "$TOP"
paths=$(kernel/build)
W=$(mktemp -d "${TMPDIR:-/tmp}/cz-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
m=$W/m
mkdir -p "$m/bb"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$BIN/vmboot" "$BIN/vminit" "$TOP/tests/bench/fresh-pages.py" "$m/"
layout=$(image_layout busybox)
"$BIN/oci-unpack" -i "$layout" --bundle "$m/bb" latest | "$BIN/mkext4" -o "$m/bb/rootfs.ext4"

# vmboot's own kernel options (DEFAULT_CMDLINE in vmboot/main.c), but
# reboot=t: microvm has no keyboard controller to reset through. Without
# ACPI (the cz kernel has none) QEMU announces its virtio-mmio devices on
# the command line, as vmboot does.
CL="reboot=t panic=-1 8250.nr_uarts=1 no_timer_check noreplace-smp quiet console=ttyS0"
# No "--" before init's arguments: QEMU appends its virtio_mmio.device=
# after ours, and "--" would hand it to init; words without "=" reach
# init anyway.
CL="$CL root=/dev/vda ro rootfstype=ext4 init=/bin/sh -c \"echo cz-cold-start; reboot -f\""
# Files in the test host's memory, not on its 9p share: a warm page cache.
cat >"$m/bench.sh" <<RUN
mkdir -p /tmp/b && mount -t tmpfs tmpfs /tmp/b && cp -r /mnt/0/* /tmp/b/ && cd /tmp/b
now() { /usr/bin/date +%s%N; }
# Fresh pages before each VMM launch (tests/bench/fresh-pages.py).
soak() { python3 fresh-pages.py; }
for i in \$(seq 0 $RUNS); do
	soak
	t0=\$(now)
	out=\$(./vmboot -k vmlinux -m $MEM -d bb/rootfs.ext4,ro --spec bb/config.json \
		-- echo cz-cold-start 2>/tmp/b/err)
	rc=\$?
	t1=\$(now)
	echo "run \$i vmboot rc=\$rc ms=\$(( (t1 - t0) / 1000000 )) out=<\$out>"
	soak
	t0=\$(now)
	qemu-system-x86_64 -M microvm,acpi=off -accel kvm -cpu host -m $MEM -smp 1 \
		-nodefaults -no-user-config -nographic -no-reboot -serial stdio \
		-drive file=bb/rootfs.ext4,if=none,format=raw,readonly=on,id=root \
		-device virtio-blk-device,drive=root \
		-kernel vmlinux -append '$CL' >/tmp/b/out 2>/tmp/b/err
	rc=\$?
	t1=\$(now)
	# The console also carries the kernel's few messages that quiet keeps.
	tr -d '\\r' </tmp/b/out | grep -qx 'cz-cold-start' && out=cz-cold-start || out=\$(cat /tmp/b/out)
	echo "run \$i qemu rc=\$rc ms=\$(( (t1 - t0) / 1000000 )) out=<\$out>"
done
RUN
"$TOP/tests/vmhost/run" --timeout 1200 --disk "$m" -- sh /mnt/0/bench.sh >"$W/out"

# A run counts when its VMM exited 0 and printed the command's output.
bad=$(grep '^run ' "$W/out" | grep -v 'rc=0 ms=[0-9]* out=<cz-cold-start>$' || true)
if [ -n "$bad" ]; then
	echo "vm-cold-start: a run failed:" >&2
	cat "$W/out" >&2
	exit 1
fi
median() {	# side
	grep "^run [1-9][0-9]* $1 " "$W/out" | sed 's/.* ms=\([0-9]*\).*/\1/' | sort -n |
	awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'
}
cz=$(median vmboot); qm=$(median qemu)
echo "cold start, busybox rootfs already on disk, launch to the VMM's exit after"
echo "\`echo cz-cold-start\`, in the test host (TCG + nested KVM), $RUNS runs each, ms:"
printf '  %-48s %8s %8s\n' '' runs median
printf '  %-48s %8s %8s\n' 'cz: vmboot --spec (vminit, container)' \
	"$(grep -c '^run [1-9][0-9]* vmboot ' "$W/out")" "$cz"
printf '  %-48s %8s %8s\n' 'qemu -M microvm, init=/bin/sh, same kernel/disk' \
	"$(grep -c '^run [1-9][0-9]* qemu ' "$W/out")" "$qm"
printf '  %-48s %8s\n' 'ratio cz / qemu' \
	"$(awk -v a="$cz" -v b="$qm" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')"
echo "  each run (ms): vmboot $(grep '^run [1-9][0-9]* vmboot' "$W/out" | sed 's/.* ms=\([0-9]*\).*/\1/' | tr '\n' ' ')"
echo "                 qemu   $(grep '^run [1-9][0-9]* qemu' "$W/out" | sed 's/.* ms=\([0-9]*\).*/\1/' | tr '\n' ' ')"
