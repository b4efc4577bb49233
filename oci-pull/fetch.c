/* fetch.c: see fetch.h. */
#include "fetch.h"
#include "dwrite.h"
#include "err.h"
#include "fsutil.h"
#include "progress.h"
#include "syncer.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOB_READ_SIZE (256L * 1024)
/* libcurl hands over at most BLOB_READ_SIZE per callback, often much
 * less: buffered writes gather this much per write(2). */
#define BLOB_WRITE_SIZE (256 * 1024)
/* Written data is handed to writeback every this many bytes, so the
 * disk writes while the rest downloads and the fdatasync before the
 * rename has little left to do. */
#define WRITEBACK_CHUNK (1024 * 1024)
#define PROGRESS_MS 100
#define POLL_MS 100

enum xstate { X_WAIT, X_RUN, X_DONE };

struct xfer {
	const struct store *store;
	struct dwriter *dw;
	struct blob_job *job;
	enum xstate state;
	CURL *easy;
	struct curl_slist *hdrs;
	struct reg_resp resp;
	char errbuf[CURL_ERROR_SIZE];
	int fd;			/* -1 until the partial exists */
	char *part;
	int private_part;	/* another run holds the shared partial */
	struct hasher h;
	unsigned long long have;	/* received: in the file, buf, hasher or dw */
	char *buf;			/* received, not yet written */
	size_t buflen;
	/* A partial made by this run is written with O_DIRECT where the
	 * filesystem allows it: dbuf fills up to DW_BUF_SIZE at file offset
	 * doff, then goes to dwrite.h's threads, to be hashed and written. */
	int direct;
	struct dw_stream ds;
	char *dbuf;
	size_t dlen;
	unsigned long long doff;
	/* A complete body's unaligned end, written once the direct writes
	 * before it are done (settle set): by the syncer, see finish. */
	char tail[DW_ALIGN];
	size_t tlen;
	int settle;
	unsigned long long kicked;	/* bytes of the file sent to writeback */
	unsigned long long from;	/* where this request started */
	int attempts, reauthed, restarted, body_started;
	long status;
	char *errbody;
	size_t errlen;
	char fail[256];		/* why the write callback stopped a transfer */
	long long wake;		/* monotonic ms at which to (re)start */
	struct syncer_item commit;	/* handed to the syncer when verified */
	int committing;
};

