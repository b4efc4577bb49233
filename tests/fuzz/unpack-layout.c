/* unpack-layout.c: libFuzzer target for oci-unpack's layout.c: index,
 * manifest and config JSON, reference and platform matching. Input:
 * reference, platform, index.json, manifest, config and a nested index,
 * separated by NUL. The fuzzer cannot guess digests, so in the manifest
 * "@C"/"@c" become the config's digest and size, and in the indexes
 * "@M"/"@m" the manifest's, "@S"/"@s" the nested index's. The files go
 * to a scratch layout; die() jumps back here instead of exiting. */
#include "layout.h"
#include "err.h"
#include "xalloc.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARTS 6
/* layout.c is built with its allocations renamed to fz_* (see
 * unpack-layout.sh), so that what die() jumps over is freed here and
 * what a successful load leaves behind is a leak. */
#define MAX_LIVE 4096

enum { HEAP, TREE };
static struct { void *p; int kind; } live[MAX_LIVE];
static size_t nlive;

static void *track(void *p, int kind)
{
	size_t i;

	for (i = 0; p && i < MAX_LIVE; i++)
		if (!live[i].p) {
			live[i].p = p;
			live[i].kind = kind;
			nlive++;
			return p;
		}
	if (p)
		abort();	/* raise MAX_LIVE */
	return p;
}

static void untrack(void *p)
{
	size_t i;

	for (i = 0; p && i < MAX_LIVE; i++)
		if (live[i].p == p) {
			live[i].p = NULL;
			nlive--;
			return;
		}
}

void *fz_xmalloc(size_t n) { return track(xmalloc(n), HEAP); }
void *fz_xcalloc(size_t n, size_t sz) { return track(xcalloc(n, sz), HEAP); }
char *fz_xstrdup(const char *s) { return track(xstrdup(s), HEAP); }
void *fz_xrealloc(void *p, size_t n)
{
	untrack(p);
	return track(xrealloc(p, n), HEAP);
}
void fz_free(void *p)
{
	untrack(p);
	free(p);
}
yajl_val fz_json_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	return track(json_parse(buf, len, err, errlen), TREE);
}
void fz_json_free(yajl_val v)
{
	untrack(v);
	json_free(v);
}

const char *progname = "unpack-layout";
static jmp_buf back;
static char scratch[256];
static int dirfd_ = -1;

void setprogname(const char *argv0) { (void)argv0; }
void vwarnf(const char *fmt, va_list ap) { (void)fmt; (void)ap; }
void warnf(const char *fmt, ...) { (void)fmt; }
void debugf(const char *fmt, ...) { (void)fmt; }
void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* formats must be sound */
	va_end(ap);
	longjmp(back, 1);
}

static void cleanup(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: not removed\n", scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("FUZZ_TMP");

	(void)argc; (void)argv;
	if (!tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/unpack-layout.XXXXXX", tmp);
	if (!mkdtemp(scratch))
		abort();
	atexit(cleanup);
	dirfd_ = open(scratch, O_RDONLY | O_DIRECTORY);
	if (dirfd_ < 0 || mkdirat(dirfd_, "blobs", 0700) < 0 ||
	    mkdirat(dirfd_, "blobs/sha256", 0700) < 0)
		abort();
	return 0;
}

/* s with every "@X" of the table replaced, newly allocated. */
static char *subst(const char *s, size_t len, const char *keys,
		   char vals[][80], size_t *outlen)
{
	char *out = malloc(len * 80 + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		const char *k = i + 1 < len && s[i] == '@' ?
			strchr(keys, s[i + 1]) : NULL;
		if (k && s[i + 1]) {
			size_t n = strlen(vals[k - keys]);
			memcpy(o, vals[k - keys], n);
			o += n;
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	*outlen = o - out;
	return out;
}

/* Writes a blob, sets its digest and size into vals[d], vals[d + 1]. */
static void put_blob(const char *buf, size_t len, char vals[][80], int d)
{
	struct digest dg;
	char path[DIGEST_MAX_STR + 16];
	int fd;

	digest_buffer(DIGEST_SHA256, buf, len, &dg);
	digest_format(&dg, vals[d]);
	snprintf(vals[d + 1], 80, "%zu", len);
	snprintf(path, sizeof(path), "blobs/sha256/%s", dg.hex);
	fd = openat(dirfd_, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char keys[] = "CcMmSs";
	const char *part[PARTS];
	size_t plen[PARTS], n, i;
	char vals[6][80] = { "", "", "", "", "", "" };
	char *buf = malloc(size + 1), *m, *s, *idx;
	const char *p;
	struct image img;
	volatile int fd;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0, p = buf; i < PARTS; i++) {
		part[i] = p;
		plen[i] = strnlen(p, buf + size - p);
		p += plen[i] + (p + plen[i] < buf + size);
	}
	put_blob(part[4], plen[4], vals, 0);			/* config */
	m = subst(part[3], plen[3], keys, vals, &n);
	put_blob(m, n, vals, 2);				/* manifest */
	s = subst(part[5], plen[5], keys, vals, &n);
	put_blob(s, n, vals, 4);				/* nested index */
	idx = subst(part[2], plen[2], keys, vals, &n);
	fd = openat(dirfd_, "index.json", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, idx, n) != (ssize_t)n || close(fd) < 0)
		abort();
	memset(&img, 0, sizeof(img));
	if (!setjmp(back)) {
		image_load(dirfd_, part[0], *part[1] ? part[1] : NULL, &img);
		if (img.nlayers && !img.layers)
			__builtin_trap();
		for (i = 0; i < img.nlayers; i++)
			if (!img.layers[i].media_type)
				__builtin_trap();
		image_free(&img);
		if (nlive)
			__builtin_trap();	/* a leak */
	}
	for (i = 0; nlive && i < MAX_LIVE; i++)
		if (live[i].p) {
			if (live[i].kind == TREE)
				json_free(live[i].p);
			else
				free(live[i].p);
			live[i].p = NULL;
			nlive--;
		}
	free(idx);
	free(s);
	free(m);
	free(buf);
	return 0;
}
