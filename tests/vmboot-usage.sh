#!/bin/sh
# vmboot's command line: usage and version, refused options (exit 2),
# unreadable kernels (exit 1), and, on this machine's /dev/kvm, the plain
# refusal of a KVM that cannot run an ordinary kernel at speed (exit 4)
# instead of a hang. On a fast /dev/kvm the probe must pass instead.
. "$(dirname "$0")/lib/tap.sh"

need vmboot 'is under test (make)'
need cc 'compiles kvmprobe and haltkernel'

out=$(vmboot --help); st=$?
is "$st" 0 '--help exits 0'
like "$out" 'usage: vmboot -k KERNEL' '--help prints the usage on stdout'
like "$(vmboot --version)" 'vmboot ' '--version names the program'
fails 2 'no kernel is a usage error' vmboot
fails 2 'an unknown option is a usage error' vmboot -k x --bogus
fails 2 'a bad memory size is a usage error' vmboot -k x -m lots
fails 2 'too little memory is a usage error' vmboot -k x -m 1M
fails 2 'zero CPUs is a usage error' vmboot -k x -c 0
fails 2 '--net wants tap=NAME' vmboot -k x --net user
fails 2 'a stray argument is a usage error' vmboot -k x extra
fails 2 '--add-host wants NAME:ADDR' vmboot -k x --add-host db
fails 2 '--add-host without --net bridge= is a usage error' \
	vmboot -k x --spec y --add-host db:10.0.0.1
err=$(vmboot -k x --net bridge=cz0 --add-host db:10.0.0.1 2>&1)
like "$err" '--add-host goes with --net bridge= and --spec' '... and without --spec, saying so'
fails 1 'a missing kernel file fails (exit 1)' vmboot -k "$T/nonexistent"
err=$(vmboot -k "$T/nonexistent" 2>&1)
like "$err" "$T/nonexistent" 'and says which file'

[ -e /dev/kvm ] || { done_testing; exit; }
cc -std=c11 -O2 -o "$T/kvmprobe" "$TOP/tests/vmhost/kvmprobe.c" ||
	{ echo 'Bail out! kvmprobe'; exit 1; }
echo 'not a kernel' >"$T/kernel"
start=$(date +%s)
err=$(timeout 60 vmboot -k "$T/kernel" 2>&1); st=$?
if "$T/kvmprobe" >/dev/null; then
	diag 'this /dev/kvm is fast: the probe must pass'
	isnt_slow=$(echo "$err" | grep -c 'cannot run an ordinary kernel')
	is "$isnt_slow" 0 'on a fast /dev/kvm vmboot does not refuse it'
	is "$st" 1 'and goes on to reject the bogus kernel'
else
	# The probe runs while the kernel loads, so the verdict comes after
	# loading: a kernel that loads (and would only halt) gets that far.
	diag 'this /dev/kvm is the slow kind: vmboot must refuse it'
	cc -static -nostdlib -no-pie -O2 -o "$T/haltkernel" \
		"$TOP/tests/vmboot/haltkernel.c" || { echo 'Bail out! haltkernel'; exit 1; }
	start=$(date +%s)
	err=$(timeout 60 vmboot -k "$T/haltkernel" 2>&1); st=$?
	is "$st" 4 'on the slow /dev/kvm vmboot exits 4'
	like "$err" 'this /dev/kvm cannot run an ordinary kernel at speed' \
		'and says so plainly'
	ok 'within seconds, not a hang' test $(( $(date +%s) - start )) -lt 10
fi

done_testing
