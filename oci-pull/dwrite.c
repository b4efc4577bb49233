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
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->done, NULL);
	w->head = NULL;
	w->tail = &w->head;
	w->free_bufs = NULL;
	w->nfree = w->nbufs = w->inflight = 0;
	w->arena_map = w->arena = NULL;
	w->arena_len = w->arena_used = 0;
	w->closing = w->threaded = w->started = 0;
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

static void *worker(void *arg)
{
	struct dwriter *w = arg;
	struct dw_item *it;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->closing)
			pthread_cond_wait(&w->more, &w->lock);
		if (!(it = w->head))
			break;
		if (!(w->head = it->next))
			w->tail = &w->head;
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
	struct dw_item *it;

	/* The thread starts with the first write: a pull that has every
	 * blob already needs none. */
	if (!w->started) {
		w->started = 1;
		w->threaded = pthread_create(&w->thread, NULL, worker, w) == 0;
	}
	if (!w->threaded) {
		int err = put_data(s->fd, buf, len, off);
		pthread_mutex_lock(&w->lock);
		s->pending++;
		w->inflight++;
		written(w, s, buf, err);
		pthread_mutex_unlock(&w->lock);
		return;
	}
	it = xmalloc(sizeof *it);
	*it = (struct dw_item){ .s = s, .buf = buf, .len = len, .off = off };
	pthread_mutex_lock(&w->lock);
	s->pending++;
	w->inflight++;
	*w->tail = it;
	w->tail = &it->next;
	pthread_cond_signal(&w->more);
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
	pthread_cond_broadcast(&w->more);
	pthread_mutex_unlock(&w->lock);
	if (w->threaded)
		pthread_join(w->thread, NULL);
	/* Every buffer is back by now: the caller put or wrote each. */
	for (size_t i = 0; i < w->nfree; i++)
		if (!in_arena(w, w->free_bufs[i]))
			free(w->free_bufs[i]);
	free(w->free_bufs);
	if (w->arena_map)
		munmap(w->arena_map, w->arena_len);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
}
