/* dwrite.h: hashes blob data and writes it to its partial file with
 * O_DIRECT, on threads of its own. The page cache copy of a buffered
 * write(2) and its writeback cost more CPU than the SHA-256 of the same
 * bytes; with O_DIRECT the data goes from an aligned buffer to the
 * device. The SHA-256 is most of what the download loop did besides
 * receiving: on another core, the loop only receives and copies, so a
 * registry faster than one core's hashing is not held up (from a static
 * file server on loopback, 16% off the pull's time; docker-registry,
 * which serves at half that speed, sees no change). Durability is still
 * the fdatasync before the rename: O_DIRECT skips the page cache, not
 * the device's volatile cache nor the file's size and extents. */
#ifndef OCI_PULL_DWRITE_H
#define OCI_PULL_DWRITE_H

#include "digest.h"

#include <pthread.h>
#include <sys/types.h>

#define DW_ALIGN 4096			/* offsets, lengths and addresses */
#define DW_BUF_SIZE (1024 * 1024)
/* Buffers the pool grows to while some are in flight (queued or being
 * written): beyond that the download waits for the disk. A caller
 * holds one per transfer on top, so with none in flight it gets a new
 * one rather than waiting for nothing. */
#define DW_BUFS 8
/* The buffers are carved from one mapping of this many, advised as
 * transparent huge pages: a first touch of a 4 KiB page costs a fault
 * (several microseconds in a VM, 256 per buffer), of a 2 MiB one a
 * single fault. Buffers beyond it come from malloc. */
#define DW_ARENA_BUFS 16
#define DW_HUGE (2 * 1024 * 1024)
/* Hashing threads, started as the queue needs them: each takes one
 * stream's buffers at a time, in order, so several streams hash at once
 * while one stream's bytes reach its hasher in sequence. The writes go
 * on one thread of their own, so a disk busy with another file's flush
 * holds up writing, not hashing (nor, while buffers last, receiving). */
#define DW_HASHERS 2

/* One file's writes; lives in the caller's memory. The caller must
 * not touch *h while writes are pending (dw_drain first). */
struct dw_stream {
	int fd;
	struct hasher *h;	/* fed each buffer before it is written */
	unsigned pending;	/* queued, being hashed or written */
	unsigned hashing;	/* queued or being hashed */
	int busy;		/* a hashing thread has one of its buffers */
	int err;		/* errno of the first failed write, or 0 */
};

struct dw_item {
	struct dw_stream *s;
	char *buf;
	size_t len;
	off_t off;
	struct dw_item *next;
};

struct dwriter {
	pthread_mutex_t lock;
	pthread_cond_t to_hash, to_write, done;
	struct dw_item *hash_head, **hash_tail;		/* to hash, in order */
	struct dw_item *write_head, **write_tail;	/* hashed, to write */
	char **free_bufs;	/* room for nbufs */
	size_t nfree, nbufs, inflight;
	char *arena_map, *arena;	/* the mapping, and its aligned start */
	size_t arena_len, arena_used;	/* bytes mapped; buffers carved */
	int closing;
	int writing;		/* the writer thread runs */
	pthread_t writer;
	size_t nhashers, idle;	/* hashing threads; those waiting for work */
	pthread_t hashers[DW_HASHERS];
};

void dw_init(struct dwriter *w);
/* Waits for every write, stops the threads, frees the buffers. */
void dw_finish(struct dwriter *w);
/* Whether fd now takes direct writes (some filesystems refuse them). */
int dw_direct(int fd);
/* A free buffer of DW_BUF_SIZE bytes; may wait for one (DW_BUFS). */
char *dw_buf(struct dwriter *w);
void dw_put(struct dwriter *w, char *buf);
/* Queues len bytes of buf (len and off multiples of DW_ALIGN) for
 * s->h and then s->fd at off; buf returns to the pool once written. */
void dw_write(struct dwriter *w, struct dw_stream *s, char *buf, size_t len, off_t off);
/* Waits until s->h has every buffer queued so far, not for the writes. */
void dw_hashed(struct dwriter *w, struct dw_stream *s);
/* Waits for s's writes: 0, or the errno of the first that failed. */
int dw_drain(struct dwriter *w, struct dw_stream *s);
/* The same without waiting: 0 so far, or an errno. */
int dw_failed(struct dwriter *w, struct dw_stream *s);

#endif
