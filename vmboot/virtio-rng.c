/* virtio-rng.c: entropy from the host's getrandom (virtio 1.1, 5.4
 * "Entropy Device"): each writable buffer the guest offers is filled,
 * up to RNG_MAX_REQUEST bytes a chain.
 *
 * The device thread serves every device, so the rng never blocks it:
 * while the host's own pool is not initialized (a host in its first
 * seconds, such as the test host), getrandom would block, so buffers
 * wait on the avail ring instead, and the device watches /dev/random,
 * which turns readable when the pool is ready. The guest waits for its
 * entropy; its disks, console and vsock do not. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

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
	rng_source_fn *source;
	int ready_fd;		/* readable once the source has bytes */
	bool waiting;		/* ready_fd is on the device thread's epoll */
};

static ssize_t host_source(void *buf, size_t len)
{
	return getrandom(buf, len, GRND_NONBLOCK);
}

/* Bytes written into the chain; 0 with *empty set when the source has
 * none yet. */
static uint32_t fill(struct rng *r, bool *empty)
{
	const struct virtq_chain *c = &r->chain;
	uint32_t done = 0;

	*empty = false;
	for (unsigned i = 0; i < c->nin && done < RNG_MAX_REQUEST; i++) {
		size_t want = c->in[i].iov_len;
		ssize_t n;

		if (want > RNG_MAX_REQUEST - done)
			want = RNG_MAX_REQUEST - done;
		n = r->source(c->in[i].iov_base, want);
		if (n < 0) {
			if (errno == EAGAIN)
				*empty = done == 0;
			else if (errno != EINTR)
				warnf("virtio-rng: getrandom:");
			break;
		}
		done += n;
		if ((size_t)n < want)
			break;
	}
	return done;
}

static void on_ready(void *arg, uint32_t events);

/* Fills what the guest has offered, until the source runs dry. */
static void drain(struct rng *r)
{
	struct virtio_dev *dev = &r->dev;
	const char *why;
	bool used = false, empty;
	int n;

	while ((n = virtq_pop(&dev->vq[0], &r->chain, &why)) > 0) {
		uint32_t len;

		if (r->chain.out_len) {
			virtio_fail(dev, "readable buffer on the entropy queue");
			return;
		}
		len = fill(r, &empty);
		if (empty) {
			virtq_unpop(&dev->vq[0]);
			if (io_add(dev->io, r->ready_fd, EPOLLIN, on_ready, r) == 0)
				r->waiting = true;
			break;
		}
		virtq_push(&dev->vq[0], &r->chain, len);
		used = true;
	}
	if (n < 0)
		virtio_fail(dev, why);
	if (used)
		virtio_notify(dev, 0);
}

static void on_ready(void *arg, uint32_t events)
{
	struct rng *r = arg;

	(void)events;
	pthread_mutex_lock(&r->dev.lock);
	io_del(r->dev.io, r->ready_fd);
	r->waiting = false;
	if (virtio_live(&r->dev) && r->dev.vq[0].ready)
		drain(r);
	pthread_mutex_unlock(&r->dev.lock);
}

static void rng_kick(struct virtio_dev *dev, unsigned q)
{
	struct rng *r = dev->priv;

	(void)q;
	/* Waiting: on_ready serves this buffer with the others. */
	if (!r->waiting)
		drain(r);
}

static const struct virtio_ops rng_ops = {
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.kick = rng_kick,
};

struct virtio_dev *rng_new_source(const struct gmem *mem, struct io *io,
    rng_source_fn *source, int ready_fd)
{
	struct rng *r = xcalloc(1, sizeof *r);

	r->source = source;
	r->ready_fd = ready_fd;
	if (virtio_dev_init(&r->dev, "virtio-rng", &rng_ops, r, 0,
	    RNG_QUEUE_SIZE, mem, io) < 0) {
		close(ready_fd);
		free(r);
		return NULL;
	}
	return &r->dev;
}

struct virtio_dev *rng_new(const struct gmem *mem, struct io *io)
{
	int fd = open("/dev/random", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		warnf("virtio-rng: /dev/random:");
		return NULL;
	}
	return rng_new_source(mem, io, host_source, fd);
}

static int rng_setup(struct vm *vm)
{
	struct virtio_dev *d = rng_new(&vm->mem, vm->io);

	return d ? virtio_mmio_attach(vm, d) : -1;
}

static struct device_type rng_type = { .name = "virtio-rng", .prio = 30,
    .setup = rng_setup };
DEVICE_REGISTER(rng_type)
