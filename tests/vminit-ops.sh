#!/bin/sh
# The machine operations in host mode: HOSTNAME and SYSCTL (the machine's,
# in vminit's own UTS, IPC and network namespaces here, and a container's),
# WRITE_FILE (content, chunks, mode, parents made, and no way out of the
# container: "..", symlinks absolute or relative, a symlink as the file),
# MOUNT inside a container through a symlink, STATS from its cgroups.
# BINFMT and SET_TIME: tests/vminit-userns-ops.sh.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"
need python3 'vop speaks the protocol'
need nsenter 'reading vminit namespaces'

host_name=$(hostname)
host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
host_shmmax=$(cat /proc/sys/kernel/shmmax)
VMINIT_WRAP='-n -u -i' vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
inns() { nsenter -t "$VMINIT_PID" "$@"; }
C=ctr-$$-o
ctr_up $C --hostname box1 --memory 67108864 --pids 100 ||
	{ echo 'Bail out! container did not start'; exit 1; }

# --- hostname
ok 'HOSTNAME of the machine' vop OP_HOSTNAME A_HOSTNAME=machine1
is "$(inns -u hostname)" machine1 'vminit UTS namespace has it'
is "$(hostname)" "$host_name" 'the host kept its own'
is "$(vx -c $C -n -- hostname)" box1 'the container kept its own'
ok 'HOSTNAME of a running container' vop OP_HOSTNAME A_CTR=$C A_HOSTNAME=box2
is "$(vx -c $C -n -- hostname)" box2 'the container has the new one'
is "$(inns -u hostname)" machine1 'the machine kept its own'
like "$(vop OP_HOSTNAME A_CTR=$C A_HOSTNAME=$(printf 'x%.0s' $(seq 65)))" \
	'error 22 hostname xxxx' 'a name over 64 bytes: EINVAL'
like "$(vop OP_HOSTNAME)" 'error 22 hostname: none given' 'no name: EINVAL'
like "$(vop OP_HOSTNAME A_CTR=nosuch A_HOSTNAME=x)" 'error 2 hostname: no container nosuch' \
	'an unknown container: ENOENT'
ok 'CTR_CREATE without a process' vop OP_CTR_CREATE A_CTR=$C-idle A_ROOTFS="$LOOP"
ok 'HOSTNAME of a container not started yet' vop OP_HOSTNAME A_CTR=$C-idle A_HOSTNAME=later
is "$(vx -c $C-idle -n -- hostname)" later 'its main process starts with it'

# --- sysctl: the network namespace is the machine's (shared by the
# containers), UTS and IPC ones are each container's own.
ok 'SYSCTL net.ipv4.ip_forward=1' vop OP_SYSCTL A_KEY=net.ipv4.ip_forward A_VALUE=1
is "$(inns -n cat /proc/sys/net/ipv4/ip_forward)" 1 'set in vminit network namespace'
is "$(vx -c $C -n -- cat /proc/sys/net/ipv4/ip_forward)" 1 'seen inside the container'
is "$(cat /proc/sys/net/ipv4/ip_forward)" "$host_fwd" 'the host kept its own'
ok 'SYSCTL by slashes, a dot inside a name' vop OP_SYSCTL A_KEY=net/ipv4/conf/lo/forwarding A_VALUE=0
is "$(inns -n cat /proc/sys/net/ipv4/conf/lo/forwarding)" 0 'net.ipv4.conf.lo.forwarding'
ok 'SYSCTL kernel.shmmax in the container' vop OP_SYSCTL A_CTR=$C A_KEY=kernel.shmmax A_VALUE=12345678
is "$(vx -c $C -n -- cat /proc/sys/kernel/shmmax)" 12345678 'the container IPC namespace has it'
is "$(inns -i cat /proc/sys/kernel/shmmax)" "$host_shmmax" 'the machine IPC namespace does not'
ok 'SYSCTL kernel.hostname in the container' vop OP_SYSCTL A_CTR=$C A_KEY=kernel.hostname A_VALUE=box3
is "$(vx -c $C -n -- hostname)" box3 'the container UTS namespace has it'
is "$(inns -u hostname)" machine1 'the machine kept its own'
like "$(vop OP_SYSCTL A_KEY=../../etc/passwd A_VALUE=x)" 'error 22 sysctl: need a key' '".." refused'
like "$(vop OP_SYSCTL A_KEY=net.ipv4.ip_forward)" 'error 22' 'no value refused'
like "$(vop OP_SYSCTL A_KEY=net.nosuch A_VALUE=1)" 'error 2 sysctl: write /proc/sys/net/nosuch' \
	'an unknown key: ENOENT, named'
