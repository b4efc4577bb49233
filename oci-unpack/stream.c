/* stream.c: a layer blob decoded on its own thread into a ring of
 * chunks that the tar parser consumes. Measured on the Debian bookworm
 * layer (60 MB of gzip, 170 MB of tar), CPU time: zlib's inflate (what
 * libarchive uses) 0.80-0.88 s, ISA-L's 0.37-0.39 s; SHA-256 of both
 * sides about 0.15 s more. Errors on this thread are handed to the
 * reader, which dies: exit() is never called from here. */
#include "stream.h"
#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define IN_BUF (256u << 10)
#define SLOT_SIZE (256u << 10)
#define NSLOTS 8

struct stream {
	const struct layer *l;
	const char *name;
	int fd;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t filled, emptied;
	unsigned char *slot[NSLOTS];
	size_t len[NSLOTS];
	unsigned head, tail;	/* chunks produced, consumed */
	int held;		/* the reader holds chunk tail */
	int done;		/* the thread has finished */
	char err[512];		/* why it failed, "" if it did not */

	/* The decoding thread's alone until it is joined. */
	unsigned char *in;
	size_t in_len;		/* bytes in `in`, from in_pos on unread */
	size_t in_pos;
	int in_eof;
	long long nread;
	struct hasher comp, diff;
	struct inflate_state *gz;
	int gz_end;		/* no further gzip member */
	ZSTD_DStream *zs;
	size_t z_hint;		/* 0 between zstd frames */
	int started;		/* a header was recognised */
};

static int fail(struct stream *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Keeps the unread input, appends up to what fits: 0 at the end of the
 * blob, -1 on an error. Every byte read is hashed as the blob's. */
static int refill(struct stream *s)
{
	ssize_t n;

	if (s->in_pos > 0) {
		memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
		s->in_len -= s->in_pos;
		s->in_pos = 0;
	}
	if (s->in_eof || s->in_len == IN_BUF)
		return 0;
	do
		n = read(s->fd, s->in + s->in_len, IN_BUF - s->in_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(s, "read: %s", strerror(errno));
	if (n == 0)
		s->in_eof = 1;
	hasher_update(&s->comp, s->in + s->in_len, n);
	s->nread += n;
	s->in_len += n;
	return n > 0;
}

static size_t avail(const struct stream *s)
{
	return s->in_len - s->in_pos;
}

/* At least n unread bytes of input, unless the blob ends first. */
static int want(struct stream *s, size_t n)
{
	while (avail(s) < n && !s->in_eof)
		if (refill(s) < 0)
			return -1;
	return 0;
}

static ssize_t fill_plain(struct stream *s, unsigned char *out, size_t cap)
{
	size_t n;

	if (!avail(s) && refill(s) < 0)
		return -1;
	n = avail(s) < cap ? avail(s) : cap;
	memcpy(out, s->in + s->in_pos, n);
	s->in_pos += n;
	return (ssize_t)n;
}

/* A gzip member starts (RFC 1952, 2.3.1: ID1 ID2 CM=8) at the input. */
static int gzip_magic(const struct stream *s)
{
	const unsigned char *p = s->in + s->in_pos;

	return avail(s) >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8;
}

static ssize_t fill_gzip(struct stream *s, unsigned char *out, size_t cap)
{
	struct inflate_state *z = s->gz;
	size_t used;
	int r;

	z->next_out = out;
	z->avail_out = (uint32_t)cap;
	while (z->avail_out > 0 && !s->gz_end) {
		if (!s->started || z->block_state == ISAL_BLOCK_FINISH) {
			/* Members may follow one another (RFC 1952, 2.2);
			 * anything else after one is ignored, as gzip -d and
			 * libarchive do (the blob's digest still covers it). */
			if (want(s, 3) < 0)
				return -1;
			if (!gzip_magic(s)) {
				if (!s->started)
					return fail(s, "not gzip-compressed as "
						    "its media type says");
				s->gz_end = 1;
				break;
			}
			isal_inflate_reset(z);
			z->crc_flag = ISAL_GZIP;
			s->started = 1;
		}
		if (!avail(s) && refill(s) < 0)
			return -1;
		if (!avail(s))
			return fail(s, "gzip: truncated");
		z->next_in = s->in + s->in_pos;
		z->avail_in = (uint32_t)avail(s);
		r = isal_inflate(z);
		s->in_pos = (size_t)(z->next_in - s->in);
		if (r != ISAL_DECOMP_OK)
			return fail(s, "gzip: %s", r == ISAL_INCORRECT_CHECKSUM ?
				    "bad checksum" : r == ISAL_INVALID_WRAPPER ||
				    r == ISAL_UNSUPPORTED_METHOD ?
				    "bad header" : "corrupt data");
	}
	used = cap - z->avail_out;
	return (ssize_t)used;
}

static ssize_t fill_zstd(struct stream *s, unsigned char *out, size_t cap)
{
	ZSTD_outBuffer o = { out, cap, 0 };
	ZSTD_inBuffer i;
	size_t r;

	while (o.pos < o.size) {
		if (!avail(s) && refill(s) < 0)
			return -1;
		if (!avail(s)) {
			if (!s->started)
				return fail(s, "not zstd-compressed as its "
					    "media type says");
			if (s->z_hint)
				return fail(s, "zstd: truncated");
			break;
		}
		i.src = s->in + s->in_pos;
		i.size = avail(s);
		i.pos = 0;
		r = ZSTD_decompressStream(s->zs, &o, &i);
		s->in_pos += i.pos;
		if (ZSTD_isError(r))
			return s->started ? fail(s, "zstd: %s",
						 ZSTD_getErrorName(r)) :
			       fail(s, "not zstd-compressed as its media "
				    "type says");
		s->started = 1;
		s->z_hint = r;
	}
	return (ssize_t)o.pos;
}

static void *decode(void *arg)
{
	struct stream *s = arg;
	unsigned char *buf;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->head - s->tail == NSLOTS)
			pthread_cond_wait(&s->emptied, &s->mu);
		pthread_mutex_unlock(&s->mu);
		buf = s->slot[s->head % NSLOTS];
		switch (s->l->comp) {
		case COMP_GZIP: n = fill_gzip(s, buf, SLOT_SIZE); break;
		case COMP_ZSTD: n = fill_zstd(s, buf, SLOT_SIZE); break;
		default: n = fill_plain(s, buf, SLOT_SIZE); break;
		}
		/* After the last chunk, the rest of the blob is hashed. */
		while (n == 0 && !s->in_eof) {
			s->in_pos = s->in_len;
			if (refill(s) < 0)
				n = -1;
		}
		if (n > 0)
			hasher_update(&s->diff, buf, (size_t)n);
		pthread_mutex_lock(&s->mu);
		if (n > 0)
			s->len[s->head++ % NSLOTS] = (size_t)n;
		else
			s->done = 1;
		pthread_cond_signal(&s->filled);
		pthread_mutex_unlock(&s->mu);
		if (n <= 0)
			return NULL;
	}
}

