/* virtio-rng.h: the entropy device, for vmboot and its tests. */
#ifndef VMBOOT_VIRTIO_RNG_H
#define VMBOOT_VIRTIO_RNG_H

#include <sys/types.h>

#include "gmem.h"

struct io;

/* Where the bytes come from: fills up to len bytes without blocking and
 * returns how many, or -1 with errno EAGAIN while there is no entropy
 * yet (the host's pool is not initialized: only early in its boot). */
typedef ssize_t rng_source_fn(void *buf, size_t len);

/* The host's getrandom; /dev/random turning readable says its pool is
 * ready. */
struct virtio_dev *rng_new(const struct gmem *mem, struct io *io);
/* Another source, with ready_fd turning readable when it has bytes
 * (the tests' way to play a host that has none yet). The device owns
 * ready_fd. */
struct virtio_dev *rng_new_source(const struct gmem *mem, struct io *io,
    rng_source_fn *source, int ready_fd);

#endif
