/* virtio-net.h: the network device on a tap, for vmboot and its tests. */
#ifndef VMBOOT_VIRTIO_NET_H
#define VMBOOT_VIRTIO_NET_H

#include <stdbool.h>

#include "gmem.h"

struct io;
/* Opens tap NAME with a 12-byte vnet header; *offloads says whether it
 * takes TUNSETOFFLOAD. */
int tap_open(const char *name, bool *offloads);
struct virtio_dev *net_new(int tap, bool offloads, const struct gmem *mem,
    struct io *io);

#endif
