#!/bin/sh
# libFuzzer on mkext4's tar path for a bounded time (FUZZ_SECONDS, 60 by
# default). The target feeds each input as a tar stream to a forked
# mkext4 built with ASan and UBSan (die() exits, so the fuzzer must not
# run it in-process). Crashes are kept in tests/fuzz/mkext4-corpus/ as
# crash-*, replayed by tests/mkext4-fuzz-regress.sh.
set -e
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=$TOP/tests/fuzz/mkext4-corpus
W=$(mktemp -d "${TMPDIR:-/tmp}/cz-fuzz.XXXXXX")
trap 'rm -rf "$W"' EXIT
command -v clang >/dev/null || { echo "fuzz: clang missing" >&2; exit 1; }
cd "$TOP"
make -s SAN=1 build/san/bin/mkext4
# The target runs under libFuzzer's SIGALRM, which it installs without
# SA_RESTART and fires every -timeout/2+1 s whatever the run: write and
# waitpid must retry on EINTR. (crash-ec390a41... was that: waitpid
# interrupted, an uninitialised status judged, abort(); it replays clean.)
# ASan and UBSan exit 1 by default, which would pass for a clean refusal:
# the child gets its own exit code for them.
cat > "$W/target.c" <<'C'
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#define SAN_EXIT "exitcode=99:halt_on_error=1:abort_on_error=0"
static char img[4096];
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int p[2];
	if (!img[0]) {
		snprintf(img, sizeof img, "%s/fuzz.img", getenv("FUZZ_WORK"));
		signal(SIGPIPE, SIG_IGN);
	}
	if (pipe(p) < 0)
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]); close(p[1]);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		signal(SIGPIPE, SIG_DFL);
		setenv("ASAN_OPTIONS", SAN_EXIT, 1);
		setenv("UBSAN_OPTIONS", SAN_EXIT, 1);
		execl(getenv("FUZZ_MKEXT4"), "mkext4", "-o", img, "-s", "8M", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	for (size_t off = 0; off < size;) {
		ssize_t n = write(p[1], data + off, size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* EPIPE: mkext4 stopped reading, judged below */
		off += (size_t)n;
	}
	close(p[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			abort();
	/* 0: an image; 1: refused cleanly. Anything else is a bug. */
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
		fprintf(stderr, "mkext4: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		abort();
	}
	unlink(img);
	return 0;
}
C
clang -g -O1 -fsanitize=fuzzer -o "$W/fuzz" "$W/target.c"
mkdir -p "$CORPUS"
if [ -z "$(ls -A "$CORPUS")" ]; then	# seeds: small valid archives
	s=$W/seed; mkdir -p "$s/d"; echo a > "$s/d/f"; ln -s f "$s/d/l"; ln "$s/d/f" "$s/h"
	(cd "$s" && bsdtar --format=pax -cf "$CORPUS/seed-pax.tar" .)
	(cd "$s" && bsdtar --format=gnutar -cf "$CORPUS/seed-gnu.tar" .)
	(cd "$s" && bsdtar --format=ustar -cf "$CORPUS/seed-ustar.tar" .)
fi
# (Not "| tail": a pipeline's status is tail's, and a crash went unseen.)
st=0
FUZZ_WORK=$W FUZZ_MKEXT4=$TOP/build/san/bin/mkext4 "$W/fuzz" -max_total_time="${FUZZ_SECONDS:-60}" \
	-max_len=65536 -timeout=20 -artifact_prefix="$CORPUS/" "$CORPUS" >"$W/log" 2>&1 || st=$?
tail -5 "$W/log"
[ "$st" -eq 0 ] || { grep -m1 '^mkext4: ' "$W/log" >&2; echo "fuzz: crashes kept in $CORPUS" >&2; exit 1; }
