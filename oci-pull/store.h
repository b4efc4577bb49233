/* store.h: the OCI image layout (image-layout.md) as a store shared by
 * many images and many concurrent oci-pull runs:
 *   DIR/oci-layout, DIR/index.json, DIR/blobs/ALG/HEX,
 *   DIR/.partial/ALG-HEX   downloads in progress, resumable,
 *   DIR/.lock              flock(2) held while index.json changes.
 * A blob enters blobs/ only by rename(2) after its digest and size were
 * verified, so blobs/ holds nothing else. */
#ifndef OCI_PULL_STORE_H
#define OCI_PULL_STORE_H

#include "digest.h"

#include <stddef.h>

#define STORE_INDEX_MAX (64 << 20)

struct store {
	char *dir;
};

/* Creates the layout's directories when missing, all a download needs.
 * 0, or -1 after printing why. */
int store_open(struct store *s, const char *dir);
/* Then, before store_add_ref, index.json and oci-layout when missing,
 * each synced (it may run on another thread, beside the downloads). */
int store_init(const struct store *s);
void store_close(struct store *s);
char *store_blob_path(const struct store *s, const struct digest *d);
char *store_partial_path(const struct store *s, const struct digest *d);
/* 1 when the blob is present with this size. */
int store_has_blob(const struct store *s, const struct digest *d,
		   unsigned long long size);
/* Verifies buf against d and writes it, unsynced, to a new file open as
 * *fd: unnamed (O_TMPFILE) where the filesystem allows, else *tmp (to
 * free; NULL when unnamed). 0; 1 when the blob is already in the store
 * (nothing written); -1 after printing why. */
int store_stage_buffer(const struct store *s, const struct digest *d,
		       const void *buf, size_t len, char **tmp, int *fd);
/* Then links or renames the staged file, synced by the caller, into
 * blobs/. The caller closes fd. */
int store_publish(const struct store *s, int fd, const char *tmp, const struct digest *d);
/* Moves a verified temporary file, open as fd, into blobs/, its data
 * synced first. Prints nothing (for worker threads): 0, or -1 with
 * errno set and *step naming what failed. */
int store_commit_fd(const struct store *s, int fd, const char *tmp,
		    const struct digest *d, const char **step);

/* The descriptor index.json records for one image. */
struct store_ref {
	const char *name;	/* org.opencontainers.image.ref.name */
	const char *media_type;
	const char *digest;
	unsigned long long size;
	const char *os, *arch, *variant;	/* platform, or NULLs */
};
/* Adds ref to index.json, replacing entries with the same ref name,
 * under the store lock. The new index.json is renamed into place only
 * after the blob directories of these digest algorithms (bits
 * 1 << DIGEST_SHA256, ...) are durable, so it never names a blob a
 * crash could lose. */
int store_add_ref(const struct store *s, const struct store_ref *ref, unsigned algs);

#endif
