/* fetch.h: the parallel blob downloader. Blobs stream from the registry
 * through a hasher into DIR/.partial/ALG-HEX and, only when digest and
 * size match, go to the syncer, which makes them durable and renames
 * them into blobs/ while other transfers go on. A partial left by an
 * interrupted run is re-hashed and resumed with a Range request.
 * Transfers run together on one libcurl multi handle; each retries on
 * its own. A partial this run creates is hashed and written with
 * O_DIRECT by the threads of dwrite.h, so the loop only copies. */
#ifndef OCI_PULL_FETCH_H
#define OCI_PULL_FETCH_H

#include "manifest.h"
#include "registry.h"
#include "store.h"
#include "syncer.h"

enum blob_status {
	BLOB_PENDING,
	BLOB_PRESENT,	/* already in the store */
	BLOB_FETCHED,
	BLOB_RESUMED,	/* fetched, continuing a partial */
	BLOB_FAILED,
};

struct blob_job {
	const struct desc *desc;
	enum blob_status status;
	unsigned long long resumed_from;	/* bytes a partial already held */
};

const char *blob_status_name(enum blob_status s);
/* Fetches every job, committing through q, and drains q. 0 when all are
 * in the store, durable; -1 after printing what failed (partials stay
 * for a later run). */
int fetch_blobs(struct registry *r, const struct store *s, struct syncer *q,
		struct blob_job *jobs, size_t n, int parallel);

#endif
