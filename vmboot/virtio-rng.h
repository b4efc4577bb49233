/* virtio-rng.h: the entropy device, for vmboot and its tests. */
#ifndef VMBOOT_VIRTIO_RNG_H
#define VMBOOT_VIRTIO_RNG_H

#include "gmem.h"

struct io;
struct virtio_dev *rng_new(const struct gmem *mem, struct io *io);

#endif