const char *blob_status_name(enum blob_status s)
{
	static const char *const names[] = { "pending", "present", "fetched", "resumed", "failed" };
	return names[s];
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *short_hex(const struct desc *d)
{
	static char buf[13];
	snprintf(buf, sizeof buf, "%.12s", d->digest.hex);
	return buf;
}

/* Waits for the direct writes of x and drops what was not yet queued:
 * nothing may land after a truncate or a close. */
static void drop_direct(struct xfer *x)
{
	if (x->dbuf)
		dw_put(x->dw, x->dbuf);
	x->dbuf = NULL;
	x->dlen = 0;
	x->settle = 0;		/* its tail goes too */
	if (x->fd >= 0)
		dw_drain(x->dw, &x->ds);
}

static void reset_data(struct xfer *x)
{
	drop_direct(x);
	x->ds.err = 0;
	x->doff = 0;
	x->buflen = 0;
	if (x->fd >= 0 && (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0))
		warnf("%s:", x->part);
	hasher_init(&x->h, x->job->desc->digest.alg);
	x->have = 0;
	x->kicked = 0;
	x->job->resumed_from = 0;
}

/* Opens x->part, creating it, and locks it; when another oci-pull holds
 * it, makes a private copy instead. -1 with errno set. */
static int lock_partial(struct xfer *x)
{
	const struct desc *d = x->job->desc;

	if ((x->fd = open(x->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return -1;
	if (flock(x->fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	/* Another oci-pull is fetching it: fetch our own copy. */
	close(x->fd);
	free(x->part);
	x->part = xasprintf("%s/.partial/%s-%.16s.XXXXXX", x->store->dir,
			    digest_alg_name(d->digest.alg), d->digest.hex);
	if ((x->fd = mkostemp(x->part, O_CLOEXEC)) < 0 || fchmod(x->fd, 0644) < 0)
		return -1;
	x->private_part = 1;
	return 0;
}

/* Finds the partial file and re-hashes what it holds; a missing one is
 * created only once its request is on the way (create_partial), since
 * on some filesystems a new inode costs a millisecond.
 * 1: the blob is already in the store; 0: ready; -1: failed. */
static int open_partial(const struct store *s, struct xfer *x)
{
	const struct desc *d = x->job->desc;
	char buf[1 << 16];
	struct stat st;
	ssize_t n;

	if (store_has_blob(s, &d->digest, d->size))
		return 1;
	x->store = s;
	x->part = store_partial_path(s, &d->digest);
	hasher_init(&x->h, d->digest.alg);
	x->have = 0;
	if (stat(x->part, &st) < 0 && errno == ENOENT)
		return 0;
	if (lock_partial(x) < 0) {
		warnf("%s:", x->part);
		return -1;
	}
	if (!x->private_part && store_has_blob(s, &d->digest, d->size)) {
		/* Renamed into place between our check and our open. */
		unlink(x->part);
		return 1;
	}
	if (fstat(x->fd, &st) < 0) {
		warnf("%s:", x->part);
		return -1;
	}
	if ((unsigned long long)st.st_size > d->size && ftruncate(x->fd, 0) < 0) {
		warnf("%s:", x->part);
		return -1;
	}
	while ((n = read(x->fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warnf("%s:", x->part);
			return -1;
		}
		hasher_update(&x->h, buf, (size_t)n);
		x->have += (unsigned long long)n;
	}
	x->job->resumed_from = x->have;
	if (x->have)
		debugf("%s: resuming at %llu of %llu bytes", short_hex(d), x->have, d->size);
	return 0;
}

/* Says in x->fail that the partial file failed with err; -1. */
static int part_failed(struct xfer *x, int err)
{
	snprintf(x->fail, sizeof x->fail, "%s: %s", x->part, strerror(err));
	return -1;
}

/* Makes the partial that open_partial found missing; this transfer
 * started from byte 0, so whatever another run left in it since goes.
 * On failure says why in x->fail. */
static int create_partial(struct xfer *x)
{
	if (x->fd >= 0)
		return 0;
	if (lock_partial(x) < 0 || (!x->private_part && ftruncate(x->fd, 0) < 0))
		return part_failed(x, errno);
	x->ds = (struct dw_stream){ .fd = x->fd, .h = &x->h };
	x->doff = 0;
	x->direct = dw_direct(x->fd);
	return 0;
}

/* Direct mode: copies data into dbuf, queueing each full one. On
 * failure says why in x->fail. */
static int direct_put(struct xfer *x, const char *data, size_t n)
{
	int err = dw_failed(x->dw, &x->ds);

	if (err)
		return part_failed(x, err);
	while (n > 0) {
		if (!x->dbuf) {
			x->dbuf = dw_buf(x->dw);
			x->dlen = 0;
		}
		size_t k = DW_BUF_SIZE - x->dlen < n ? DW_BUF_SIZE - x->dlen : n;
		memcpy(x->dbuf + x->dlen, data, k);
		x->dlen += k;
		data += k;
		n -= k;
		if (x->dlen == DW_BUF_SIZE) {
			dw_write(x->dw, &x->ds, x->dbuf, DW_BUF_SIZE, (off_t)x->doff);
			x->doff += DW_BUF_SIZE;
			x->dbuf = NULL;
		}
	}
	return 0;
}

/* Ends direct mode without waiting: the aligned part of dbuf is queued
 * and the unaligned rest kept in x->tail for direct_settle. */
static void direct_close(struct xfer *x)
{
	size_t al = x->dlen & ~(size_t)(DW_ALIGN - 1);

	x->tlen = x->dlen - al;
	if (x->dbuf) {
		memcpy(x->tail, x->dbuf + al, x->tlen);
		if (al)
			dw_write(x->dw, &x->ds, x->dbuf, al, (off_t)x->doff);
		else
			dw_put(x->dw, x->dbuf);
		x->doff += al;
		x->dbuf = NULL;
		x->dlen = 0;
	}
	x->direct = 0;
	x->settle = 1;
}

/* Waits for x's direct writes, then writes x->tail through the page
 * cache, so the file holds all that was received and its offset is at
 * the end (a retry appends buffered). 0, or an errno. */
static int direct_settle(struct xfer *x)
{
	int err, fl, fd = x->ds.fd;

	if ((err = dw_drain(x->dw, &x->ds)))
		return err;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_DIRECT) < 0 ||
	    lseek(fd, (off_t)x->doff, SEEK_SET) < 0 || write_all(fd, x->tail, x->tlen) < 0)
		return errno;
	return 0;
}

/* The syncer's step before it commits a verified blob written
 * directly: the download loop goes on meanwhile, where waiting for the
 * disk (behind another file's flush: 9-17 ms, once or twice a pull on
 * the development machine) would stall every transfer. */
static int settle_on_syncer(void *arg)
{
	return direct_settle(arg);
}

/* Completes x's hash: waits for dwrite.h's threads to hash what was
 * queued (not to write it), then hashes the unaligned tail. */
static void direct_hash_tail(struct xfer *x)
{
	dw_hashed(x->dw, &x->ds);
	hasher_update(&x->h, x->tail, x->tlen);
}

/* Ends direct mode and waits for it. On failure says why in x->fail. */
static int direct_end(struct xfer *x)
{
	int err;

	direct_close(x);
	direct_hash_tail(x);
	x->settle = 0;
	if ((err = direct_settle(x)))
		return part_failed(x, err);
	return 0;
}

/* Starts writeback of the file up to end, without waiting for it. Only
 * a head start: the fdatasync before the rename still makes it durable
 * and reports any error, so this one's is dropped. */
static void kick_writeback(struct xfer *x, unsigned long long end)
{
	if (end - x->kicked < WRITEBACK_CHUNK)
		return;
	(void)sync_file_range(x->fd, (off_t)x->kicked, (off_t)(end - x->kicked),
			      SYNC_FILE_RANGE_WRITE);
	x->kicked = end;
}

/* Writes out what buf holds; on failure says why in x->fail. */
static int flush_buf(struct xfer *x)
{
	if (x->direct)
		return direct_end(x);
	if (x->buflen > 0 && write_all(x->fd, x->buf, x->buflen) < 0) {
		x->buflen = 0;
		return part_failed(x, errno);
	}
	x->buflen = 0;
	kick_writeback(x, x->have);
	return 0;
}

/* Buffered mode: gathers data into BLOB_WRITE_SIZE writes. On failure
 * says why in x->fail. */
static int buffered_put(struct xfer *x, const char *data, size_t n)
{
	if (x->buflen + n > BLOB_WRITE_SIZE && flush_buf(x) < 0)
		return -1;
	if (n >= BLOB_WRITE_SIZE) {
		if (write_all(x->fd, data, n) < 0)
			return part_failed(x, errno);
		kick_writeback(x, x->have + n);
	} else {
		if (!x->buf)
			x->buf = xmalloc(BLOB_WRITE_SIZE);
		memcpy(x->buf + x->buflen, data, n);
		x->buflen += n;
	}
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	const struct desc *d = x->job->desc;
	size_t n = size * nmemb;

	if (x->fail[0])
		return 0;
	if (!x->body_started) {
		x->body_started = 1;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
		if (x->status == 200 && x->have > 0) {
			debugf("%s: server ignored Range, starting over", short_hex(d));
			reset_data(x);
		} else if (x->status == 206) {
			unsigned long long start;
			if (sscanf(x->resp.content_range, "bytes %llu-", &start) != 1 ||
			    start != x->have) {
				snprintf(x->fail, sizeof x->fail,
					 "bad Content-Range \"%.60s\" for a request from byte %llu",
					 x->resp.content_range, x->have);
				return 0;
			}
		}
	}
	if (x->status / 100 != 2) {
		size_t room = REG_ERRBODY_MAX - x->errlen;
		if (n < room)
			room = n;
		x->errbody = xrealloc(x->errbody, x->errlen + room + 1);
		memcpy(x->errbody + x->errlen, data, room);
		x->errlen += room;
		x->errbody[x->errlen] = '\0';
		return n;
	}
	if (n > d->size - x->have) {
		snprintf(x->fail, sizeof x->fail, "server sent more than the %llu bytes of its descriptor",
			 d->size);
		return 0;
	}
	if (create_partial(x) < 0)
		return 0;
	if (x->direct) {
		if (direct_put(x, data, n) < 0)	/* the writer hashes it */
			return 0;
	} else {
		if (buffered_put(x, data, n) < 0)
			return 0;
		hasher_update(&x->h, data, n);
	}
	x->have += n;
	return n;
}

static void start(struct registry *r, CURLM *multi, struct xfer *x)
{
	const struct desc *d = x->job->desc;
	char *url = xasprintf("%s/v2/%s/blobs/%s", r->base, r->repo, d->digest_str);
	const char *auth = reg_auth_header(r);

	x->easy = reg_easy(r, url, &x->resp);
	free(url);
	x->hdrs = NULL;
	if (auth)
		x->hdrs = curl_slist_append(x->hdrs, auth);
	if (x->have > 0) {
		char range[64];
		snprintf(range, sizeof range, "Range: bytes=%llu-", x->have);
		x->hdrs = curl_slist_append(x->hdrs, range);
	}
	x->from = x->have;
	x->body_started = 0;
	x->status = 0;
	x->fail[0] = x->errbuf[0] = '\0';
	free(x->errbody);
	x->errbody = NULL;
	x->errlen = 0;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	/* Fewer, larger reads and writes for layer bodies. */
	curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, BLOB_READ_SIZE);
	debugf("GET blob %s from byte %llu", short_hex(d), x->have);
	if (curl_multi_add_handle(multi, x->easy) != CURLM_OK)
		die("curl_multi_add_handle failed");
	x->state = X_RUN;
}

static void stop(CURLM *multi, struct xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
}

static void release(struct xfer *x)
{
	drop_direct(x);
	if (x->fd >= 0) {
		close(x->fd);
		x->fd = -1;
	}
	if (x->private_part && x->part)
		unlink(x->part);
	free(x->part);
	x->part = NULL;
	free(x->buf);
	x->buf = NULL;
	x->buflen = 0;
	free(x->errbody);
	x->errbody = NULL;
	reg_resp_free(&x->resp);
}

static int give_up(struct xfer *x, const char *fmt, const char *why)
{
	warnf(fmt, x->job->desc->digest_str, why);
	x->job->status = BLOB_FAILED;
	x->state = X_DONE;
	return -1;
}

static void retry_later(struct xfer *x, long ms)
{
	debugf("%s: retry %d in %ld ms", short_hex(x->job->desc), x->attempts, ms);
	x->wake = now_ms() + ms;
	x->state = X_WAIT;
}

/* The whole blob is in the file: verify it and hand it to the syncer,
 * which moves it into place. */
static int finish(struct syncer *q, struct xfer *x)
{
	const struct desc *d = x->job->desc;
	struct digest got;
	char gs[DIGEST_MAX_STR + 1];

	if (create_partial(x) < 0)	/* an empty blob has no body */
		return give_up(x, "blob %s: %s", x->fail);
	if (x->settle)
		direct_hash_tail(x);
	hasher_final(&x->h, &got);
	if (!digest_equal(&got, &d->digest)) {
		digest_format(&got, gs);
		if (x->job->resumed_from > 0 && !x->restarted) {
			/* The old partial may be what is wrong: once from 0. */
			debugf("%s: resumed blob does not verify, starting over", short_hex(d));
			x->restarted = 1;
			reset_data(x);
			x->state = X_WAIT;
			x->wake = 0;
			return 0;
		}
		reset_data(x);
		if (!x->private_part)
			unlink(x->part);
		return give_up(x, "blob %s: digest mismatch: received %s", gs);
	}
	x->commit = (struct syncer_item){ .fd = x->fd, .tmp = x->part, .digest = d->digest,
					  .unlink_on_fail = x->private_part,
					  .prepare = x->settle ? settle_on_syncer : NULL,
					  .prepare_arg = x };
	x->committing = 1;
	x->fd = -1;
	x->part = NULL;
	x->private_part = 0;	/* the syncer's now */
	x->job->status = x->job->resumed_from ? BLOB_RESUMED : BLOB_FETCHED;
	x->state = X_DONE;
	syncer_add(q, &x->commit);
	release(x);
	return 0;
}

static int done(struct registry *r, struct syncer *q, struct xfer *x, CURLcode cc)
{
	const struct desc *d = x->job->desc;
	char text[1024];

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	x->attempts++;
	/* The file holds all that was received, for verifying or resuming;
	 * a whole body's last direct writes may still be on their way, and
	 * finish has them settled on the syncer. */
	if (!x->fail[0]) {
		if (x->direct && cc == CURLE_OK && x->status / 100 == 2 && x->have == d->size)
			direct_close(x);
		else
			flush_buf(x);
	}
	if (x->fail[0]) {
		if (!x->private_part && x->fd >= 0 && strstr(x->fail, "more than")) {
			reset_data(x);
			unlink(x->part);
		}
		return give_up(x, "blob %s: %s", x->fail);
	}
	if (cc != CURLE_OK) {
		if (reg_retryable(cc, 0) && x->attempts < REG_MAX_ATTEMPTS) {
			retry_later(x, reg_backoff_ms(x->attempts, NULL));
			return 0;
		}
		if (cc == CURLE_PARTIAL_FILE)
			return give_up(x, "blob %s: truncated body (%s)", x->errbuf);
		return give_up(x, "blob %s: %s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
	}
	if (x->status == 401 && !x->reauthed) {
		x->reauthed = 1;
		if (reg_reauth(r, &x->resp) == 0) {
			retry_later(x, 0);
			return 0;
		}
	}
	if (x->status == 416 && !x->restarted) {
		x->restarted = 1;
		reset_data(x);
		retry_later(x, 0);
		return 0;
	}
	if (x->status / 100 == 2) {
		if (x->have < d->size) {
			snprintf(text, sizeof text, "truncated: %llu of %llu bytes", x->have, d->size);
			if (x->attempts < REG_MAX_ATTEMPTS) {
				debugf("%s: %s", short_hex(d), text);
				retry_later(x, reg_backoff_ms(x->attempts, NULL));
				return 0;
			}
			return give_up(x, "blob %s: %s", text);
		}
		return finish(q, x);
	}
	if (reg_retryable(CURLE_OK, x->status) && x->attempts < REG_MAX_ATTEMPTS) {
		retry_later(x, reg_backoff_ms(x->attempts, &x->resp));
		return 0;
	}
	reg_error_text(x->status, x->errbody, x->errlen, text, sizeof text);
	return give_up(x, "blob %s: %s", text);
}

static void show_progress(struct xfer *xs, size_t n)
{
	static long long last;
	unsigned long long have = 0, total = 0;
	char line[512], a[16], b[16];
	size_t i, off, ndone = 0;
	long long now = now_ms();

	if (!progress_enabled() || now - last < PROGRESS_MS)
		return;
	last = now;
	for (i = 0; i < n; i++) {
		total += xs[i].job->desc->size;
		if (xs[i].job->status != BLOB_PENDING) {
			have += xs[i].job->desc->size;
			ndone++;
		} else {
			have += xs[i].have;
		}
	}
	off = (size_t)snprintf(line, sizeof line, "blobs %zu/%zu, %s / %s", ndone, n,
			       human_size(have, a), human_size(total, b));
	for (i = 0; i < n && off < sizeof line - 40; i++)
		if (xs[i].state == X_RUN && xs[i].job->desc->size)
			off += (size_t)snprintf(line + off, sizeof line - off, "  %.8s %llu%%",
						xs[i].job->desc->digest.hex,
						xs[i].have * 100 / xs[i].job->desc->size);
	progress_line("%s", line);
}

int fetch_blobs(struct registry *r, const struct store *s, struct syncer *q,
		struct blob_job *jobs, size_t n, int parallel)
{
	struct xfer *xs = xcalloc(n ? n : 1, sizeof *xs);
	CURLM *multi = curl_multi_init();
	struct dwriter dw;
	size_t i, running = 0, left = 0;
	int rc = 0;

	if (!multi)
		die("curl_multi_init failed");
	/* Several transfers to one registry share connections where HTTP/2
	 * can multiplex, else open their own. */
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	dw_init(&dw);
	for (i = 0; i < n; i++) {
		struct xfer *x = &xs[i];
		x->dw = &dw;
		x->job = &jobs[i];
		x->fd = -1;
		x->state = X_DONE;
		if (jobs[i].status != BLOB_PENDING)
			continue;
		int o = open_partial(s, x);
		if (o < 0) {
			jobs[i].status = BLOB_FAILED;
			rc = -1;
			break;
		}
		if (o == 1) {
			jobs[i].status = BLOB_PRESENT;
			release(x);
			continue;
		}
		if (x->have == x->job->desc->size) {	/* complete partial */
			if (finish(q, x) < 0) {
				rc = -1;
				break;
			}
			if (x->state == X_DONE)
				continue;
		}
		x->state = X_WAIT;
		left++;
	}
	while (rc == 0 && left > 0) {
		long long now = now_ms(), next = now + POLL_MS;
		int still;
		CURLMsg *msg;

		for (i = 0; i < n && running < (size_t)parallel; i++)
			if (xs[i].state == X_WAIT && xs[i].wake <= now) {
				start(r, multi, &xs[i]);
				running++;
			}
		curl_multi_perform(multi, &still);
		/* The requests are out: make their files while the answers
		 * come. A failure stops the transfer at its first byte. */
		for (i = 0; i < n; i++)
			if (xs[i].state == X_RUN && !xs[i].fail[0])
				create_partial(&xs[i]);
		while ((msg = curl_multi_info_read(multi, &still))) {
			struct xfer *x;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			CURLcode cc = msg->data.result;
			running--;
			if (done(r, q, x, cc) < 0)
				rc = -1;
			stop(multi, x);
			if (x->state == X_DONE)
				left--;
		}
		show_progress(xs, n);
		if (syncer_failed(q))	/* reported after the drain */
			rc = -1;
		if (rc < 0 || left == 0)
			break;
		/* Waiting transfers set the timeout only when a slot is free:
		 * else one that may start now would make this loop spin. */
		for (i = 0; i < n && running < (size_t)parallel; i++)
			if (xs[i].state == X_WAIT && xs[i].wake < next)
				next = xs[i].wake;
		long wait = next > now ? (long)(next - now) : 0;
		if (running > 0 || wait > 0)
			curl_multi_poll(multi, NULL, 0, (int)(wait > POLL_MS ? POLL_MS : wait), NULL);
	}
	progress_clear();
	syncer_drain(q);
	for (i = 0; i < n; i++) {
		struct syncer_item *c = &xs[i].commit;
		if (xs[i].committing && c->err) {
			errno = c->err;
			warnf("blob %s: %s:", xs[i].job->desc->digest_str, c->step);
			xs[i].job->status = BLOB_FAILED;
			rc = -1;
		}
		free(c->tmp);
	}
	for (i = 0; i < n; i++) {
		stop(multi, &xs[i]);
		release(&xs[i]);
	}
	dw_finish(&dw);
	curl_multi_cleanup(multi);
	free(xs);
	return rc;
}