struct stream *stream_open(int fd, const struct layer *l, const char *name)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	size_t i;
	int r;

	s->l = l;
	s->name = name;
	s->fd = fd;
	if (l->comp == COMP_NONE && l->digest.alg != l->diff_id.alg)
		die("layer %s: digest and diff_id use different algorithms",
		    name);
	hasher_init(&s->comp, l->digest.alg);
	hasher_init(&s->diff, l->diff_id.alg);
	s->in = xmalloc(IN_BUF);
	for (i = 0; i < NSLOTS; i++)
		s->slot[i] = xmalloc(SLOT_SIZE);
	if (l->comp == COMP_GZIP) {
		s->gz = xcalloc(1, sizeof(*s->gz));
		isal_inflate_init(s->gz);
	} else if (l->comp == COMP_ZSTD && !(s->zs = ZSTD_createDStream()))
		die("out of memory");
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->filled, NULL);
	pthread_cond_init(&s->emptied, NULL);
	if ((r = pthread_create(&s->thread, NULL, decode, s)))
		die("layer %s: thread: %s", name, strerror(r));
	return s;
}

size_t stream_read(struct stream *s, const void **out)
{
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	if (s->held) {
		s->tail++;
		s->held = 0;
		pthread_cond_signal(&s->emptied);
	}
	while (s->head == s->tail && !s->done)
		pthread_cond_wait(&s->filled, &s->mu);
	if (s->head != s->tail) {
		*out = s->slot[s->tail % NSLOTS];
		n = s->len[s->tail % NSLOTS];
		s->held = 1;
	}
	pthread_mutex_unlock(&s->mu);
	if (!n && s->err[0])
		die("layer %s: %s", s->name, s->err);
	return n;
}

static void check_digest(const struct stream *s, const char *what,
			 const struct digest *want, struct hasher *h)
{
	char ws[DIGEST_MAX_STR + 1], gs[DIGEST_MAX_STR + 1];
	struct digest got;

	hasher_final(h, &got);
	if (!digest_equal(want, &got)) {
		digest_format(want, ws);
		digest_format(&got, gs);
		die("layer %s: %s mismatch: expected %s, got %s", s->name,
		    what, ws, gs);
	}
}

void stream_close(struct stream *s)
{
	const void *p;
	size_t i;

	while (stream_read(s, &p) > 0)
		;
	pthread_join(s->thread, NULL);
	if (s->nread != s->l->size)
		die("layer %s: blob has %lld bytes, descriptor says %lld",
		    s->name, s->nread, s->l->size);
	/* Uncompressed, both digests are of the same bytes. */
	check_digest(s, "digest", &s->l->digest, &s->comp);
	check_digest(s, "diff_id", &s->l->diff_id, &s->diff);
	close(s->fd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->filled);
	pthread_cond_destroy(&s->emptied);
	for (i = 0; i < NSLOTS; i++)
		free(s->slot[i]);
	free(s->in);
	free(s->gz);
	ZSTD_freeDStream(s->zs);
	free(s);
}
