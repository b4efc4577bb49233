#!/bin/sh
# mkext4 killed half way leaves nothing behind: no image, no temporary
# file, and an IMAGE that was there before stays as it was. The image is
# an unnamed file (O_TMPFILE) linked in when complete, so even SIGKILL
# leaves nothing; where O_TMPFILE fails (here: a preloaded shim makes it
# fail as on a filesystem without it), a named temporary file is removed
# on SIGTERM, SIGINT, SIGHUP and SIGPIPE.
. "$(dirname "$0")/lib/tap.sh"
need mkfifo 'holds mkext4 half way'
need cc 'builds the shim that takes O_TMPFILE away'

D=$T/out
mkdir -p "$D" "$T/tree"
head -c 3000000 /dev/urandom >"$T/tree/big"
echo small >"$T/tree/small"
tar --format=pax -C "$T/tree" -cf "$T/t.tar" big small

cat >"$T/notmpfile.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
/* open(2) as on a filesystem without O_TMPFILE. */
#define SHIM(name) \
int name(const char *path, int flags, ...) \
{ \
	static int (*real)(const char *, int, ...); \
	va_list ap; \
	va_start(ap, flags); \
	int mode = va_arg(ap, int); \
	va_end(ap); \
	if ((flags & O_TMPFILE) == O_TMPFILE) { \
		errno = EOPNOTSUPP; \
		return -1; \
	} \
	if (!real) \
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name); \
	return real(path, flags, mode); \
}
SHIM(open)
SHIM(open64)
EOF
cc -shared -fPIC -o "$T/notmpfile.so" "$T/notmpfile.c" -ldl || exit 1
# ASan wants to come first among the libraries; the shim is harmless.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# Starts mkext4 -o $D/img on a fifo, with PRELOAD, and feeds it the first
# MiB of the tar; sets mpid. Returns once mkext4 has its image open.
start() {
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	# env --default-signal: a background job starts with SIGINT ignored,
	# and under nohup SIGHUP is too (mkext4 leaves ignored signals so).
	LD_PRELOAD=$1 env --default-signal=INT,HUP mkext4 -o "$D/img" <"$T/fifo" 2>"$T/err" & mpid=$!
	exec 3>"$T/fifo"
	head -c 1048576 "$T/t.tar" >&3
	for _i in $(seq 1 200); do
		ls -l "/proc/$mpid/fd" 2>/dev/null | grep -q "$D/" && return 0
		sleep 0.05
	done
	diag "mkext4 did not open its image in 10 s: $(cat "$T/err")"
	return 1
}

for mode in O_TMPFILE named; do
	pre=; [ $mode = named ] && pre=$T/notmpfile.so
	sigs='TERM INT HUP KILL'; [ $mode = named ] && sigs='TERM INT HUP PIPE'
	for sig in $sigs; do
		start "$pre"; is $? 0 "$mode: mkext4 is half way (SIG$sig next)"
		if [ $mode = named ]; then
			is "$(ls -A "$D" | sed 's/tmp.*/tmp/')" img.tmp '... writing a named temporary file'
		else
			is "$(ls -A "$D")" '' '... writing an unnamed file'
		fi
		kill -$sig $mpid; wait $mpid 2>/dev/null; st=$?; exec 3>&-
		[ $st -gt 128 ]; is $? 0 "... killed by SIG$sig ($st)"
		is "$(ls -A "$D")" '' '... leaves nothing behind'
		rm -f "$D"/*
	done

	# Over an existing image: untouched when killed, replaced when done.
	echo old >"$D/img"
	start "$pre"; is $? 0 "$mode: mkext4 over an existing IMAGE is half way"
	kill -TERM $mpid; wait $mpid 2>/dev/null; exec 3>&-
	is "$(cat "$D/img")" old '... killed, the old IMAGE is untouched'
	is "$(ls -A "$D")" img '... and nothing else is there'
	LD_PRELOAD=$pre mkext4 -o "$D/img" <"$T/t.tar"; is $? 0 '... run to the end, it succeeds'
	ok '... replacing IMAGE with a filesystem' e2fsck -fn "$D/img"
	is "$(ls -A "$D")" img '... and leaves no temporary file'
	rm -f "$D/img"
	(umask 027; LD_PRELOAD=$pre exec mkext4 -o "$D/img" <"$T/t.tar"); is $? 0 "$mode: a new IMAGE"
	ok '... is a filesystem' e2fsck -fn "$D/img"
	is "$(stat -c %a "$D/img")" 640 '... with the mode umask 027 gives'
	is "$(ls -A "$D")" img '... and no temporary file'
	rm -f "$D/img"
done

# A failure half way (a tar cut inside an entry) leaves nothing either.
head -c 1048576 "$T/t.tar" | mkext4 -o "$D/img" 2>/dev/null; is $? 1 'a failed run exits 1'
is "$(ls -A "$D")" '' '... leaving nothing'
head -c 1048576 "$T/t.tar" | LD_PRELOAD=$T/notmpfile.so mkext4 -o "$D/img" 2>/dev/null
is $? 1 '... and without O_TMPFILE'
is "$(ls -A "$D")" '' '... leaving nothing'
done_testing
