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

# Starts the pipe through a fifo; sets upid and mpid. Waits until mkext4
# has written some MiB of its image, so it is half way.
start() {
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	oci-unpack -i "$L" latest >"$T/fifo" 2>"$T/unpack.err" & upid=$!
	mkext4 -o "$D/rootfs.ext4" <"$T/fifo" 2>"$T/mkext4.err" & mpid=$!
	for _i in $(seq 1 400); do
		[ -n "$(find "$D" -name 'rootfs.ext4*' -size +8M 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	diag 'mkext4 did not get half way in 20 s'
	return 1
}
stop() { kill -9 $upid $mpid 2>/dev/null; wait $upid; wait $mpid; }

# (Not SIGINT: a background job of a script ignores it, as POSIX says.)
for sig in TERM KILL; do
	start; is $? 0 "oci-unpack | mkext4 is half way (SIG$sig to mkext4 next)"
	kill -$sig $mpid; wait $mpid; mst=$?
	wait $upid; ust=$?
	[ $mst -ne 0 ]; is $? 0 "mkext4 killed by SIG$sig exits non-zero ($mst)"
	[ $ust -ne 0 ]; is $? 0 "... oci-unpack stops with an error ($ust)"
	ok '... no image at rootfs.ext4' test ! -e "$D/rootfs.ext4"
	# TODO: mkext4 leaves its temporary rootfs.ext4.tmpXXXXXX behind: it
	# catches no signal (TERM, INT) and does not write to an O_TMPFILE
	# linked in at the end (KILL). Reported as a bug; then check:
	#   is "$(ls -A "$D")" '' '... and no temporary file'
	[ -n "$(ls -A "$D")" ] && diag "left behind: $(ls -A "$D" | tr '\n' ' ')"
	rm -f "$D"/rootfs.ext4*
done

start; is $? 0 'oci-unpack | mkext4 is half way (SIGKILL to oci-unpack next)'
kill -9 $upid; wait $upid
wait $mpid; mst=$?
# Where the stream stops depends on libarchive's 10 KiB blocks: inside an
# entry (mkext4 fails), or between two (see the TODO below).
if [ $mst -ne 0 ]; then
	is "$mst" 1 'mkext4 fed a stream cut by a killed oci-unpack exits 1'
	like "$(cat "$T/mkext4.err")" 'mkext4: ' '... saying why'
	is "$(ls -A "$D")" '' '... and leaves nothing behind'
else
	diag 'the stream stopped between two entries, and mkext4 took it as complete (TODO below)'
fi
rm -f "$D"/rootfs.ext4*

# Deterministic: a tar cut in the middle of an entry is refused.
mkdir -p "$T/tree"; head -c 100000 /dev/urandom >"$T/tree/a"; echo b >"$T/tree/b"
tar --format=pax -C "$T/tree" -cf "$T/t.tar" a b
head -c 50000 "$T/t.tar" | mkext4 -o "$D/cut.ext4" 2>"$T/err"; st=$?
is "$st" 1 'mkext4 refuses a tar cut inside an entry'
is "$(ls -A "$D")" '' '... leaving nothing'
# TODO: a tar cut between two entries (no end-of-archive blocks) and an
# empty stdin are taken as complete trees: exit 0 and an image. So a
# killed or failing producer can pass for a finished one unless the shell
# checks it (set -o pipefail). Reported as a bug; then check:
#   head -c 101888 "$T/t.tar" | mkext4 -o "$D/cut.ext4"   exit 1, no image
#   mkext4 -o "$D/empty.ext4" </dev/null                  exit 1, no image
done_testing
