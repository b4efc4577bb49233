# ext4check.sh: judge an ext4 image with e2fsprogs, not with our reader.
#   fsck_clean IMAGE          e2fsck -fn prints nothing but its passes and
#                             summary, and e2fsck -fy on a copy exits 0
#   tree_matches IMAGE DIR    the image, mounted read-only by fuse2fs, has
#                             the same entries as DIR: types, modes, owners,
#                             sizes, mtimes (to the second: fuse2fs drops
#                             nanoseconds, see mtime_ns), link
#                             counts and hard-link groups, devices, symlink
#                             targets, contents (but of files named
#                             $EXT4CHECK_SKIP_CONTENT) and xattrs
# Source after tap.sh.

fsck_clean() {
	_out=$(e2fsck -fn "$1" 2>&1); _st=$?
	_bad=$(printf '%s\n' "$_out" | grep -v -e '^e2fsck [0-9]' -e '^Pass [1-5]: ' \
		-e ': [0-9]*/[0-9]* files (.* non-contiguous), [0-9]*/[0-9]* blocks$')
	if [ $_st -ne 0 ] || [ -n "$_bad" ]; then
		printf '%s\n' "$_out" | head -40 >&2
		return 1
	fi
	cp --sparse=always "$1" "$1.fsck" || return 1
	e2fsck -fy "$1.fsck" >/dev/null 2>&1; _st=$?
	rm -f "$1.fsck"
	[ $_st -eq 0 ] || { echo "e2fsck -fy exited $_st" >&2; return 1; }
}

_ext4check_py() {
	cat > "$T/ext4compare.py" <<'PY'
import hashlib, os, stat, sys
src, mnt = sys.argv[1], sys.argv[2]
bad = []
def digest(p):
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)
def xattrs(p):
    try:
        return {k: os.getxattr(p, k, follow_symlinks=False) for k in os.listxattr(p, follow_symlinks=False)}
    except OSError:
        return {}
groups = {}
def walk(rel):
    a, b = os.path.join(src, rel), os.path.join(mnt, rel)
    sa, sb = os.lstat(a), os.lstat(b)
    def want(what, x, y):
        if x != y:
            bad.append('%s: %s %r != %r' % (rel or '/', what, x, y))
    want('mode', oct(sa.st_mode), oct(sb.st_mode))
    want('owner', (sa.st_uid, sa.st_gid), (sb.st_uid, sb.st_gid))
    want('mtime', sa.st_mtime_ns // 10**9, sb.st_mtime_ns // 10**9)
    if not stat.S_ISDIR(sa.st_mode):
        want('nlink', sa.st_nlink, sb.st_nlink)
        want('size', sa.st_size, sb.st_size)
        if sa.st_nlink > 1:
            groups.setdefault((sa.st_dev, sa.st_ino), set()).add(sb.st_ino)
    if rel or 'lost+found' in os.listdir(src):
        want('xattrs', xattrs(a), xattrs(b))
    if stat.S_ISREG(sa.st_mode) and os.path.basename(rel) != os.environ.get('EXT4CHECK_SKIP_CONTENT'):
        want('content', digest(a), digest(b))
    elif stat.S_ISLNK(sa.st_mode):
        want('target', os.readlink(a), os.readlink(b))
    elif stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode):
        want('rdev', sa.st_rdev, sb.st_rdev)
    elif stat.S_ISDIR(sa.st_mode):
        ea = sorted(os.listdir(a))
        eb = sorted(x for x in os.listdir(b) if rel or x != 'lost+found' or 'lost+found' in ea)
        want('entries', ea, eb)
        for n in ea:
            if n in eb:
                walk(os.path.join(rel, n))
walk('')
for k, v in groups.items():
    if len(v) != 1:
        bad.append('hard links of one source inode became inodes %s' % sorted(v))
for b in bad[:30]:
    print(b)
sys.exit(1 if bad else 0)
PY
}

tree_matches() {
	_ext4check_py
	_mnt=$T/mnt.$$
	mkdir -p "$_mnt"
	fuse2fs -o ro,fakeroot,use_ino "$1" "$_mnt" >/dev/null 2>&1 || { echo "fuse2fs failed" >&2; return 1; }
	python3 "$T/ext4compare.py" "$2" "$_mnt"; _st=$?
	umount "$_mnt" 2>/dev/null || fusermount -u "$_mnt" 2>/dev/null
	rmdir "$_mnt"
	return $_st
}

# The mtime of PATH in IMAGE as debugfs shows it: seconds.nanoseconds,
# with the two epoch bits of the extra field (ext4 decodes it so).
mtime_ns() {
	debugfs -R "stat $2" "$1" 2>/dev/null | sed -n 's/^ *mtime: 0x\([0-9a-f]*\):\([0-9a-f]*\).*/\1 \2/p' |
	{ read -r s x && s=$((0x$s)) x=$((0x$x)) &&
	  [ $s -ge 2147483648 ] && s=$((s - 4294967296)); s=$((s + (x & 3) * 4294967296))
	  x=$((x >> 2))
	  if [ $s -lt 0 ] && [ $x -gt 0 ]; then printf -- '-%d.%09d\n' $((-s - 1)) $((1000000000 - x))
	  else printf '%d.%09d\n' $s $x; fi; }
}
