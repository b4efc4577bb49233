/* virtq.c: parsing split virtqueues the guest fills, trusting nothing.
 * The guest may change its rings while we read them, so each value is
 * loaded once (volatile) and checked in its local copy. */
#include "virtq.h"

#include <string.h>

#define LOAD(x) (*(volatile __typeof__(x) *)&(x))

static bool is_pow2(unsigned n)
{
	return n && !(n & (n - 1));
}

int virtq_enable(struct virtq *vq, const struct gmem *mem, const char **why)
{
	uint64_t n = vq->size;

	vq->ready = false;
	if (!is_pow2(vq->size) || vq->size > VIRTQ_MAX_SIZE) {
		*why = "queue size is not a power of two up to the maximum";
		return -1;
	}
	/* 2.7: alignment 16 for descriptors, 2 for avail, 4 for used. */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
		*why = "misaligned ring";
		return -1;
	}
	vq->desc = gmem_ptr(mem, vq->desc_gpa, 16 * n);
	vq->avail = gmem_ptr(mem, vq->avail_gpa, 6 + 2 * n);
	vq->used = gmem_ptr(mem, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used) {
		*why = "ring outside guest memory";
		return -1;
	}
	vq->mem = mem;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->ready = true;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof *vq);
}

bool virtq_has_avail(const struct virtq *vq)
{
	if (!vq->ready)
		return false;
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) !=
	    vq->last_avail;
}

static int add_seg(struct virtq_chain *c, const struct gmem *mem,
    uint64_t addr, uint32_t len, bool write, const char **why)
{
	void *p = gmem_ptr(mem, addr, len);

	if (!p) {
		*why = "descriptor outside guest memory";
		return -1;
	}
	if (write) {
		if (len > VIRTQ_MAX_CHAIN_BYTES - c->in_len) {
			*why = "chain too long";
			return -1;
		}
		c->in_len += len;
		if (len)
			c->in[c->nin++] = (struct iovec){ p, len };
	} else {
		if (len > VIRTQ_MAX_CHAIN_BYTES - c->out_len) {
			*why = "chain too long";
			return -1;
		}
		c->out_len += len;
		if (len)
			c->out[c->nout++] = (struct iovec){ p, len };
	}
	return 0;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c, const char **why)
{
	uint16_t avail_idx, head, i;
	unsigned count;
	bool seen_write = false;

	if (!vq->ready)
		return 0;
	avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size) {
		*why = "available index ran more than a queue ahead";
		return -1;
	}
	head = LOAD(vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size) {
		*why = "head index out of range";
		return -1;
	}
	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	i = head;
	for (count = 0;; count++) {
		struct vring_desc *d = &vq->desc[i];
		uint64_t addr = LOAD(d->addr);
		uint32_t len = LOAD(d->len);
		uint16_t flags = LOAD(d->flags), next = LOAD(d->next);

		/* A chain visits each descriptor at most once, so one longer
		 * than the table loops. */
		if (count >= vq->size) {
			*why = "descriptor chain loops or exceeds the queue size";
			return -1;
		}
		if (flags & VRING_DESC_F_INDIRECT) {
			*why = "indirect descriptor, not negotiated";
			return -1;
		}
		/* 2.7.4.2: readable descriptors come before writable ones. */
		if (!(flags & VRING_DESC_F_WRITE) && seen_write) {
			*why = "readable descriptor after a writable one";
			return -1;
		}
		seen_write |= flags & VRING_DESC_F_WRITE;
		if (add_seg(c, vq->mem, addr, len, flags & VRING_DESC_F_WRITE,
		    why) < 0)
			return -1;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		if (next >= vq->size) {
			*why = "next index out of range";
			return -1;
		}
		i = next;
	}
	vq->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

void virtq_push(struct virtq *vq, const struct virtq_chain *c, uint32_t written)
{
	struct vring_used_elem *e;

	if (!vq->ready)
		return;
	if (written > c->in_len)
		written = c->in_len;
	e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	LOAD(e->id) = c->head;
	LOAD(e->len) = written;
	vq->used_idx++;
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_need_interrupt(const struct virtq *vq)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(LOAD(vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off,
    void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, l);
		done += l;
		off = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off,
    const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, l);
		done += l;
		off = 0;
	}
	return done;
}

unsigned iov_slice(const struct iovec *iov, unsigned n, size_t off,
    size_t len, struct iovec *out)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len)
			l = len;
		out[k++] = (struct iovec){ (uint8_t *)iov[i].iov_base + off, l };
		len -= l;
		off = 0;
	}
	return k;
}
