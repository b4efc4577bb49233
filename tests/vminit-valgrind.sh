#!/bin/sh
# vminit (built against glibc: tests/lib/vminit.mk) and vmexec with
# lib/vmclient and lib/spec, clean under valgrind; in a SAN=1 build, where
# both carry ASan and UBSan, under those instead. The run covers a
# container from a spec, pipes, a terminal, stdin, signals, a failed exec,
# network and file operations, and a shutdown answered before the exit.
. "$(dirname "$0")/lib/tap.sh"
BUILD=${CZ_BUILD:-$TOP/build}
VMINIT=$BUILD/tests/vminit-glibc
if [ -z "${CZ_BUILD:-}" ]; then
	make -s -C "$TOP" build/tests/vminit-glibc >&2 || { echo 'Bail out! build failed'; exit 1; }
fi
[ -x "$VMINIT" ] || skip_all 'vminit-glibc not built'
. "$TESTS_DIR/lib/vminit.sh"
need python3 'vop speaks the protocol'

if grep -q __asan_init "$VMINIT"; then
	diag 'sanitizer build: ASan and UBSan instead of valgrind'
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
	export UBSAN_OPTIONS=halt_on_error=1:exitcode=99
	VG=
else
	need valgrind 'the point of this test'
	VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$TESTS_DIR/valgrind.supp"
	VMINIT_WRAP="$VG --log-file=$T/vg-vminit.%p --child-silent-after-fork=yes"
	VX_WRAP="$VG --log-file=$T/vg-vmexec.%p"
fi
export VMINIT VMINIT_WRAP VX_WRAP

VMINIT_WRAP="-n $VMINIT_WRAP" vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
C=ctr-$$-v
# RLIMIT_CORE, not NOFILE: valgrind refuses a child's NOFILE changes (EPERM).
cat >"$T/config.json" <<JSON
{"process":{"args":["sleep","1000"],"env":["A=1"],"cwd":"/tmp",
 "rlimits":[{"type":"RLIMIT_CORE","soft":0,"hard":0}],
 "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},
 "user":{"uid":0,"gid":0,"additionalGids":[50]},"noNewPrivileges":true},
 "hostname":"vg","root":{"path":"rootfs"},
 "linux":{"resources":{"pids":{"limit":100}},"maskedPaths":["/proc/kcore"]}}
JSON
VX_WRAP=$VX_WRAP "$BIN/vmexec" "$SOCK" -c $C --spec "$T/config.json" --rootfs "$LOOP" -n \
	>/dev/null 2>"$T/main.err" &
for _ in $(seq 100); do grep -q "started $C/" "$T/vminit.log" && break; sleep 0.1; done
ok "a container from a spec" grep -q "started $C/" "$T/vminit.log" || diag "$(cat "$T/main.err" "$T/vminit.log")"
is "$(vx -c $C -n -- sh -c 'echo out; echo err >&2; exit 3' 2>&1; echo "st=$?")" 'out
err
st=3' 'pipes and an exit status'
is "$(echo piped | vx -c $C -- cat)" piped 'stdin'
is "$(vx -c $C -t -n -- sh -c 'tty >/dev/null && echo tty' | tr -d '\r')" tty 'a terminal'
vx -c $C -n -- sh -c 'kill -TERM $$'; is $? 143 'killed by a signal'
vx -c $C -n -- /nonexistent 2>/dev/null; is $? 127 'a failed exec'
dd if=/dev/zero bs=64k count=64 2>/dev/null | vx -c $C -- wc -c >"$T/wc"
is "$(tr -d ' ' <"$T/wc")" 4194304 '4 MiB through stdin'
ok 'NET_LINK' vop OP_NET_LINK A_IFNAME=lo A_UP
like "$(vop OP_NET_ADDR A_IFNAME=nosuch A_ADDR=10.0.0.1/8)" 'error 19' 'a failed NET_ADDR'
ok 'WRITE_FILE' vop OP_WRITE_FILE A_CTR=$C A_PATH=/tmp/f A_CONTENT=abc A_MODE=u32:0o600
ok 'STATS' vop OP_STATS A_CTR=$C
ok 'MOUNT in the running container' vop OP_MOUNT A_CTR=$C A_SOURCE=tmpfs A_FSTYPE=tmpfs A_TARGET=/mnt/t
ok 'SYSCTL in the container' vop OP_SYSCTL A_CTR=$C A_KEY=kernel.hostname A_VALUE=vg2
ok 'HOSTNAME of the container' vop OP_HOSTNAME A_CTR=$C A_HOSTNAME=vg3
like "$(vop OP_WRITE_FILE A_CTR=$C A_PATH=/../x A_CONTENT=x)" 'error 22' 'a WRITE_FILE leaving the container'
vx -c $C -n -- sleep 100 >/dev/null 2>&1 &
sleep 0.5
ok 'DELETE with processes running' vx -c $C --delete
ok 'a new container with the same id' vx -c $C --create --rootfs "$LOOP" -n -- true
ok 'DELETE of a container without processes' vx -c $C --delete
like "$(vop OP_SHUTDOWN A_REASON=done)" ok 'SHUTDOWN is answered'
wait "$VMINIT_PID"; st=$?
is $st 0 'vminit exited cleanly (valgrind or sanitizers: no errors, no definite leaks)'
for f in "$T"/vg-*; do
	[ -s "$f" ] && diag "$f" "$(cat "$f")"
done
# Errors and leaks are ==PID== lines; --PID-- ones are notes (valgrind
# 3.19 does not know openat2: vminit falls back to its own walk).
ok 'no valgrind reports' sh -c "! cat $T/vg-* 2>/dev/null | grep -q '^=='"
done_testing
