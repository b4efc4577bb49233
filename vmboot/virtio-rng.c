/* virtio-rng.c: entropy from the host's getrandom (virtio 1.1, 5.4
 * "Entropy Device"): each writable buffer the guest offers is filled,
 * up to RNG_MAX_REQUEST bytes a chain. */
#include <errno.h>
#include <sys/random.h>

#include "err.h"
#include "virtio.h"
#include "virtio-rng.h"
#include "vmboot.h"
#include "xalloc.h"

#define VIRTIO_ID_RNG 4
#define RNG_QUEUE_SIZE 64
#define RNG_MAX_REQUEST 65536

struct rng {
	struct virtio_dev dev;
	struct virtq_chain chain;
};

static uint32_t fill(const struct virtq_chain *c)
{
	uint32_t done = 0;

	for (unsigned i = 0; i < c->nin && done < RNG_MAX_REQUEST; i++) {
		size_t want = c->in[i].iov_len;
		ssize_t r;

		if (want > RNG_MAX_REQUEST - done)
			want = RNG_MAX_REQUEST - done;
		r = getrandom(c->in[i].iov_base, want, 0);
		if (r < 0) {
			if (errno != EINTR)
				warnf("virtio-rng: getrandom:");
			break;
		}
		done += r;
		if ((size_t)r < want)
			break;
	}
	return done;
}

static void rng_kick(struct virtio_dev *dev, unsigned q)
{
	struct rng *r = dev->priv;
	const char *why;
	bool used = false;
	int n;

	while ((n = virtq_pop(&dev->vq[q], &r->chain, &why)) > 0) {
		if (r->chain.out_len) {
			virtio_fail(dev, "readable buffer on the entropy queue");
			return;
		}
		virtq_push(&dev->vq[q], &r->chain, fill(&r->chain));
		used = true;
	}
	if (n < 0)
		virtio_fail(dev, why);
	if (used)
		virtio_notify(dev, q);
}

static const struct virtio_ops rng_ops = {
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.kick = rng_kick,
};

struct virtio_dev *rng_new(const struct gmem *mem, struct io *io)
{
	struct rng *r = xcalloc(1, sizeof *r);

	if (virtio_dev_init(&r->dev, "virtio-rng", &rng_ops, r, 0,
	    RNG_QUEUE_SIZE, mem, io) < 0)
		return NULL;
	return &r->dev;
}

static int rng_setup(struct vm *vm)
{
	struct virtio_dev *d = rng_new(&vm->mem, vm->io);

	return d ? virtio_mmio_attach(vm, d) : -1;
}

static struct device_type rng_type = { .name = "virtio-rng", .prio = 30,
    .setup = rng_setup };
DEVICE_REGISTER(rng_type)