like "$(vop OP_SYSCTL A_CTR=$C-idle A_KEY=kernel.shmmax A_VALUE=1)" 'error 3 sysctl kernel.shmmax: container' \
	'a container not running: ESRCH'

# --- write file
ok 'WRITE_FILE in the container, mode 0600' vop OP_WRITE_FILE A_CTR=$C A_PATH=/etc/motd A_CONTENT=hello A_MODE=u32:0o600
is "$(vx -c $C -n -- sh -c 'cat /etc/motd; echo; stat -c %a /etc/motd')" 'hello
600' 'content and mode'
ok 'WRITE_FILE in chunks, parents made' vop OP_WRITE_FILE A_CTR=$C A_PATH=//new//dir/f A_CONTENT=ab A_CONTENT=cd
is "$(vx -c $C -n -- cat /new/dir/f)" abcd 'the chunks in order'
ok 'WRITE_FILE replaces' vop OP_WRITE_FILE A_CTR=$C A_PATH=/etc/motd A_CONTENT=bye
is "$(vx -c $C -n -- sh -c 'cat /etc/motd; echo; stat -c %a /etc/motd; ls -a /etc | grep -c cz-write')" 'bye
644
0' 'new content, default mode, no temporary left'
mkdir "$T/outside"
vx -c $C -n -- sh -c "mkdir -p /tmp/in $T/outside && ln -s $T/outside /tmp/abs &&
	ln -s ../../../../../../../../../../..$T/outside /tmp/rel && ln -s /nowhere /tmp/dangling &&
	ln -s $T/outside/target /tmp/link && ln -s /tmp/in /tmp/jump"
like "$(vop OP_WRITE_FILE A_CTR=$C A_PATH=/tmp/../../x A_CONTENT=x)" 'error 22 write: /tmp/../../x leaves the container' \
	'".." refused'
like "$(vop OP_WRITE_FILE A_CTR=$C A_PATH=tmp/x A_CONTENT=x)" 'error 22 write: need an absolute path' \
	'a relative path refused'
like "$(vop OP_WRITE_FILE A_CTR=$C A_PATH=/ A_CONTENT=x)" 'error 21' 'the root is not a file'
ok 'WRITE_FILE through an absolute symlink' vop OP_WRITE_FILE A_CTR=$C A_PATH=/tmp/abs/a A_CONTENT=A
ok 'WRITE_FILE through a relative symlink climbing out' vop OP_WRITE_FILE A_CTR=$C A_PATH=/tmp/rel/b A_CONTENT=B
like "$(vop OP_WRITE_FILE A_CTR=$C A_PATH=/tmp/dangling/c A_CONTENT=C)" 'error 2 write /tmp/dangling/c' \
	'through a dangling symlink: ENOENT'
ok 'WRITE_FILE over a symlink' vop OP_WRITE_FILE A_CTR=$C A_PATH=/tmp/link A_CONTENT=L
ok 'WRITE_FILE through a symlink to a directory inside' vop OP_WRITE_FILE A_CTR=$C A_PATH=/tmp/jump/j A_CONTENT=J
is "$(ls -A "$T/outside")" '' 'nothing reached the host directory the symlinks name'
is "$(vx -c $C -n -- sh -c "cat $T/outside/a $T/outside/b /tmp/in/j; ls -d /nowhere 2>&1 | grep -c such; test -L /tmp/link || cat /tmp/link")" \
	'ABJ1
L' 'they resolved inside the rootfs, as the container sees them; the link itself replaced'
ok 'WRITE_FILE in the machine' vop OP_WRITE_FILE A_PATH="$T/machine/m" A_CONTENT=M A_MODE=u32:0o640
is "$(cat "$T/machine/m"; stat -c %a "$T/machine/m")" 'M640' 'written in vminit filesystem'
like "$(vop OP_WRITE_FILE A_CTR=nosuch A_PATH=/x A_CONTENT=x)" 'error 2 write: no container nosuch' \
	'an unknown container: ENOENT'
