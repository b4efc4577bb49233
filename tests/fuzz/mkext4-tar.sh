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
cat > "$W/target.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static char img[4096];
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int p[2];
	if (!img[0])
		snprintf(img, sizeof img, "%s/fuzz.img", getenv("FUZZ_WORK"));
	if (pipe(p) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]); close(p[1]);
		int null = open("/dev/null", 1);
		dup2(null, 2);
		execl(getenv("FUZZ_MKEXT4"), "mkext4", "-o", img, "-s", "8M", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	for (size_t off = 0; off < size;) {
		ssize_t n = write(p[1], data + off, size - off);
		if (n <= 0) break;
		off += (size_t)n;
	}
	close(p[1]);
	int st;
	waitpid(pid, &st, 0);
	/* 0: an image; 1: refused cleanly. Anything else is a bug. */
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
		abort();
	unlink(img);
	return 0;
}
C
sed -i 's/#include <unistd.h>/#include <unistd.h>\n#include <fcntl.h>\n#include <signal.h>/' "$W/target.c"
clang -g -O1 -fsanitize=fuzzer -o "$W/fuzz" "$W/target.c"
mkdir -p "$CORPUS"
if [ -z "$(ls -A "$CORPUS")" ]; then	# seeds: small valid archives
	s=$W/seed; mkdir -p "$s/d"; echo a > "$s/d/f"; ln -s f "$s/d/l"; ln "$s/d/f" "$s/h"
	(cd "$s" && bsdtar --format=pax -cf "$CORPUS/seed-pax.tar" .)
	(cd "$s" && bsdtar --format=gnutar -cf "$CORPUS/seed-gnu.tar" .)
	(cd "$s" && bsdtar --format=ustar -cf "$CORPUS/seed-ustar.tar" .)
fi
FUZZ_WORK=$W FUZZ_MKEXT4=$TOP/build/san/bin/mkext4 "$W/fuzz" -max_total_time="${FUZZ_SECONDS:-60}" \
	-max_len=65536 -timeout=20 -artifact_prefix="$CORPUS/" "$CORPUS" 2>&1 | tail -5 ||
	{ echo "fuzz: crashes kept in $CORPUS" >&2; exit 1; }
