#!/bin/sh
# Users, rlimits, capabilities, hostname, and the cgroup memory limit.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"

vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
C=ctr-$$-l
ctr_up $C --hostname box1 --memory 33554432 || { echo 'Bail out! container did not start'; exit 1; }

is "$(vx -c $C -n -u nobody -- id)" 'uid=65534(nobody) gid=65534(nogroup)' 'user by name, from the container passwd'
is "$(vx -c $C -n -u alice -- id)" 'uid=1000(alice) gid=1000(alice) groups=50(staff)' 'groups from the container group file'
is "$(vx -c $C -n -u 1234:4321 -- sh -c 'echo $(id -u):$(id -g)')" '1234:4321' 'uid:gid'
is "$(vx -c $C -n --rlimit nofile=123:456 -- sh -c 'ulimit -n; ulimit -Hn')" '123
456' 'rlimits'
is "$(vx -c $C -n --caps 0x400 -- grep -E '^Cap(Eff|Bnd)' /proc/self/status | tr -s '\t' ' ')" 'CapEff: 0000000000000400
CapBnd: 0000000000000400' 'capabilities dropped to the given set'
is "$(vx -c $C -n -u nobody --caps 0 --no-new-privs -- grep -E '^(CapPrm|NoNewPrivs)' /proc/self/status | tr -s '\t' ' ')" 'CapPrm: 0000000000000000
NoNewPrivs: 1' 'no_new_privs and no capabilities for a user'
is "$(vx -c $C -n -- hostname)" box1 'hostname from the container'
is "$(vx -c $C -n -- sh -c 'ps -o comm | grep -c sleep')" 1 'a second process sees the main one (same PID namespace)'
like "$(vx -c $C -n -- cat /proc/self/mountinfo)" ' / / ' 'and the same root'

vx -c $C -n -- sh -c 'x=a; while :; do x=$x$x$x$x; done' 2>"$T/err"; st=$?
is $st 137 'memory limit: killed'
like "$(cat "$T/err")" 'OOM killer' 'the OOM kill is reported'
done_testing
