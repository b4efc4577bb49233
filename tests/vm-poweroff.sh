#!/bin/sh
# A guest's power-off ends vmboot (issue 6): the cz kernel has no ACPI, so
# reboot(RB_POWER_OFF) halts every CPU with interrupts off, which vmboot's
# power-off watch sees (KVM's blocking and halt_exits stats, then each
# vCPU's MP state and RFLAGS.IF). Booted in the test host to the test init
# (tests/vmboot/testinit.c): power-off with 1 and 2 vCPUs exits 0 promptly;
# reboot still ends vmboot with 0; a panic ends it with 3 (a crash); a guest idle for
# seconds (every vCPU halted with interrupts on) is not taken for one
# powered off, and exits with its own status.
. "$(dirname "$0")/lib/tap.sh"

need qemu-system-x86_64 'runs the test host'
need musl-gcc 'builds the test init'
need vmboot 'is under test (make)'

cd "$TOP" || exit 1
BUILD=${CZ_BUILD:-build}
case $BUILD in *san) san=SAN=1 ;; *) san= ;; esac
make -s -f Makefile -f tests/vmboot/vmboot.mk $san BUILD="$BUILD" \
	"$BUILD/tests/vmboot-testinit" >&2 ||
	{ echo 'Bail out! build failed'; exit 1; }
paths=$(kernel/build) || { echo 'Bail out! kernel/build failed'; exit 1; }

m=$T/m
mkdir "$m"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$(echo "$paths" | sed -n 2p)" "$m/bzImage"
cp "$BIN/vmboot" "$m/vmboot"
cp "$BUILD/tests/vmboot-testinit" "$m/testinit"

# Each run under timeout(1), so a power-off vmboot misses fails as 124
# instead of hanging the test; the seconds it took are printed.
cat >"$m/run.sh" <<'RUN'
cd /mnt/0
run() {
	name=$1; shift
	echo "== $name"
	t0=$(cut -d. -f1 /proc/uptime)
	timeout -s KILL 240 ./vmboot -v "$@" 2>/tmp/$name.err
	echo "rc=$?"
	echo "secs=$(( $(cut -d. -f1 /proc/uptime) - t0 ))"
	grep -E 'power-off|cztest|Kernel panic|panicked' /tmp/$name.err
}
run poweroff -k vmlinux --init testinit --cmdline 'cz.test=console cz.end=poweroff'
run poweroff2 -k bzImage -c 2 --init testinit \
	--cmdline 'cz.test=console cz.end=poweroff'
run reboot -k vmlinux --init testinit --cmdline 'cz.test=console cz.end=reboot'
run panic -k vmlinux --init testinit --cmdline 'cz.test=console cz.end=panic'
run idle -k vmlinux -c 2 --init testinit --cmdline 'cz.test=console cz.idle=10 cz.status=5'
echo "== end"
RUN

"$TOP/tests/vmhost/run" --timeout 1500 --disk "$m" -- sh /mnt/0/run.sh \
	>"$T/out" 2>"$T/err"
st=$?
is "$st" 0 'the test host ran the script'
section() { sed -n "/^== $1\$/,/^== /p" "$T/out"; }
unlike() {	# text string description: the text lacks the fixed string
	case $1 in *"$2"*) _tap_r=1 ;; *) _tap_r=0 ;; esac
	_tap_result $_tap_r "$3"
}

s=$(section poweroff)
like "$s" 'cztest: done' 'the test init runs to its power-off'
like "$s" 'rc=0' 'a guest power-off (halt with interrupts off) ends vmboot with 0'
like "$s" 'power-off: every vCPU halted with interrupts off' \
	'and vmboot -v says it saw the power-off'
s=$(section poweroff2)
like "$s" 'cpus=0-1' 'with 2 vCPUs (bzImage)'
like "$s" 'rc=0' 'power-off ends vmboot with 0 too'
like "$s" 'power-off: every vCPU halted with interrupts off' \
	'both vCPUs were seen halted'
s=$(section reboot)
like "$s" 'rc=0' 'a reboot still ends vmboot with 0'
unlike "$s" 'power-off: every' 'and is not taken for a power-off'
s=$(section panic)
like "$s" 'Kernel panic' 'init exiting panics the guest kernel'
like "$s" 'rc=3' 'and the panic ends vmboot with 3, a crash (warm reset flag)'
like "$s" 'guest kernel panicked' 'saying it was a panic'
unlike "$s" 'power-off: every' 'not as a power-off'
s=$(section idle)
like "$s" 'cztest: idle 10 s' 'a guest idles for 10 s with 2 vCPUs'
like "$s" 'rc=5' 'and is not ended early: it exits with its own status'
secs=$(echo "$s" | sed -n 's/^secs=//p')
ok 'the idle guest ran at least its 10 s' test "${secs:-0}" -ge 10
checks=$(echo "$s" | sed -n 's/.*power-off watch: \([0-9]*\) checks.*/\1/p' | head -1)
# The watch checks a guest that has been still (every vCPU blocking, no
# new halt) for two looks 200 ms apart; 5 s of idling gave 8 such checks
# in most runs and none in one (a full ./check, 2026-12-07), so 10 s.
diag "idle guest: ${checks:-no} power-off checks (each found interrupts on)"
ok 'the watch checked the idle guest and found it not powered off' \
	test "${checks:-0}" -ge 1

dump_if_failed "$T/out" "$T/err"
diag "$(grep -E '^(== |rc=|secs=)|power-off' "$T/out")"
done_testing
