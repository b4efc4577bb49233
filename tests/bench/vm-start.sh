#!/bin/sh
# vm-start: a container's cold start inside the test host (issue 7): from
# vmboot starting to /bin/true exiting in the busybox container, RUNS
# times after one discarded warm-up, broken down by vmboot's -v timings
# (host clock) and vminit's per-step log (the guest's CLOCK_MONOTONIC,
# which starts with the kernel):
#   VMM set-up      vmboot start to vCPUs running (KVM probe included)
#   kernel boot     the kernel's start to vminit's first line (guest clock)
#   vminit ready    vminit's start to READY sent (mounts, vsock; guest clock)
#   host sees READY vmboot start to vminit's connection accepted
#   container       READY to the container created (mount, cgroup)
#   process         created to /bin/true's exit status received
#   shutdown        exit status to vmboot's exit (OP_SHUTDOWN, reboot)
#   total           vmboot's wall time
# Medians in ms. Under TCG (the test host) all of it is slow; the
# breakdown is what matters. RUNS (default 5).
set -e
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CZ_BIN:-$TOP/build/bin}
RUNS=${RUNS:-5}
export CZ_CACHE=${CZ_CACHE:-/var/cache/cz} TESTS_DIR=$TOP/tests
. "$TOP/tests/fixtures/images.sh"
need() { command -v "$1" >/dev/null || { echo "vm-start: needs $1" >&2; exit 1; }; }
need qemu-system-x86_64
cd "$TOP"
paths=$(kernel/build)
W=$(mktemp -d "${TMPDIR:-/tmp}/cz-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
m=$W/m
mkdir -p "$m/bb"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$BIN/vmboot" "$BIN/vminit" "$m/"
layout=$(image_layout busybox)
"$BIN/oci-unpack" -i "$layout" --bundle "$m/bb" latest | "$BIN/mkext4" -o "$m/bb/rootfs.ext4"

cat >"$m/bench.sh" <<RUN
mkdir -p /tmp/b && mount -t tmpfs tmpfs /tmp/b && cp -r /mnt/0/* /tmp/b/ && cd /tmp/b
for i in \$(seq 0 $RUNS); do
	t0=\$(/usr/bin/date +%s%N)
	./vmboot -v -k vmlinux -d bb/rootfs.ext4 --spec bb/config.json -- /bin/true 2>/tmp/b/err >/dev/null
	rc=\$?
	t1=\$(/usr/bin/date +%s%N)
	echo "run \$i rc=\$rc wall=\$(( (t1 - t0) / 1000 ))"
	sed "s/^/run \$i /" /tmp/b/err
done
RUN
"$TOP/tests/vmhost/run" --timeout 1200 --disk "$m" -- sh /mnt/0/bench.sh >"$W/out"

# The steps of each measured run as "STEP ms" lines, then medians.
awk '
function ms(line) { sub(/.*debug: /, "", line); sub(/ ms:.*/, "", line); return line + 0 }
function gs(line) { sub(/.*vminit: \[/, "", line); sub(/\].*/, "", line); return line * 1000 }
$1 == "run" && $2 == 0 { next }
$1 == "run" && $3 ~ /^rc=/ { r = $2; rc[r] = substr($3, 4); wall[r] = substr($4, 6) / 1000; n = r }
/ms: vCPUs started/ { cpus[$2] = ms($0) }
/ms: vminit ready/ { ready[$2] = ms($0) }
/ms: container created/ { created[$2] = ms($0) }
/ms: process exited/ { exited[$2] = ms($0) }
/vminit: \[.*\] start\r?$/ { gstart[$2] = gs($0) }
/vminit: \[.*\] ready, told/ { gready[$2] = gs($0) }
END {
	for (r = 1; r <= n; r++) {
		if (rc[r] != 0) { printf "failed %d\n", rc[r]; continue }
		print "1", cpus[r]; print "2", gstart[r]; print "3", gready[r] - gstart[r]
		print "4", ready[r]; print "5", created[r] - ready[r]
		print "6", exited[r] - created[r]; print "7", wall[r] - exited[r]
		print "8", wall[r]
	}
}' "$W/out" >"$W/steps"
if grep -q '^failed' "$W/steps"; then
	echo "vm-start: a run failed:" >&2
	cat "$W/out" >&2
	exit 1
fi
n=$(grep -c '^8 ' "$W/steps")
echo "container cold start, vmboot -- /bin/true in busybox, in the test host (TCG + nested KVM), $n runs, medians in ms:"
i=0
for name in 'VMM set-up (KVM probe included)' 'kernel boot (guest clock)' \
	'vminit ready (guest clock)' 'host sees READY (since start)' \
	'container created' 'process /bin/true ran' 'shutdown to vmboot exit' \
	'total, vmboot start to exit'; do
	i=$((i + 1))
	med=$(sed -n "s/^$i //p" "$W/steps" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int((NR + 1) / 2)]; else print "nan" }')
	printf '  %-34s %8s\n' "$name" "$med"
done
