#!/bin/sh
# vmboot's KVM speed probe on a busy machine: inside the test host (2
# vCPUs), 16 busy loops compete with vmboot for the CPUs, as when eight VMs
# start at once (tests/vm-load.sh). The probe's guest loop must still be
# judged by the time it ran, not the time it waited for a CPU: each of 8
# runs passes the probe, then boots a kernel that only halts
# (tests/vmboot/haltkernel.c) until SIGTERM ends it: no real boot needed.
# Each run has its own log: the wait must not see the last run's.
. "$(dirname "$0")/lib/tap.sh"

need qemu-system-x86_64 'runs the test host'
need vmboot 'is under test (make)'
need cc 'builds the halting kernel'

RUNS=8
m=$T/m
mkdir "$m"
cp "$BIN/vmboot" "$m/"
cc -static -nostdlib -no-pie -O2 -o "$m/haltkernel" "$TOP/tests/vmboot/haltkernel.c" ||
	{ echo 'Bail out! haltkernel'; exit 1; }
cat >"$m/run.sh" <<RUN
cd /mnt/0
for i in \$(seq 16); do sh -c 'while :; do :; done' & done
sleep 1
for i in \$(seq $RUNS); do
	./vmboot -v -k haltkernel >/dev/null 2>/tmp/err.\$i &
	p=\$!
	until grep -sqE 'kvm probe|cannot run' /tmp/err.\$i || ! kill -0 \$p 2>/dev/null; do
		sleep 0.1
	done
	kill \$p 2>/dev/null
	wait \$p
	echo "run \$i rc=\$? \$(grep -E 'kvm probe|cannot run' /tmp/err.\$i)"
done
kill \$(jobs -p)
RUN

"$TOP/tests/vmhost/run" --timeout 600 --disk "$m" -- sh /mnt/0/run.sh \
	>"$T/out" 2>"$T/err"
is "$?" 0 'the test host ran the script'
is "$(grep -c 'rc=143 .*kvm probe: 1000000 loops' "$T/out")" $RUNS \
	"all $RUNS probes under 16 busy loops pass (then: SIGTERM, exit 143)"
like "$(cat "$T/out")" 'waiting for a CPU' 'the time spent waiting for a CPU is reported (-v)'
diag "$(sed 's/vmboot: debug: //' "$T/out")"
dump_if_failed "$T/err"
done_testing
