#!/bin/sh
# Every file type, mode bit, 32-bit owner and nanosecond time survives,
# from a directory and from a pax tar stream.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/ext4check.sh"
need e2fsck 'judges the image'
need fuse2fs 'reads the image back'
need bsdtar 'writes the tar stream'
[ "$(id -u)" = 0 ] || skip_all 'device nodes need root'

s=$T/src
mkdir -p "$s/dir/sub" "$s/sticky"
printf 'hello\n' > "$s/file"
head -c 300000 /dev/urandom > "$s/dir/random"
: > "$s/empty"
ln -s file "$s/fastlink"
ln -s "$(printf 'x%.0s' $(seq 59))" "$s/link59"
ln -s "$(printf 'y%.0s' $(seq 60))" "$s/link60"
ln -s "$(printf 'z%.0s' $(seq 3000))" "$s/link3000"
mkfifo "$s/fifo"
mknod "$s/null" c 1 3
mknod "$s/bigdev" b 300 70000
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$s/sock"
chmod 4755 "$s/file"; chmod 2755 "$s/dir"; chmod 1777 "$s/sticky"; chmod 0 "$s/empty"
chown 4000000000:3000000000 "$s/dir/random"
chown 65534:65534 "$s/fifo"
touch -h -d '2001-02-03 04:05:06.123456789' "$s/fastlink"
touch -d '1969-07-20 20:17:40.5' "$s/dir/sub"
touch -d '2100-01-01 00:00:00.999999999' "$s/file"

ok 'image from a directory' mkext4 -o "$T/d.img" "$s"
ok 'e2fsck finds nothing' fsck_clean "$T/d.img"
ok 'every entry matches the source' tree_matches "$T/d.img" "$s"
is "$(mtime_ns "$T/d.img" /file)" "$(stat -c %.9Y "$s/file")" 'nanoseconds kept past 2038'
is "$(mtime_ns "$T/d.img" /fastlink)" "$(stat -c %.9Y "$s/fastlink")" 'nanoseconds kept on a symlink'
like "$(debugfs -R 'stat /link60' "$T/d.img" 2>/dev/null)" 'EXTENTS:' 'a 60-byte target is a slow symlink'
like "$(debugfs -R 'stat /link59' "$T/d.img" 2>/dev/null)" 'Fast link dest:' 'a 59-byte target is a fast symlink'
like "$(debugfs -R 'stat /bigdev' "$T/d.img" 2>/dev/null)" 'major/minor number: 300:70000' 'large device numbers use the new encoding'

rm "$s/sock"	# pax has no sockets
(cd "$s" && bsdtar --format=pax -cf "$T/src.tar" .)
ok 'image from a tar stream' sh -c 'mkext4 -o "$1" < "$2"' sh "$T/t.img" "$T/src.tar"
ok 'e2fsck finds nothing (tar)' fsck_clean "$T/t.img"
ok 'every entry matches the source (tar)' tree_matches "$T/t.img" "$s"
is "$(mtime_ns "$T/t.img" /dir/sub)" "$(stat -c %.9Y "$s/dir/sub")" 'times before 1970 kept (tar)'
done_testing
