/* syncer.h: moves verified blobs into the store on worker threads, so
 * the download loop never waits for the disk. Each blob's data reaches
 * the disk (fdatasync) before its name appears in blobs/ (rename), and
 * syncer_drain returns only when every blob handed over is in place or
 * has failed, so the caller can then write what names the blobs. Items
 * marked sync_only are synced and left for the caller to publish (a
 * manifest, which must enter blobs/ after the blobs it names). */
#ifndef OCI_PULL_SYNCER_H
#define OCI_PULL_SYNCER_H

#include "store.h"

#include <pthread.h>

#define SYNCER_THREADS 4	/* fdatasyncs in flight share journal commits */

/* One verified file; lives in the caller's memory, which the syncer
 * uses until syncer_finish. */
struct syncer_item {
	int fd;			/* open on tmp; closed by the syncer */
	char *tmp;		/* the caller's, freed by the caller */
	struct digest digest;
	int unlink_on_fail;	/* a private copy: nothing to resume */
	int sync_only;		/* fdatasync only; fd stays open */
	/* When set, run first, on the syncer's thread: 0, or an errno
	 * (the step "write" failed). */
	int (*prepare)(void *arg);
	void *prepare_arg;
	/* After syncer_finish: 0, or the errno of the step that failed. */
	int err;
	const char *step;	/* "write", "sync" or "rename" */
	struct syncer_item *next;
};

struct syncer {
	const struct store *store;
	pthread_mutex_t lock;
	pthread_cond_t more, idle;
	size_t pending;		/* queued or being committed */
	int failed;		/* some item has err set */
	struct syncer_item *head, **tail;
	int closing;
	size_t nthreads;
	pthread_t threads[SYNCER_THREADS];
};

void syncer_init(struct syncer *q, const struct store *s);
/* Queues it; without a worker thread, commits it here. */
void syncer_add(struct syncer *q, struct syncer_item *it);
/* Whether an item failed already (the caller can stop early). */
int syncer_failed(struct syncer *q);
/* Waits for every item handed over so far. */
void syncer_drain(struct syncer *q);
/* Drains and stops the workers. */
void syncer_finish(struct syncer *q);

#endif
