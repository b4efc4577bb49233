#!/bin/sh
# tests/vmhost/run returns the command's stdout, stderr and exit status
# exactly, shows the caller's disks under /mnt/N to glibc-linked programs,
# enforces its timeout and leaves nothing running.
. "$(dirname "$0")/lib/tap.sh"

need cc 'compiles a glibc-linked test program'
need qemu-system-x86_64 'runs the test host'
need mke2fs 'makes the file disk'

run=$TOP/tests/vmhost/run
none_running() { ! pgrep -f "$1" >/dev/null; }
mkdir "$T/tmp"
TMPDIR=$T/tmp; export TMPDIR	# every qemu of ours has $T/tmp in its argv

# 1. Streams and status, byte for byte.
"$run" -- sh -c 'printf "out\nline2\000end"; printf "err\n" >&2; exit 7' \
	>"$T/out" 2>"$T/err"
is "$?" 7 'the exit status comes back'
printf 'out\nline2\000end' >"$T/want.out"
printf 'err\n' >"$T/want.err"
ok 'stdout comes back exactly' cmp "$T/out" "$T/want.out"
ok 'stderr comes back exactly, separately' cmp "$T/err" "$T/want.err"

# 2. Arguments, disks, a dynamically linked program, /dev/kvm.
mkdir "$T/d" "$T/f"
echo from-dir >"$T/d/in"
echo from-image >"$T/f/hello"
mke2fs -q -t ext4 -d "$T/f" "$T/img.ext4" 8M >/dev/null || { echo 'Bail out! mke2fs'; exit 1; }
printf '#include <stdio.h>\nint main(void){puts("glibc ok");return 0;}\n' \
	>"$T/hello.c"
cc -o "$T/d/hello" "$T/hello.c" || { echo 'Bail out! cc'; exit 1; }
out=$("$run" --disk "$T/d" --disk "$T/img.ext4" -- sh -c '
	printf "%s|" "$@"; echo
	cat /mnt/0/in /mnt/1/hello
	/mnt/0/hello
	test -c /dev/kvm && echo kvm-present
	echo written >/mnt/0/made' sh "a b" "it's" '$HOME' '' 2>"$T/err")
is "$?" 0 'a command using the disks succeeds'
is "$(echo "$out" | sed -n 1p)" "a b|it's|\$HOME||" 'arguments arrive exactly'
is "$(echo "$out" | sed -n 2,3p | tr '\n' ' ')" 'from-dir from-image ' \
	'a directory is /mnt/0, an ext4 image file is mounted at /mnt/1'
like "$out" 'glibc ok' 'a glibc-linked program from a disk runs'
like "$out" 'kvm-present' '/dev/kvm is there'
is "$(cat "$T/d/made" 2>/dev/null)" written 'writes to a directory disk reach the caller'
is "$(cat "$T/err")" '' 'nothing on stderr'

# 3. The hard timeout: exit 124, and nothing left behind.
start=$(date +%s)
"$run" --timeout 3 -- sleep 1007 >/dev/null 2>"$T/err"
is "$?" 124 'a command that outlives --timeout ends the run with 124'
like "$(cat "$T/err")" 'timed out after 3 s' 'the timeout is reported'
ok 'the timed-out run ended promptly' test $(( $(date +%s) - start )) -lt 60
ok 'no qemu is left running' none_running "$T/tmp/"
ok 'no command is left running' none_running 'sleep 1007'

# 4. A signal to the harness stops everything.
"$run" -- sleep 1008 >/dev/null 2>&1 &
pid=$!
sleep 3
kill -TERM $pid
wait $pid
is "$?" 143 'SIGTERM ends the harness with 143'
sleep 1
ok 'no qemu is left running after SIGTERM' none_running "$T/tmp/"
ok 'no command is left running after SIGTERM' none_running 'sleep 1008'

done_testing
