#!/bin/sh
# Inside the test host (tests/vmhost/run), /dev/kvm runs an ordinary 64-bit
# guest fast: kvmprobe says so and kvmloop's 100M iterations take seconds.
. "$(dirname "$0")/lib/tap.sh"

need cc 'compiles kvmloop and kvmprobe'
need qemu-system-x86_64 'runs the test host'

mkdir "$T/bin"
for p in kvmloop kvmprobe; do
	cc -std=c11 -Wall -Wextra -Werror -O2 -o "$T/bin/$p" \
		"$TOP/tests/vmhost/$p.c" || { echo "Bail out! $p.c"; exit 1; }
done

"$TOP/tests/vmhost/run" -v --disk "$T/bin" -- sh -c \
	'/mnt/0/kvmprobe; echo "probe exit $?"; /mnt/0/kvmloop' \
	>"$T/out" 2>"$T/err"
st=$?
out=$(cat "$T/out")
is "$st" 0 'kvmloop exits 0 in the test host'
like "$out" 'probe exit 0' "kvmprobe finds the test host's /dev/kvm fast"
like "$out" 'kvmloop: 100000000 iterations in long mode in ' \
	'the guest counted to 100M in long mode and reported it by port I/O'
secs=$(echo "$out" | sed -n 's/^kvmloop: .* in \([0-9.]*\) s (.*/\1/p')
ok 'the 100M-iteration loop takes under 10 s' \
	test "$(echo "${secs:-999} < 10" | bc)" = 1
diag "$out"
diag "$(cat "$T/err")"

done_testing
