#!/bin/sh
# vmexec --delete (OP_CTR_DELETE): every process of the container killed
# and reaped (main, a vmexec process, an orphan), its mounts and its
# loop-mounted rootfs unmounted, its cgroups removed, and the id free for
# a new container; a busy mount fails the delete naming the step, and the
# delete can be asked again.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"
need python3 'vop speaks the protocol; exclusive open of the loop device'

vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
C=ctr-$$-d
cgdirs() { ls -d /sys/fs/cgroup/*/cz/"$1" /sys/fs/cgroup/cz/"$1" 2>/dev/null; }
mounted() { grep -c " $T/run/$1/rootfs[ /]" /proc/"$VMINIT_PID"/mountinfo; }
# A mounted block device is held exclusively by its file system, in any
# mount namespace: O_EXCL succeeds only once nothing has it mounted.
free_dev() { python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL))' "$LOOP"; }

# Made by hand: a mount under its rootfs in vminit namespace, before the
# start (the container's own namespace gets a copy).
ok 'CTR_CREATE with limits' vop OP_CTR_CREATE A_CTR=$C A_ROOTFS="$LOOP" A_MEM_LIMIT=u64:67108864 A_PIDS_LIMIT=u64:100
ok 'a tmpfs mounted in it before the start' vop OP_MOUNT A_CTR=$C A_SOURCE=tmpfs A_FSTYPE=tmpfs A_TARGET=/mnt/scratch
vx -c $C -n -- sleep 1000 >/dev/null 2>&1 &
main_vx=$!
for _ in $(seq 50); do grep -q "started $C/" "$T/vminit.log" && break; sleep 0.1; done
vx -c $C -n -- sleep 999 >/dev/null 2>&1 &
exec_vx=$!
# An orphan: its parent exits, the container's PID 1 adopts it.
vx -c $C -n -- sh -c 'sleep 998 >/dev/null 2>&1 &' >/dev/null 2>&1
for _ in $(seq 50); do
	[ "$(ps -eo args | grep -c '^sleep 99[89]$')" -ge 2 ] && break
	sleep 0.1
done
pids=$(for d in $(cgdirs $C); do cat "$d/cgroup.procs"; done | sort -u)
is "$(echo $pids | wc -w)" 4 'the cgroup holds the shim, main, the vmexec process and the orphan'
is "$(cgdirs $C | wc -l)" "$(ls -d /sys/fs/cgroup/*/cz /sys/fs/cgroup/cz 2>/dev/null | wc -l)" \
	'a cgroup in each hierarchy'
is "$(mounted $C)" 2 'rootfs and the tmpfs mounted'
fails 1 'the loop device is in use' free_dev

ok 'vmexec --delete' vx -c $C --delete
wait $main_vx; is $? 137 'the main process was killed (137)'
wait $exec_vx; is $? 137 'the vmexec process was killed (137)'
left=
for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
is "$left" '' 'no process of the container remains'
is "$(ps -eo args | grep -c '^sleep 99[89]$')" 0 'the orphan is gone too'
is "$(cgdirs $C)" '' 'its cgroup directories are removed'
is "$(mounted $C)" 0 'no mount of it is left in vminit namespace'
ok 'the loop device is free: the rootfs is not mounted anywhere' free_dev
ok 'its run directory is removed' test ! -e "$T/run/$C"
like "$(vop OP_STATS A_CTR=$C)" 'error 2 stats: no container' 'vminit forgot it'

# The same id again: a new container, running.
is "$(vx -c $C --create --rootfs "$LOOP" -n -- sh -c 'echo again; ls /mnt/scratch')" again \
	'a new container with the same name runs, without the old mounts'
ok 'a container whose main process exited deletes at once' vx -c $C --delete
is "$(cgdirs $C)$(mounted $C)" 0 'and is gone'

# Created, its process never started (the exec failed).
vx -c $C --create --rootfs "$LOOP" -n -- /no/such >/dev/null 2>&1
ok 'a container whose start failed deletes' vx -c $C --delete

# A busy rootfs: a process of vminit namespace (not the container's)
# sits in it. The delete fails naming the step; asked again, it succeeds.
ctr_up $C || { echo 'Bail out! container did not start again'; exit 1; }
main_vx=$CTR_PID
nsenter -t "$VMINIT_PID" -m sh -c "cd $T/run/$C/rootfs && exec sleep 60" &
busy=$!
sleep 0.3
out=$(vx -c $C --delete 2>&1); st=$?
is $st 125 'a busy rootfs fails the delete: 125'
like "$out" "delete $C: umount $T/run/$C/rootfs: " 'the error names the step'
like "$out" 'busy' 'and the reason'
wait $main_vx; is $? 137 'its processes were killed all the same'
kill $busy; wait $busy 2>/dev/null
ok 'asked again, the delete succeeds' vx -c $C --delete
is "$(cgdirs $C)$(mounted $C)" 0 'and the container is gone'

out=$(vx -c nosuch --delete 2>&1); st=$?
is $st 125 'deleting an unknown container fails: 125'
like "$out" 'delete nosuch: no such container' 'and says so'
fails 2 '--delete with a command is a usage error' vx -c $C --delete -- true
fails 2 '--delete with create options is a usage error' vx -c $C --delete --rootfs "$LOOP"
vminit_down; is $? 0 'vminit shuts down cleanly'
done_testing
