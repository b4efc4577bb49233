/* syncer.c: see syncer.h. */
#include "syncer.h"

#include <errno.h>
#include <unistd.h>

static void commit(const struct store *s, struct syncer_item *it)
{
	it->err = 0;
	it->step = NULL;
	if (it->sync_only) {
		if (fdatasync(it->fd) < 0) {
			it->err = errno;
			it->step = "sync";
		}
		return;		/* the caller still needs fd */
	}
	if (it->prepare && (it->err = it->prepare(it->prepare_arg)) != 0)
		it->step = "write";
	else if (store_commit_fd(s, it->fd, it->tmp, &it->digest, &it->step) < 0)
		it->err = errno;
	if (it->err && it->unlink_on_fail)
		unlink(it->tmp);
	close(it->fd);
	it->fd = -1;
}

static void *worker(void *arg)
{
	struct syncer *q = arg;
	struct syncer_item *it;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->head && !q->closing)
			pthread_cond_wait(&q->more, &q->lock);
		if (!(it = q->head))
			break;
		if (!(q->head = it->next))
			q->tail = &q->head;
		pthread_mutex_unlock(&q->lock);
		commit(q->store, it);
		pthread_mutex_lock(&q->lock);
		if (it->err)
			q->failed = 1;
		if (--q->pending == 0)
			pthread_cond_broadcast(&q->idle);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

void syncer_init(struct syncer *q, const struct store *s)
{
	q->store = s;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->more, NULL);
	pthread_cond_init(&q->idle, NULL);
	q->pending = 0;
	q->failed = 0;
	q->head = NULL;
	q->tail = &q->head;
	q->closing = 0;
	q->nthreads = 0;
}

void syncer_add(struct syncer *q, struct syncer_item *it)
{
	/* A thread per item up to the limit: each blob's sync can start
	 * at once. */
	if (q->nthreads < SYNCER_THREADS &&
	    pthread_create(&q->threads[q->nthreads], NULL, worker, q) == 0)
		q->nthreads++;
	if (q->nthreads == 0) {
		commit(q->store, it);
		if (it->err)
			q->failed = 1;
		return;
	}
	it->next = NULL;
	pthread_mutex_lock(&q->lock);
	*q->tail = it;
	q->tail = &it->next;
	q->pending++;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
}

int syncer_failed(struct syncer *q)
{
	pthread_mutex_lock(&q->lock);
	int failed = q->failed;
	pthread_mutex_unlock(&q->lock);
	return failed;
}

void syncer_drain(struct syncer *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->pending > 0)
		pthread_cond_wait(&q->idle, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

void syncer_finish(struct syncer *q)
{
	syncer_drain(q);
	pthread_mutex_lock(&q->lock);
	q->closing = 1;
	pthread_cond_broadcast(&q->more);
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	q->nthreads = 0;
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->idle);
	pthread_mutex_destroy(&q->lock);
}
