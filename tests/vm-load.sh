#!/bin/sh
# vm-load: 8 VMs started at once inside the test host, each a busybox
# container whose process writes 10 MiB of `yes cz-load-I` to stdout
# (issue 9). Every vmboot exits 0, every output has the right size and
# SHA-256 (computed here from GNU yes: the same bytes), nothing is left
# behind (no vmboot process, nothing in its TMPDIR). The wall time and the
# peak memory are printed as comments: the sum of the vmboots' peak RSS
# (guest memory they touched included; from wait4, exact) and the test
# host's lowest MemAvailable (sampled every 0.2 s).
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"

need qemu-system-x86_64 'runs the test host'
need vmboot 'is under test (make)'
need vminit 'is under test (make)'
need oci-unpack 'unpacks the image'
need mkext4 'writes the root filesystem'
need /usr/bin/time 'measures the peak memory of each vmboot (Debian: time)'

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
# fraction of it. load INDEX... runs that batch at once; its report goes to
# $T/out.N (N counts the batches).
batch=0
load() {
	batch=$((batch + 1))
	"$TOP/tests/vmhost/run" --timeout 1200 --mem 3072 --cpus 2 --disk "$m" -- \
		sh /mnt/0/load.sh $SIZE "$@" >"$T/out.$batch" 2>"$T/err.$batch"
}
# The test host used to reset now and then under this load, and guests
# to triple-fault: QEMU's emulated nested paging corrupting memory, which
# tests/vmhost/run now turns off (kvm_amd.npt=0; see its README). Should
# the test host still reset without a word of its own (QEMU exits 0 with
# no status, no panic, no oops), the whole load runs once more and the
# reset is reported as a TODO test.
host_reset() {	# err-file: the test host reset without a word of its own
	grep -q 'stopped without an exit status (qemu exit 0)' "$1" &&
		! grep -q 'Kernel panic\|Oops\|BUG:\|WARNING:' "$1"
}
reset_batch=	# the batch a reset test host left without a report
load $(seq 1 $N); st=$?
if [ $st -ne 0 ] && host_reset "$T/err.$batch"; then
	reset_batch=$batch
	diag "the test host reset during the load; running it again" \
		"$(cat "$T/err.$batch")"
	load $(seq 1 $N); st=$?
fi
is "$st" 0 'the test host ran the load'
cp "$T/out.$batch" "$T/out"

# Likewise a VM that triple-faulted, and only such a VM, runs again, up
# to twice, in a batch of its own, and the faults are reported as a TODO
# test, visible, not hidden; every other failure counts at once.
want() { yes "cz-load-$1" | head -c $SIZE | sha256sum | cut -d' ' -f1; }
faulted() {	# report-file index: the VM died of a guest triple fault
	grep "^vm $2 size=" "$1" | grep -q 'guest triple fault'
}
report() {	# index: the report of the last batch that ran VM index
	_r=/dev/null	# none: a test host that died reported nothing
	for _b in $(seq 1 $batch); do
		grep -q "^vm $1 rc=" "$T/out.$_b" 2>/dev/null && _r=$T/out.$_b
	done
	echo "$_r"
}
faults=0
for b in 2 3; do
	again=
	for i in $(seq 1 $N); do
		faulted "$(report $i)" $i && again="$again $i"
	done
	[ -n "$again" ] || break
	faults=$((faults + $(echo $again | wc -w)))
	diag "guest triple fault in VM(s)$again; running them again"
	load $again
	is "$?" 0 "the test host ran batch $batch"
done

for i in $(seq 1 $N); do
	f=$(report $i)
	like "$(grep "^vm $i rc=" "$f")" "rc=0" "VM $i: vmboot exits 0"
	like "$(grep "^vm $i size=" "$f")" "size=$SIZE sha=$(want $i) err=<>" \
		"VM $i: all $SIZE bytes, in order (SHA-256), nothing on stderr"
done
for b in $(seq 1 $batch); do
	[ "$b" = "$reset_batch" ] && continue
	like "$(cat "$T/out.$b")" 'left=<>' "batch $b: no vmboot process, socket or temporary directory left"
done
is "$(sed -n 's/^rss_n=//p' "$T/out")" $N "the peak memory of all $N vmboots was measured"
_tap_n=$((_tap_n + 1))
if [ $faults -eq 0 ]; then echo "ok $_tap_n - no guest triple-faulted"
else echo "not ok $_tap_n - no guest triple-faulted ($faults did) # TODO emulated SVM under TCG"
fi
_tap_n=$((_tap_n + 1))
if [ -z "$reset_batch" ]; then echo "ok $_tap_n - the test host did not reset"
else echo "not ok $_tap_n - the test host did not reset (it did once) # TODO emulated SVM under TCG"
fi

v() { sed -n "s/^$1=//p" "$T/out"; }
mib() {	# field: its KiB in MiB, or "?" when the report lacks it
	_k=$(v "$1")
	case $_k in ''|*[!0-9]*) echo '?' ;; *) echo $((_k / 1024)) ;; esac
}
diag "$N VMs x $((SIZE >> 20)) MiB: wall $(v wall_ms) ms from the first start to the last exit"
diag "peak memory: vmboots' peak RSS sum $(mib rss_sum_kb) MiB;" \
	"test host MemAvailable $(mib before_avail_kb) MiB before," \
	"lowest $(mib min_avail_kb) MiB while running"
dump_if_failed "$T"/out.* "$T"/err.*
done_testing
