/* virtio-net.h: the network device on a tap, for vmboot and its tests. */
#ifndef VMBOOT_VIRTIO_NET_H
#define VMBOOT_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"

struct io;
/* Opens tap NAME with a 12-byte vnet header; *offloads says whether it
 * takes TUNSETOFFLOAD. */
int tap_open(const char *name, bool *offloads);
/* mac: the address offered in the config space; NULL: a random one. */
struct virtio_dev *net_new(int tap, bool offloads, const uint8_t *mac,
    const struct gmem *mem, struct io *io);

#endif
