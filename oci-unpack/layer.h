/* layer.h: the first pass over one layer: decompress, verify both
 * digests, copy file data into the spool, apply entries to the tree. */
#ifndef OCI_UNPACK_LAYER_H
#define OCI_UNPACK_LAYER_H

#include "layout.h"
#include "tree.h"

#include <stdint.h>

/* File data of every layer goes to one unlinked temporary file, so the
 * second pass reads verified bytes and memory holds metadata only. For a
 * directory, each file's data goes instead to a file of its own in a
 * staging directory inside it (stage >= 0), named by its number in hex,
 * and the second pass renames it into place: the data is written once.
 * An entry's data_off is then that number. */
struct spool {
	int fd;
	int64_t end;
	int stage;
	int64_t nstaged;
};

/* The name of staged file number i. */
#define STAGE_NAME_MAX 24
void stage_name(int64_t i, char *buf);

/* Applies layer number idx of img (0 = bottom) to t. Dies, naming the
 * layer, on a bad archive, a hostile entry or a digest mismatch. */
void layer_apply(int dirfd, const struct layer *l, int idx, struct tree *t,
		 struct spool *sp);

#endif
