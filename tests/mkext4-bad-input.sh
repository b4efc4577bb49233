#!/bin/sh
# Bad input fails with exit 1, a message naming the entry and the cause,
# and leaves nothing at IMAGE (nor a temporary file beside it).
. "$(dirname "$0")/lib/tap.sh"
need bsdtar 'writes the tar stream'

mkdir -p "$T/out" "$T/src"
head -c 2000000 /dev/urandom > "$T/src/payload"
echo small > "$T/src/small"
(cd "$T/src" && bsdtar --format=ustar -cf "$T/good.tar" small payload)

bad() {	# description, expected text, tar file or -d DIR, [mkext4 options]
	d=$1 want=$2 in=$3; shift 3
	img=$T/out/img
	if [ "$in" = -d ]; then
		out=$(mkext4 -o "$img" "$@" 2>&1); st=$?
	else
		out=$(mkext4 -o "$img" "$@" < "$in" 2>&1); st=$?
	fi
	is "$st" 1 "$d: exit 1"
	like "$out" "$want" "$d: says why"
	is "$(ls -A "$T/out")" '' "$d: no image left"
}

head -c 1500000 "$T/good.tar" > "$T/truncated.tar"
bad 'truncated tar' 'payload: Truncated tar archive' "$T/truncated.tar"
{ head -c 1024 "$T/good.tar"; head -c 4096 /dev/urandom; } > "$T/corrupt.tar"
bad 'corrupt tar' 'reading tar after small' "$T/corrupt.tar"
python3 - "$T" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def mk(name, entries):
    t = tarfile.open(d + '/' + name, 'w', format=tarfile.PAX_FORMAT)
    for e in entries:
        ti = tarfile.TarInfo(e); t.addfile(ti)
    t.close()
mk('long.tar', ['ok', 'dir/' + 'n' * 256])
mk('escape.tar', ['a/../../etc/passwd'])
mk('notdir.tar', ['f', 'f/g'])
t = tarfile.open(d + '/dangling.tar', 'w', format=tarfile.PAX_FORMAT)
ti = tarfile.TarInfo('l'); ti.type = tarfile.LNKTYPE; ti.linkname = 'missing'; t.addfile(ti)
t.close()
PY
bad 'name over 255 bytes' 'name longer than 255 bytes' "$T/long.tar"
bad 'path escaping the root' 'a/../../etc/passwd: path escapes the root' "$T/escape.tar"
bad 'file used as a directory' 'f/g: f is not a directory' "$T/notdir.tar"
bad 'hard link to nothing' 'l: hard link to missing' "$T/dangling.tar"
bad 'tree too big for -s (tar)' 'payload: no space left in the image (use a larger -s)' "$T/good.tar" -s 1M
bad 'tree too big for -s (dir)' 'no space left in the image' -d -s 1M "$T/src"
bad 'missing directory' "$T/nonexistent:" -d "$T/nonexistent"
bad 'not a tar' 'reading tar' /etc/hostname

echo previous > "$T/out/keep"
mkext4 -o "$T/out/keep" < "$T/truncated.tar" 2>/dev/null
is "$(cat "$T/out/keep")" previous 'a failed run leaves an existing image alone'
is "$(ls -A "$T/out")" keep 'and no temporary file'
fails 2 'unknown option is a usage error' mkext4 --bogus -o "$T/x"
fails 2 'no -o is a usage error' mkext4
done_testing
