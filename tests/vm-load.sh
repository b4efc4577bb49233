#!/bin/sh
# vm-load: 8 VMs started at once inside the test host, each a busybox
# container whose process writes 10 MiB of `yes cz-load-I` to stdout
# (issue 9). Every vmboot exits 0, every output has the right size and
# SHA-256 (computed here from GNU yes: the same bytes), nothing is left
# behind (no vmboot process, nothing in its TMPDIR). The wall time and the
# peak memory are printed as comments: the sum of the vmboots' VmHWM
# (guest memory they touched included) and the test host's lowest
# MemAvailable, both sampled every 0.2 s.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"

need qemu-system-x86_64 'runs the test host'
need vmboot 'is under test (make)'
need vminit 'is under test (make)'
need oci-unpack 'unpacks the image'
need mkext4 'writes the root filesystem'

N=8
SIZE=10485760
cd "$TOP" || exit 1
paths=$(kernel/build) || { echo 'Bail out! kernel/build failed'; exit 1; }

m=$T/m
mkdir -p "$m/bb"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$BIN/vmboot" "$BIN/vminit" "$m/"
layout=$(image_layout busybox) || { echo 'Bail out! image busybox'; exit 1; }
oci-unpack -i "$layout" --bundle "$m/bb" latest | mkext4 -o "$m/bb/rootfs.ext4" ||
	{ echo 'Bail out! busybox rootfs'; exit 1; }
cp "$TESTS_DIR/vmboot/vm-load.guest.sh" "$m/load.sh"

# Eight guests of 256 MiB (vmboot's default) fit in 3 GiB: they touch a
# fraction of it.
"$TOP/tests/vmhost/run" --timeout 1200 --mem 3072 --cpus 2 --disk "$m" -- \
	sh /mnt/0/load.sh $N $SIZE >"$T/out" 2>"$T/err"
is "$?" 0 'the test host ran the load'

for i in $(seq 1 $N); do
	want=$(yes "cz-load-$i" | head -c $SIZE | sha256sum | cut -d' ' -f1)
	like "$(grep "^vm $i rc=" "$T/out")" "rc=0" "VM $i: vmboot exits 0"
	like "$(grep "^vm $i size=" "$T/out")" "size=$SIZE sha=$want err=<>" \
		"VM $i: all $SIZE bytes, in order (SHA-256), nothing on stderr"
done
like "$(cat "$T/out")" 'left=<>' 'no vmboot process, socket or temporary directory left'
is "$(sed -n 's/^hwm_n=//p' "$T/out")" $N "the memory of all $N vmboots was sampled"

v() { sed -n "s/^$1=//p" "$T/out"; }
diag "$N VMs x $((SIZE >> 20)) MiB: wall $(v wall_ms) ms from the first start to the last exit"
diag "peak memory: vmboots' VmHWM sum $(( $(v hwm_sum_kb) / 1024 )) MiB;" \
	"test host MemAvailable $(( $(v before_avail_kb) / 1024 )) MiB before," \
	"lowest $(( $(v min_avail_kb) / 1024 )) MiB while running"
[ $_tap_failed -eq 0 ] || { diag "$(cat "$T/out")"; diag "$(cat "$T/err")"; }
done_testing
