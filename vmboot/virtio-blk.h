/* virtio-blk.h: the block device, for vmboot and its driver-side tests. */
#ifndef VMBOOT_VIRTIO_BLK_H
#define VMBOOT_VIRTIO_BLK_H

#include <stdbool.h>

#include "gmem.h"

struct blk;
struct io;
struct blk *blk_new(const char *path, bool ro, int index,
    const struct gmem *mem, struct io *io);
struct virtio_dev *blk_dev(struct blk *b);

#endif
