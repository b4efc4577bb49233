#!/bin/sh
# vmboot's KVM speed probe on a busy machine: inside the test host (2
# vCPUs), 16 busy loops compete with vmboot for the CPUs, as when eight VMs
# start at once (tests/vm-load.sh). The probe's guest loop must still be
# judged by the time it ran, not the time it waited for a CPU: each of 8
# runs passes the probe (and then fails on a kernel file that is not one,
# which vmboot reads only after the probe: no boot needed).
. "$(dirname "$0")/lib/tap.sh"

need qemu-system-x86_64 'runs the test host'
need vmboot 'is under test (make)'

RUNS=8
m=$T/m
mkdir "$m"
cp "$BIN/vmboot" "$m/"
head -c 4096 /dev/zero >"$m/notakernel"
cat >"$m/run.sh" <<RUN
cd /mnt/0
for i in \$(seq 16); do sh -c 'while :; do :; done' & done
sleep 1
for i in \$(seq $RUNS); do
	./vmboot -v -k notakernel >/dev/null 2>/tmp/err
	echo "run \$i rc=\$? \$(grep -E 'kvm probe|cannot run' /tmp/err)"
done
kill \$(jobs -p)
RUN

"$TOP/tests/vmhost/run" --timeout 600 --disk "$m" -- sh /mnt/0/run.sh \
	>"$T/out" 2>"$T/err"
is "$?" 0 'the test host ran the script'
is "$(grep -c 'rc=1 .*kvm probe: 1000000 loops' "$T/out")" $RUNS \
	"all $RUNS probes under 16 busy loops pass (then: not a kernel, exit 1)"
like "$(cat "$T/out")" 'waiting for a CPU' 'the time spent waiting for a CPU is reported (-v)'
diag "$(sed 's/vmboot: debug: //' "$T/out")"
[ $_tap_failed -eq 0 ] || diag "$(cat "$T/err")"
done_testing
