/* virtio-vsock.h: the socket device, for vmboot and its tests. */
#ifndef VMBOOT_VIRTIO_VSOCK_H
#define VMBOOT_VIRTIO_VSOCK_H

#include "gmem.h"

struct io;
/* Listens on path for host clients; guest connections go to path_PORT. */
struct virtio_dev *vsock_new(const char *path, const struct gmem *mem,
    struct io *io);
/* Removes the listening socket. */
void vsock_close(struct virtio_dev *dev);

#endif
