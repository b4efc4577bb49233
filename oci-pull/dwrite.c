/* dwrite.c: see dwrite.h. */
#include "dwrite.h"
#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

void dw_init(struct dwriter *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->to_hash, NULL);
	pthread_cond_init(&w->to_write, NULL);
	pthread_cond_init(&w->done, NULL);
	w->hash_head = w->write_head = NULL;
	w->hash_tail = &w->hash_head;
	w->write_tail = &w->write_head;
	w->free_bufs = NULL;
	w->nfree = w->nbufs = w->inflight = 0;
	w->arena_map = w->arena = NULL;
	w->arena_len = w->arena_used = 0;
	w->closing = w->writing = 0;
	w->nhashers = w->idle = 0;
}

int dw_direct(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
}

/* 0, or an errno. A filesystem that took O_DIRECT but refuses a write
 * with EINVAL gets the rest of the file buffered. */
static int put_data(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);
		if (n < 0) {
			int fl = fcntl(fd, F_GETFL);
			if (errno == EINVAL && fl >= 0 && (fl & O_DIRECT) &&
			    fcntl(fd, F_SETFL, fl & ~O_DIRECT) == 0)
				continue;
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Called with the lock held. */
static void written(struct dwriter *w, struct dw_stream *s, char *buf, int err)
{
	if (err && !s->err)
		s->err = err;
	s->pending--;
	w->inflight--;
	w->free_bufs[w->nfree++] = buf;
	pthread_cond_broadcast(&w->done);
}

static void push(struct dw_item ***tail, struct dw_item *it)
{
	it->next = NULL;
	**tail = it;
	*tail = &it->next;
}

/* The first item to hash whose stream no thread is hashing, unlinked;
 * NULL when there is none. Called with the lock held. */
static struct dw_item *take_to_hash(struct dwriter *w)
{
	struct dw_item **p, *it;

	for (p = &w->hash_head; (it = *p); p = &it->next)
		if (!it->s->busy) {
			if (!(*p = it->next))
				w->hash_tail = p;
			it->s->busy = 1;
			return it;
		}
	return NULL;
}

static void *hasher_main(void *arg)
{
	struct dwriter *w = arg;
	struct dw_item *it;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		w->idle++;
		while (!(it = take_to_hash(w)) && !w->closing)
			pthread_cond_wait(&w->to_hash, &w->lock);
		w->idle--;
		if (!it)
			break;
		pthread_mutex_unlock(&w->lock);
		hasher_update(it->s->h, it->buf, it->len);
		pthread_mutex_lock(&w->lock);
		it->s->busy = 0;
		if (--it->s->hashing == 0)	/* for dw_hashed */
			pthread_cond_broadcast(&w->done);
		push(&w->write_tail, it);
		pthread_cond_signal(&w->to_write);
		/* The stream's next buffer may be queued behind this one. */
		if (w->hash_head)
			pthread_cond_signal(&w->to_hash);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void *writer_main(void *arg)
{
	struct dwriter *w = arg;
	struct dw_item *it;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->write_head && !w->closing)
			pthread_cond_wait(&w->to_write, &w->lock);
		if (!(it = w->write_head))
			break;
		if (!(w->write_head = it->next))
			w->write_tail = &w->write_head;
		pthread_mutex_unlock(&w->lock);
		int err = put_data(it->s->fd, it->buf, it->len, it->off);
		pthread_mutex_lock(&w->lock);
		written(w, it->s, it->buf, err);
		free(it);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* A new buffer: the next one of the arena (mapped at the first call;
 * untouched pages cost nothing), else from malloc. */
static char *new_buf(struct dwriter *w)
{
	char *buf;

	if (!w->arena_map) {
		w->arena_len = DW_ARENA_BUFS * DW_BUF_SIZE + DW_HUGE;
		w->arena_map = mmap(NULL, w->arena_len, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (w->arena_map == MAP_FAILED) {
			w->arena_map = NULL;
			w->arena_len = 0;
		} else {
			w->arena = (char *)(((uintptr_t)w->arena_map + DW_HUGE - 1) &
					    ~(uintptr_t)(DW_HUGE - 1));
			/* Where the kernel has no THP this fails: 4 KiB pages. */
			(void)madvise(w->arena, DW_ARENA_BUFS * DW_BUF_SIZE, MADV_HUGEPAGE);
		}
	}
	if (w->arena && w->arena_used < DW_ARENA_BUFS) {
		buf = w->arena + w->arena_used * DW_BUF_SIZE;
		w->arena_used++;
		return buf;
	}
	if (!(buf = aligned_alloc(DW_ALIGN, DW_BUF_SIZE)))
		die("out of memory");
	return buf;
}

static int in_arena(const struct dwriter *w, const char *buf)
{
	return w->arena && buf >= w->arena &&
	       buf < w->arena + DW_ARENA_BUFS * DW_BUF_SIZE;
}

char *dw_buf(struct dwriter *w)
{
	char *buf = NULL;

	pthread_mutex_lock(&w->lock);
	while (w->nfree == 0 && w->nbufs >= DW_BUFS && w->inflight > 0)
		pthread_cond_wait(&w->done, &w->lock);
	if (w->nfree > 0) {
		buf = w->free_bufs[--w->nfree];
	} else {
		w->nbufs++;
		w->free_bufs = xrealloc(w->free_bufs, w->nbufs * sizeof *w->free_bufs);
	}
	if (!buf)
		buf = new_buf(w);
	pthread_mutex_unlock(&w->lock);
	return buf;
}

void dw_put(struct dwriter *w, char *buf)
{
	pthread_mutex_lock(&w->lock);
	w->free_bufs[w->nfree++] = buf;
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->lock);
}

void dw_write(struct dwriter *w, struct dw_stream *s, char *buf, size_t len, off_t off)
{
	struct dw_item *it = xmalloc(sizeof *it);

	*it = (struct dw_item){ .s = s, .buf = buf, .len = len, .off = off };
	pthread_mutex_lock(&w->lock);
	s->pending++;
	w->inflight++;
	/* Threads start with the first write that needs them: a pull that
	 * has every blob already starts none. */
	if (!w->writing)
		w->writing = pthread_create(&w->writer, NULL, writer_main, w) == 0;
	if (w->idle == 0 && w->nhashers < DW_HASHERS &&
	    pthread_create(&w->hashers[w->nhashers], NULL, hasher_main, w) == 0)
		w->nhashers++;
	if (!w->writing || w->nhashers == 0) {
		/* No thread: all of it here. Earlier buffers of the stream
		 * went the same way, so the order holds. */
		pthread_mutex_unlock(&w->lock);
		hasher_update(s->h, buf, len);
		int err = put_data(s->fd, buf, len, off);
		free(it);
		pthread_mutex_lock(&w->lock);
		written(w, s, buf, err);
		pthread_mutex_unlock(&w->lock);
		return;
	}
	s->hashing++;
	push(&w->hash_tail, it);
	pthread_cond_signal(&w->to_hash);
	pthread_mutex_unlock(&w->lock);
}

void dw_hashed(struct dwriter *w, struct dw_stream *s)
{
	pthread_mutex_lock(&w->lock);
	while (s->hashing > 0)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

int dw_drain(struct dwriter *w, struct dw_stream *s)
{
	int err;

	pthread_mutex_lock(&w->lock);
	while (s->pending > 0)
		pthread_cond_wait(&w->done, &w->lock);
	err = s->err;
	pthread_mutex_unlock(&w->lock);
	return err;
}

int dw_failed(struct dwriter *w, struct dw_stream *s)
{
	int err;

	pthread_mutex_lock(&w->lock);
	err = s->err;
	pthread_mutex_unlock(&w->lock);
	return err;
}

void dw_finish(struct dwriter *w)
{
	pthread_mutex_lock(&w->lock);
	w->closing = 1;
	pthread_cond_broadcast(&w->to_hash);
	pthread_cond_broadcast(&w->to_write);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < w->nhashers; i++)
		pthread_join(w->hashers[i], NULL);
	if (w->writing)
		pthread_join(w->writer, NULL);
	/* Every buffer is back by now: the caller put or wrote each. */
	for (size_t i = 0; i < w->nfree; i++)
		if (!in_arena(w, w->free_bufs[i]))
			free(w->free_bufs[i]);
	free(w->free_bufs);
	if (w->arena_map)
		munmap(w->arena_map, w->arena_len);
	pthread_cond_destroy(&w->to_hash);
	pthread_cond_destroy(&w->to_write);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
}
