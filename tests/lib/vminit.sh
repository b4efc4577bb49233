# vminit.sh: vminit in host mode for tests. Source after tap.sh.
#   vminit_up        builds a busybox rootfs ext4 image on a loop device
#                    ($LOOP) and starts vminit as PID 1 of a new PID and
#                    mount namespace, listening on $SOCK (unix:...)
#   vx ARGS...       vmexec against it
need unshare 'vminit runs as PID 1 of a new PID namespace'
need mke2fs 'test rootfs images'
need losetup 'loop devices'
[ "$(id -u)" = 0 ] || skip_all 'needs root (namespaces, mounts, loop devices)'
[ -x "$BIN/vminit" ] || skip_all 'vminit not built (musl-gcc missing?)'

vminit_up() {
	r=$T/rootfs
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/proc" "$r/sys" "$r/dev" &&
	cp /bin/busybox "$r/bin/busybox" &&
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
	done &&
	chmod 1777 "$r/tmp" &&
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nalice:x:1000:1000::/home/alice:/bin/sh\n' >"$r/etc/passwd" &&
	printf 'root:x:0:\nnogroup:x:65534:\nalice:x:1000:\nstaff:x:50:alice\n' >"$r/etc/group" &&
	mke2fs -q -t ext4 -d "$r" "$T/rootfs.ext4" 64M || return 1
	LOOP=$(losetup -f --show "$T/rootfs.ext4") || return 1
	at_exit "losetup -d $LOOP"
	SOCK=unix:$T/vminit.sock
	unshare -mpf --mount-proc --kill-child ${VMINIT_WRAP:-} "$BIN/vminit" --listen "$SOCK" \
		--run "$T/run" >"$T/vminit.log" 2>&1 &
	VMINIT_PID=$!
	at_exit "kill -9 $VMINIT_PID; sleep 0.2; umount -l $T/run/*/rootfs 2>/dev/null; for d in /sys/fs/cgroup/*/cz/ctr-$$-* /sys/fs/cgroup/cz/ctr-$$-*; do rmdir \$d; done"
	for _ in $(seq 50); do [ -S "$T/vminit.sock" ] && return 0; sleep 0.1; done
	diag "vminit did not start" "$(cat "$T/vminit.log")"
	return 1
}

vx() { "$BIN/vmexec" "$SOCK" "$@"; }

# A container running "sleep 1000" as its main process, named $1.
ctr_up() {	# id [create options]
	_id=$1; shift
	vx -c "$_id" --create --rootfs "$LOOP" -n "$@" -- sleep 1000 >/dev/null 2>&1 &
	# Not probing with a process: the first one created is the main one.
	for _ in $(seq 50); do
		grep -q "started $_id/" "$T/vminit.log" && return 0
		sleep 0.1
	done
	return 1
}
