#!/bin/sh
# Signals reach the process, orphans are reaped, a pty session works.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"

vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
C=ctr-$$-s
ctr_up $C || { echo 'Bail out! container did not start'; exit 1; }

"$BIN/vmexec" "$SOCK" -c $C -n -- sh -c 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done' >"$T/o" 2>&1 &
p=$!
for _ in $(seq 50); do grep -q ready "$T/o" && break; sleep 0.1; done
kill -TERM $p; wait $p; st=$?
is $st 7 'SIGTERM to vmexec is delivered to the process'
like "$(cat "$T/o")" 'got TERM' 'its trap ran'

"$BIN/vmexec" "$SOCK" -c $C -n -- sleep 1000 &
p=$!; sleep 0.5
kill -INT $p; wait $p; st=$?
is $st 130 'SIGINT kills a process without a handler: 130'

vx -c $C -n -- sh -c 'i=0; while [ $i -lt 1000 ]; do (sleep 0.01 &) ; i=$((i+1)); done'
sleep 1
z=$(vx -c $C -n -- sh -c 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l')
is "$z" 0 '1,000 orphans are reaped, no zombies'

need script 'a pty on our side'
out=$(script -qec "$BIN/vmexec $SOCK -c $C -t -- sh -c 'tty; test -t 0 && echo stdin-is-tty; stty size'" /dev/null </dev/null)
like "$out" /dev/pts/0 'a pty from the container devpts'
like "$out" stdin-is-tty 'stdin is the terminal'
out=$(printf 'echo $((6*7))\nexit 4\n' | script -qec "$BIN/vmexec $SOCK -c $C -t -- sh" /dev/null; echo "st=$?")
like "$out" 42 'an interactive shell on the pty'
like "$out" st=4 'its exit status'
out=$(vx -c $C -t -n -- sh -c 'ps -o pid,tty,comm; cat /proc/self/stat | cut -d" " -f6,7')
like "$out" 'sh' 'terminal without our own tty'
done_testing
