#!/bin/sh
# chain-pipeline-interrupted: oci-unpack | mkext4 for the Debian image,
# interrupted half way. Killing mkext4 leaves no image and stops oci-unpack
# with an error; killing oci-unpack leaves no image either, since mkext4
# refuses a tar stream cut in the middle of an entry.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"
need mkfifo 'joins the two tools so each can be killed alone'

L=$(image_layout debian) || exit 1
D=$T/out
mkdir -p "$D"

# Starts the pipe through a fifo; sets upid and mpid. Waits until the
# pipe is half way: oci-unpack has written 20 MiB of the stream and
# mkext4 holds its image open (an unnamed O_TMPFILE until complete, found
# through mkext4's open files). mkext4 then stays stopped until killed,
# so oci-unpack cannot finish meanwhile: mkext4 keeps much of the tree in
# memory, and oci-unpack may otherwise be done before the kill lands.
start() {
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	oci-unpack -i "$L" latest >"$T/fifo" 2>"$T/unpack.err" & upid=$!
	mkext4 -o "$D/rootfs.ext4" <"$T/fifo" 2>"$T/mkext4.err" & mpid=$!
	for _i in $(seq 1 400); do
		_w=$(sed -n 's/^wchar: //p' "/proc/$upid/io" 2>/dev/null)
		if [ "${_w:-0}" -gt 20971520 ] &&
		    [ -n "$(find -L "/proc/$mpid/fd" -type f 2>/dev/null)" ]; then
			kill -STOP $mpid
			kill -0 $upid 2>/dev/null && return 0
			diag 'oci-unpack was done before mkext4 stopped'
			return 1
		fi
		sleep 0.05
	done
	diag 'the pipe did not get half way in 20 s'
	return 1
}
stop() { kill -9 $upid $mpid 2>/dev/null; wait $upid; wait $mpid; }

# (Not SIGINT: a background job of a script ignores it, as POSIX says.)
for sig in TERM KILL; do
	start; is $? 0 "oci-unpack | mkext4 is half way (SIG$sig to mkext4 next)"
	kill -$sig $mpid; kill -CONT $mpid; wait $mpid 2>/dev/null; mst=$?
	wait $upid; ust=$?
	[ $mst -ne 0 ]; is $? 0 "mkext4 killed by SIG$sig exits non-zero ($mst)"
	[ $ust -ne 0 ]; is $? 0 "... oci-unpack stops with an error ($ust)"
	ok '... no image at rootfs.ext4' test ! -e "$D/rootfs.ext4"
	is "$(ls -A "$D")" '' '... and no temporary file'
	rm -f "$D"/rootfs.ext4*
done

start; is $? 0 'oci-unpack | mkext4 is half way (SIGKILL to oci-unpack next)'
kill -9 $upid; wait $upid 2>/dev/null; kill -CONT $mpid
wait $mpid; mst=$?
# Wherever the stream stops, inside an entry or between two (no
# end-of-archive marker), mkext4 refuses it.
is "$mst" 1 'mkext4 fed a stream cut by a killed oci-unpack exits 1'
like "$(cat "$T/mkext4.err")" 'mkext4: ' '... saying why'
diag "$(cat "$T/mkext4.err")"
is "$(ls -A "$D")" '' '... and leaves nothing behind'
rm -f "$D"/rootfs.ext4*

# Deterministic: a tar cut in the middle of an entry is refused.
mkdir -p "$T/tree"; head -c 100000 /dev/urandom >"$T/tree/a"; echo b >"$T/tree/b"
tar --format=pax -C "$T/tree" -cf "$T/t.tar" a b
head -c 50000 "$T/t.tar" | mkext4 -o "$D/cut.ext4" 2>"$T/err"; st=$?
is "$st" 1 'mkext4 refuses a tar cut inside an entry'
is "$(ls -A "$D")" '' '... leaving nothing'
# A tar cut between two entries (no end-of-archive blocks) and an empty
# stdin are refused too, so a killed producer cannot pass for a finished
# one even without set -o pipefail. The pax header of b starts at 101888.
head -c 101888 "$T/t.tar" | mkext4 -o "$D/cut.ext4" 2>"$T/err"; st=$?
is "$st" 1 'mkext4 refuses a tar cut between two entries'
like "$(cat "$T/err")" 'mkext4: stdin: tar stream ends without its end-of-archive marker (truncated?)' '... saying so'
is "$(ls -A "$D")" '' '... leaving nothing'
# One of the two zero blocks is not the marker either.
{ head -c 101888 "$T/t.tar"; head -c 512 /dev/zero; } | mkext4 -o "$D/cut.ext4" 2>"$T/err"; st=$?
is "$st" 1 'mkext4 refuses a tar ending in one zero block'
is "$(ls -A "$D")" '' '... leaving nothing'
mkext4 -o "$D/empty.ext4" </dev/null 2>"$T/err"; st=$?
is "$st" 1 'mkext4 refuses an empty stdin'
is "$(cat "$T/err")" 'mkext4: stdin: empty input, no tar stream' '... saying so'
is "$(ls -A "$D")" '' '... leaving nothing'
# Whole archives pass: cut just after the marker, GNU tar's, bsdtar's,
# and a tar of nothing but the marker.
head -c 104960 "$T/t.tar" | mkext4 -o "$D/whole.ext4"; is $? 0 'a tar cut just after its end-of-archive marker is whole'
tar --format=gnu -C "$T/tree" -cf - a b | mkext4 -o "$D/whole.ext4"; is $? 0 'a GNU tar stream is whole'
if command -v bsdtar >/dev/null; then
	bsdtar --format=pax -b 1 -C "$T/tree" -cf - a b | mkext4 -o "$D/whole.ext4"
	is $? 0 'an unpadded bsdtar stream is whole'
fi
head -c 1024 /dev/zero | mkext4 -o "$D/whole.ext4"; is $? 0 'an empty tar archive (just the marker) is whole'
# A compressed stream cut anywhere fails its decompressor's check.
gzip -c "$T/t.tar" | head -c 60000 | mkext4 -o "$D/gz.ext4" 2>"$T/err"; st=$?
is "$st" 1 'mkext4 refuses a cut gzip stream'
if command -v zstd >/dev/null; then
	zstd -q -c "$T/t.tar" | head -c 60000 | mkext4 -o "$D/zst.ext4" 2>"$T/err"; st=$?
	is "$st" 1 'mkext4 refuses a cut zstd stream'
fi
rm -f "$D/whole.ext4"
# oci-unpack's own stream ends with the marker, checked byte by byte: the
# last entry's end is followed by two zero blocks (and padding).
oci-unpack -i "$L" latest >"$T/full.tar" || exit 1
ok "oci-unpack's stream is a multiple of 512 bytes" test $(($(wc -c <"$T/full.tar") % 512)) -eq 0
ok "... and ends in zero blocks" test "$(tail -c 1024 "$T/full.tar" | tr -d '\0' | wc -c)" -eq 0
mkext4 -o "$D/whole.ext4" <"$T/full.tar"; is $? 0 '... which mkext4 takes as whole'
done_testing
