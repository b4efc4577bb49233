# vminit.sh: vminit in host mode for tests. Source after tap.sh.
#   vminit_up        builds a busybox rootfs ext4 image on a loop device
#                    ($LOOP) and starts vminit as PID 1 of a new PID and
#                    mount namespace, listening on $SOCK (unix:...)
#                    (VMINIT: another vminit binary; VMINIT_WRAP: unshare
#                    options or a command such as valgrind before it)
#   vminit_down      asks it to shut down; returns its exit status
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
	truncate -s 64M "$T/rootfs.ext4" && mke2fs -q -t ext4 -d "$r" "$T/rootfs.ext4" || return 1
	LOOP=$(losetup -f --show "$T/rootfs.ext4") || return 1
	at_exit "losetup -d $LOOP"
	SOCK=unix:$T/vminit.sock
	unshare -mpf --mount-proc --kill-child ${VMINIT_WRAP:-} "${VMINIT:-$BIN/vminit}" --listen "$SOCK" \
		--run "$T/run" >"$T/vminit.log" 2>&1 &
	VMINIT_PID=$!
	at_exit "kill -9 $VMINIT_PID; sleep 0.2; umount -l $T/run/*/rootfs 2>/dev/null; for d in /sys/fs/cgroup/*/cz/ctr-$$-* /sys/fs/cgroup/cz/ctr-$$-*; do rmdir \$d; done"
	for _ in $(seq 50); do [ -S "$T/vminit.sock" ] && return 0; sleep 0.1; done
	diag "vminit did not start" "$(cat "$T/vminit.log")"
	return 1
}

vx() { ${VX_WRAP:-} "$BIN/vmexec" "$SOCK" "$@"; }

vminit_down() {
	vop OP_SHUTDOWN A_REASON=test >/dev/null || return 1
	wait "$VMINIT_PID"
}

# A container running "sleep 1000" as its main process, named $1; the
# vmexec waiting for it is $CTR_PID.
ctr_up() {	# id [create options]
	_id=$1; shift
	# The same id again (after a delete) must start anew.
	_n0=$(grep -c "started $_id/" "$T/vminit.log")
	vx -c "$_id" --create --rootfs "$LOOP" -n "$@" -- sleep 1000 >/dev/null 2>&1 &
	CTR_PID=$!
	# Not probing with a process: the first one created is the main one.
	for _ in $(seq 50); do
		[ "$(grep -c "started $_id/" "$T/vminit.log")" -gt "$_n0" ] && return 0
		sleep 0.1
	done
	return 1
}

# One request to vminit, with the numbers read from lib/proto.h:
#   vop OP_NET_ADDR A_IFNAME=eth0 A_ADDR=10.0.0.2/24 A_MTU=u32:1400 A_UP
# VALUE is a string, or u32:N / u64:N; a bare name is a flag. Prints "ok"
# and the reply's attributes (NAME=VALUE, one a line), or "error ERRNO
# MESSAGE" and fails.
vop() {
	python3 - "$TOP/lib/proto.h" "${SOCK#unix:}" "$@" <<'PY'
import re, socket, struct, sys
src = open(sys.argv[1]).read()
def enum(name):
    body = re.search(r'enum ' + name + r' \{(.*?)\};', src, re.S).group(1)
    out, n = {}, 0
    for m in re.finditer(r'^\s*([A-Z_0-9]+)(?:\s*=\s*(\d+))?,', body, re.M):
        n = int(m.group(2)) if m.group(2) else n + 1
        out[m.group(1)] = n
    return out
ops, attrs = enum('proto_op'), enum('proto_attr_type')
names = {v: k for k, v in attrs.items()}
def attr(t, data):
    a = struct.pack('<HH', 4 + len(data), t) + data
    return a + b'\0' * ((4 - len(a) % 4) % 4)
def msg(typ, body, id):
    return struct.pack('<IBBHI', 12 + len(body), 1, 0, typ, id) + body
body = b''
for a in sys.argv[4:]:
    k, _, v = a.partition('=')
    if not _:
        body += attr(attrs[k], b'')
    elif v.startswith('u32:'):
        body += attr(attrs[k], struct.pack('<I', int(v[4:], 0)))
    elif v.startswith('u64:'):
        body += attr(attrs[k], struct.pack('<Q', int(v[4:], 0)))
    else:
        body += attr(attrs[k], v.encode() + b'\0')
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[2])
s.settimeout(10)
def recv():
    b = b''
    while len(b) < 12:
        b += s.recv(12 - len(b)) or sys.exit('eof')
    n = struct.unpack('<I', b[:4])[0]
    while len(b) < n:
        b += s.recv(n - len(b)) or sys.exit('eof')
    return b
s.sendall(msg(ops['OP_HELLO'], attr(attrs['A_VERSION'], struct.pack('<I', 1)), 1))
recv()
s.sendall(msg(ops[sys.argv[3]], body, 2))
r = recv()
flags, p, out = r[5], 12, {}
while p + 4 <= len(r):
    l, t = struct.unpack('<HH', r[p:p + 4])
    d = r[p + 4:p + l]
    out[names.get(t, t)] = d
    p += (l + 3) & ~3
if flags & 2:
    print('error', struct.unpack('<I', out['A_ERRNO'])[0], out.get('A_ERRMSG', b'').rstrip(b'\0').decode())
    sys.exit(1)
print('ok')
for k, d in out.items():
    v = (struct.unpack('<Q', d)[0] if len(d) == 8 else struct.unpack('<I', d)[0] if len(d) == 4
         else d.rstrip(b'\0').decode(errors='replace'))
    print('%s=%s' % (k, v))
PY
}
