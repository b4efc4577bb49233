/* virtq.h: split virtqueues (virtio 1.1, 2.7 "Split Virtqueues") seen
 * from the device, with the guest treated as hostile: every index,
 * address, length and chain is checked, and each descriptor is read once
 * into host memory before it is checked. */
#ifndef VMBOOT_VIRTQ_H
#define VMBOOT_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "gmem.h"

/* 2.7.5 The Virtqueue Descriptor Table */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4

/* 2.7.6 The Virtqueue Available Ring */
struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};
#define VRING_AVAIL_F_NO_INTERRUPT 1

/* 2.7.8 The Virtqueue Used Ring */
struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

/* The largest queue any device offers; a chain is never longer. */
#define VIRTQ_MAX_SIZE 256
/* No chain carries more than this many bytes in either direction. */
#define VIRTQ_MAX_CHAIN_BYTES (64u << 20)

struct virtq {
	uint16_t size;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;
	uint16_t used_idx;
	const struct gmem *mem;
};

/* A descriptor chain split into what the device reads (out: driver to
 * device) and what it writes (in), as host iovecs into guest memory. */
struct virtq_chain {
	uint16_t head;
	unsigned nout, nin;
	struct iovec out[VIRTQ_MAX_SIZE];
	struct iovec in[VIRTQ_MAX_SIZE];
	uint32_t out_len, in_len;
};

/* Checks the rings' addresses and size; 0, or -1 with a reason. */
int virtq_enable(struct virtq *vq, const struct gmem *mem, const char **why);
void virtq_reset(struct virtq *vq);
/* 1 with a chain, 0 when the ring is empty, -1 with *why when the guest
 * broke the rules; the queue is then unusable until reset. */
int virtq_pop(struct virtq *vq, struct virtq_chain *c, const char **why);
/* Gives back the chain just popped, unused: the next pop returns it. */
void virtq_unpop(struct virtq *vq);
/* Returns a chain as used, with written bytes (capped to in_len). */
void virtq_push(struct virtq *vq, const struct virtq_chain *c, uint32_t written);
/* Whether the driver wants an interrupt now. */
bool virtq_need_interrupt(const struct virtq *vq);
/* Whether the avail ring has chains not yet popped. */
bool virtq_has_avail(const struct virtq *vq);

/* Copy helpers across a chain's iovecs, from offset off. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off,
    void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off,
    const void *buf, size_t len);
/* The iovecs covering [off, off+len) of iov, into out (n entries at
 * most); returns how many. */
unsigned iov_slice(const struct iovec *iov, unsigned n, size_t off,
    size_t len, struct iovec *out);

#endif
