#!/bin/sh
# vmboot against `qemu-system-x86_64 -M microvm`, side by side under the
# same KVM (the test host's, or this machine's when it is fast): the same
# kernel (PVH vmlinux), initramfs (the test init), memory and command
# line, booting to the same init. For each, RUNS boots; prints the median
# time to userspace by the guest's clock (CLOCK_BOOTTIME at init) and by
# the wall clock (launch to the init's first console line), and the VMM's
# own memory: RSS minus the guest memory it holds (the run of mappings of
# MEM around the guest's memory mapping, vmboot's kernel pages mapped
# from vmlinux included: tests/vmboot/peer.c). Ratios last.
# Under TCG a single boot swings by a second either way (the same VMM,
# back to back), so the best run is printed beside the median.
set -e
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CZ_BIN:-$TOP/build/bin}
BUILD=$(dirname "$BIN")
RUNS=${RUNS:-7}
MEM=256
cd "$TOP"
make -s -f Makefile -f tests/vmboot/vmboot.mk BUILD="$BUILD" \
	"$BUILD/tests/vmboot-peer" "$BUILD/tests/vmboot-testinit" >&2
paths=$(kernel/build)
W=$(mktemp -d "${TMPDIR:-/tmp}/cz-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
m=$W/m
mkdir -p "$m" "$W/r"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$BIN/vmboot" "$BUILD/tests/vmboot-peer" "$TOP/tests/bench/fresh-pages.py" "$m/"
cp "$BUILD/tests/vmboot-testinit" "$W/r/init"
(cd "$W/r" && echo init | cpio -o -H newc --quiet >"$m/initrd.cpio")

# vmboot's own defaults, given to QEMU as they are: the same kernel work.
CL='reboot=k,cold,panic_warm panic=-1 8250.nr_uarts=1 no_timer_check noreplace-smp quiet console=ttyS0 cz.test=console,sleep'
# Files in the test host's memory, not on its 9p share, and one boot of
# each discarded first: a warm page cache, as on a real host.
# Before each boot, fresh pages for the VMM (tests/bench/fresh-pages.py
# says why: TCG's cost of writing pages it translated code from).
cat >"$m/bench.sh" <<RUN
mkdir -p /tmp/b && mount -t tmpfs tmpfs /tmp/b && cp /mnt/0/* /tmp/b/ && cd /tmp/b
soak() { python3 fresh-pages.py; }
for i in \$(seq 0 $RUNS); do
	[ \$i = 0 ] && w=warmup || w=
	soak
	echo "\${w}vmboot: \$(./vmboot-peer measure $MEM 'userspace reached' 'cztest: sleeping' -- \
		./vmboot -k vmlinux -m $MEM --initrd initrd.cpio \
		--cmdline 'cz.test=console,sleep' | tr '\n' ' ')"
	soak
	echo "\${w}qemu: \$(./vmboot-peer measure $MEM 'userspace reached' 'cztest: sleeping' -- \
		qemu-system-x86_64 -M microvm -accel kvm -cpu host -m $MEM \
		-smp 1 -kernel vmlinux -initrd initrd.cpio -append '$CL' \
		-nographic -nodefaults -no-user-config -serial stdio -no-reboot | tr '\n' ' ')"
done
RUN
"$TOP/tests/vmhost/run" --timeout 1200 --disk "$m" -- sh /mnt/0/bench.sh >"$W/out"

values() {	# side field
	grep "^$1: " "$W/out" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p" | sort -n
}
median() {
	values "$@" | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'
}
best() {
	values "$@" | awk 'NR == 1 { print } END { if (!NR) print "nan" }'
}
vm_up=$(median vmboot uptime); qm_up=$(median qemu uptime)
vm_wall=$(median vmboot wall_ms); qm_wall=$(median qemu wall_ms)
vm_rss=$(median vmboot rss_kb); qm_rss=$(median qemu rss_kb)
vm_g=$(median vmboot guest_kb); qm_g=$(median qemu guest_kb)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
grep -v '^warmup' "$W/out" |
	sed -n 's/^\([a-z]*\):.*uptime=\([0-9.]*\).*wall_ms=\([0-9.]*\) rss_kb=\([0-9]*\) guest_kb=\([0-9]*\).*/  \1 uptime=\2 wall_ms=\3 rss_kb=\4 guest_kb=\5/p'
echo "vmboot vs qemu -M microvm, $RUNS boots each, medians, guest $MEM MiB, 1 vCPU"
printf '%-34s %12s %12s %8s\n' '' vmboot qemu ratio
printf '%-34s %12s %12s %8s\n' 'time to userspace, guest clock (s)' "$vm_up" "$qm_up" "$(ratio "$vm_up" "$qm_up")"
printf '%-34s %12s %12s %8s\n' 'time to userspace, wall (ms)' "$vm_wall" "$qm_wall" "$(ratio "$vm_wall" "$qm_wall")"
vm_best=$(best vmboot wall_ms); qm_best=$(best qemu wall_ms)
printf '%-34s %12s %12s %8s\n' '  the same, best run (ms)' "$vm_best" "$qm_best" "$(ratio "$vm_best" "$qm_best")"
vm_own=$((vm_rss - vm_g)); qm_own=$((qm_rss - qm_g))
printf '%-34s %12s %12s %8s\n' 'VMM RSS minus guest memory (KiB)' "$vm_own" "$qm_own" "$(ratio "$vm_own" "$qm_own")"
printf '%-34s %12s %12s\n' 'guest memory touched (KiB)' "$vm_g" "$qm_g"
echo "goals: wall ratio <= 0.5, vmboot own memory < 3072 KiB"