ok 'HOSTS through the same path' vop OP_HOSTS A_CTR=$C 'A_CONTENT=10.0.0.1 h
'
is "$(vx -c $C -n -- cat /etc/hosts)" '10.0.0.1 h' 'hosts written'

# --- mount inside a container through a symlink: a running one (in its
# mount namespace) and one not started yet (its rootfs, copied at start)
ok 'MOUNT tmpfs at /tmp/abs/mnt, running' vop OP_MOUNT A_CTR=$C A_SOURCE=tmpfs A_FSTYPE=tmpfs A_TARGET=/tmp/abs/mnt
like "$(vx -c $C -n -- cat /proc/self/mountinfo)" " $T/outside/mnt " 'mounted inside the container'
ok 'MOUNT in a container not started' vop OP_CTR_CREATE A_CTR=$C-m A_ROOTFS="$LOOP"
ok 'MOUNT tmpfs at /tmp/abs/m2 before the start' vop OP_MOUNT A_CTR=$C-m A_SOURCE=tmpfs A_FSTYPE=tmpfs A_TARGET=/tmp/abs/m2
like "$(vx -c $C-m -n -- cat /proc/self/mountinfo)" " $T/outside/m2 " 'the container has it'
ok 'neither reached the host' test ! -e "$T/outside/mnt" -a ! -e "$T/outside/m2"
like "$(vop OP_MOUNT A_CTR=$C A_SOURCE=tmpfs A_FSTYPE=tmpfs A_TARGET=/../up)" 'error 22' '".." refused'
like "$(vop OP_MOUNT A_CTR=$C A_SOURCE=none A_FSTYPE=nosuchfs A_TARGET=/m2)" \
	'error 19 mount none on /m2 in '"$C"': ' 'a failed mount: the kernel errno, named'

# --- stats: the container's cgroups, compared with the kernel's files
cg() { for d in /sys/fs/cgroup/*/cz/$C /sys/fs/cgroup/cz/$C; do [ -f "$d/$1" ] && cat "$d/$1" && return; done; }
stat_of() { vop OP_STATS A_CTR=$C | sed -n "s/^$1=//p"; }
vx -c $C -n -- sleep 100 >/dev/null 2>&1 &
for _ in $(seq 50); do [ "$(cg pids.current)" = 3 ] && break; sleep 0.1; done
is "$(stat_of A_STAT_PIDS)" 3 'pids: the shim, main and one more process'
is "$(stat_of A_STAT_PIDS)" "$(cg pids.current)" 'as pids.current says'
m0=$(stat_of A_STAT_MEM)
ok 'memory in use is plausible: above 0, below the 64 MiB limit' test "$m0" -gt 0 -a "$m0" -lt 67108864
vx -c $C -n -- dd if=/dev/zero of=/dev/shm/fill bs=1M count=16 2>/dev/null
m1=$(stat_of A_STAT_MEM)
ok '16 MiB in the container tmpfs counts: memory grew by at least 15 MiB' test $((m1 - m0)) -ge 15728640
ok 'and is near memory.current/usage_in_bytes' test $((m1 - $(cg memory.usage_in_bytes || cg memory.current))) -lt 4194304
c0=$(stat_of A_STAT_CPU_USEC)
vx -c $C -n -- sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done'
c1=$(stat_of A_STAT_CPU_USEC)
ok 'CPU time grew by a busy loop' test $((c1 - c0)) -gt 10000
is "$(stat_of A_STAT_OOM_KILLS)" 0 'no OOM kill yet'
vx -c $C -n -- sh -c 'x=a; while :; do x=$x$x$x$x; done' 2>/dev/null
is "$(stat_of A_STAT_OOM_KILLS)" 1 'one OOM kill counted'
like "$(vop OP_STATS A_CTR=nosuch)" 'error 2 stats: no container nosuch' 'an unknown container: ENOENT'
like "$(vop OP_STATS)" 'error 2' 'none named: ENOENT'
done_testing
