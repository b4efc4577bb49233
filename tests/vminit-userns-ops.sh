#!/bin/sh
# BINFMT and SET_TIME, with vminit in a user namespace of its own
# (unshare -Ur), no container. binfmt_misc is per user namespace since
# Linux 6.7: vminit mounts its own instance and the registration never
# touches the host's. CLOCK_REALTIME needs CAP_SYS_TIME in the initial user
# namespace, which vminit lacks there: a good time reaches clock_settime
# and comes back EPERM, named; bad times are refused by vminit first. A
# time actually set is not tested: it would move the host's clock.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"
need python3 'vop speaks the protocol'
need nsenter 'reading vminit mount namespace'

SOCK=unix:$T/userns.sock
unshare -Ur -mpf --mount-proc --kill-child "$BIN/vminit" --listen "$SOCK" --run "$T/run" \
	>"$T/vminit.log" 2>&1 &
VMINIT_PID=$!
at_exit "kill -9 $VMINIT_PID"
for _ in $(seq 50); do [ -S "${SOCK#unix:}" ] && break; sleep 0.1; done
[ -S "${SOCK#unix:}" ] || { echo 'Bail out! vminit did not start in a user namespace'; cat "$T/vminit.log"; exit 1; }
inns() { nsenter -t "$VMINIT_PID" -U --preserve-credentials -m "$@"; }

# --- binfmt_misc
host_before=$(ls /proc/sys/fs/binfmt_misc 2>/dev/null)
reg=$(printf ':cz-test:M::\\x7fCZT::/bin/true:')
out=$(vop OP_BINFMT A_BINFMT="$reg")
if ! grep -qw binfmt_misc /proc/filesystems || case $out in 'error 1 '*) true ;; *) false ;; esac; then
	# No binfmt_misc, or a kernel before 6.7 where it is global and not
	# ours to touch: only the refusal, named, is testable.
	diag 'binfmt_misc cannot be mounted in a user namespace here: registration untested'
	like "$out" 'binfmt: mount /proc/sys/fs/binfmt_misc: ' 'the failing mount step is named'
else
	is "$out" ok 'BINFMT registers (binfmt_misc mounted on first use)'
	is "$(inns cat /proc/sys/fs/binfmt_misc/cz-test)" 'enabled
interpreter /bin/true
flags: 
offset 0
magic 7f435a54' 'the entry as registered, in vminit instance'
	is "$(ls /proc/sys/fs/binfmt_misc 2>/dev/null)" "$host_before" 'the host binfmt_misc untouched'
	ok 'BINFMT a second one (already mounted)' vop OP_BINFMT A_BINFMT=':cz-two:E::czt2::/bin/true:'
	is "$(inns sed -n 1,2p /proc/sys/fs/binfmt_misc/cz-two)" 'enabled
interpreter /bin/true' 'by extension'
	like "$(vop OP_BINFMT A_BINFMT="$reg")" 'error 17 binfmt: write /proc/sys/fs/binfmt_misc/register' \
		'the same name again: EEXIST from the kernel, named'
	like "$(vop OP_BINFMT A_BINFMT=':bad')" 'error 22 binfmt: write' 'a malformed line: EINVAL'
fi
like "$(vop OP_BINFMT)" 'error 22 binfmt: no registration' 'nothing to register: EINVAL'

# --- time
now=$(date +%s%N)
like "$(vop OP_SET_TIME A_TIME=u64:$now)" 'error 1 time: ' \
	'a good time reaches clock_settime: EPERM without CAP_SYS_TIME in the initial namespace'
like "$(vop OP_SET_TIME)" 'error 22 time: none given' 'no time: EINVAL'
like "$(vop OP_SET_TIME A_TIME=u32:5)" 'error 22 time: none given' 'a u32 is not a time: EINVAL'
like "$(vop OP_SET_TIME A_TIME=u64:0)" 'error 22 time: 0 ns is out of range' 'zero: EINVAL'
like "$(vop OP_SET_TIME A_TIME=u64:18446744073709551615)" 'error 22 time: 18446744073709551615 ns is out of range' \
	'past 2262: EINVAL before any syscall'
like "$(vop OP_STATS A_CTR=none)" 'error 2 stats: no container none' 'vminit still serves'
done_testing
