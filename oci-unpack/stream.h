/* stream.h: a layer blob turned into its tar bytes on a thread of its
 * own: read, hashed against the descriptor's digest, decompressed
 * (gzip by ISA-L's igzip, zstd by libzstd), hashed against the diff_id.
 * The caller parses the tar meanwhile; on two cores the two overlap. */
#ifndef OCI_UNPACK_STREAM_H
#define OCI_UNPACK_STREAM_H

#include "layout.h"

#include <sys/types.h>

struct stream;

/* Starts decoding the blob open at fd (which the stream then owns).
 * name is the layer's digest, for messages; it must outlive the stream. */
struct stream *stream_open(int fd, const struct layer *l, const char *name);

/* The next chunk of tar bytes into *out, valid until the next call;
 * 0 at the end. Dies, naming the layer, on a read or decoding error. */
size_t stream_read(struct stream *s, const void **out);

/* Reads to the end, so trailing bytes are hashed too, then checks the
 * blob's size and both digests, dying with both named on a mismatch.
 * Frees the stream. */
void stream_close(struct stream *s);

#endif
