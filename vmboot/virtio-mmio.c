/* virtio-mmio.c: the virtio-mmio transport, version 2 (virtio 1.1, 4.2).
 * Register accesses run on vCPU threads; queue kicks arrive on eventfds
 * (ioeventfds under KVM) polled by the device thread. Both take the
 * device's lock, so a reset never races queue work. */
#include "virtio.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"

static void signal_irq(struct virtio_dev *dev)
{
	uint64_t one = 1;

	if (write(dev->irqfd, &one, sizeof one) < 0 && errno != EAGAIN)
		warnf("%s: raising interrupt:", dev->name);
}

static void raise_isr(struct virtio_dev *dev, uint32_t bits)
{
	__atomic_fetch_or(&dev->isr, bits, __ATOMIC_SEQ_CST);
	signal_irq(dev);
}

bool virtio_live(const struct virtio_dev *dev)
{
	return !dev->broken && (dev->status & VIRTIO_S_DRIVER_OK);
}

void virtio_notify(struct virtio_dev *dev, unsigned q)
{
	if (virtq_need_interrupt(&dev->vq[q]))
		raise_isr(dev, VIRTIO_INT_VRING);
}

void virtio_fail(struct virtio_dev *dev, const char *why)
{
	if (!dev->warned)
		warnf("%s: guest error, device needs reset: %s", dev->name, why);
	dev->warned = true;
	if (dev->broken)
		return;
	dev->broken = true;
	dev->status |= VIRTIO_S_NEEDS_RESET;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		dev->vq[q].ready = false;
	/* 4.2.2.1: the device notifies the driver through a configuration
	 * change interrupt after setting NEEDS_RESET. */
	raise_isr(dev, VIRTIO_INT_CONFIG);
}

static void reset(struct virtio_dev *dev)
{
	if (dev->ops->reset)
		dev->ops->reset(dev);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		virtq_reset(&dev->vq[q]);
	dev->status = 0;
	dev->driver_features = 0;
	dev->dev_feat_sel = dev->drv_feat_sel = dev->queue_sel = 0;
	dev->broken = false;
	__atomic_store_n(&dev->isr, 0, __ATOMIC_SEQ_CST);
}

static void set_status(struct virtio_dev *dev, uint32_t v)
{
	if (v == 0) {
		reset(dev);
		return;
	}
	v &= 0xff;
	if ((v & VIRTIO_S_FEATURES_OK) && !(dev->status & VIRTIO_S_FEATURES_OK)) {
		/* 2.2.2: refuse features we did not offer, and legacy. */
		if ((dev->driver_features & ~dev->features) ||
		    !(dev->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~VIRTIO_S_FEATURES_OK;
	}
	if (dev->broken)
		v |= VIRTIO_S_NEEDS_RESET;
	if ((v & VIRTIO_S_DRIVER_OK) && !(dev->status & VIRTIO_S_DRIVER_OK)) {
		dev->status = v;
		if (!dev->broken && dev->ops->activate)
			dev->ops->activate(dev);
		return;
	}
	dev->status = v;
}

static struct virtq *cur_vq(struct virtio_dev *dev)
{
	if (dev->queue_sel >= dev->ops->nqueues)
		return NULL;
	return &dev->vq[dev->queue_sel];
}

static uint32_t reg_read(struct virtio_dev *dev, uint64_t off)
{
	struct virtq *vq = cur_vq(dev);

	switch (off) {
	case VMMIO_MAGIC: return VMMIO_MAGIC_VALUE;
	case VMMIO_VERSION: return 2;
	case VMMIO_DEVICE_ID: return dev->ops->device_id;
	case VMMIO_VENDOR_ID: return VMMIO_VENDOR;
	case VMMIO_DEV_FEATURES:
		return dev->dev_feat_sel < 2 ?
		    (uint32_t)(dev->features >> (32 * dev->dev_feat_sel)) : 0;
	case VMMIO_QUEUE_NUM_MAX: return vq ? dev->queue_max : 0;
	case VMMIO_QUEUE_READY: return vq ? vq->ready : 0;
	case VMMIO_INT_STATUS: return __atomic_load_n(&dev->isr, __ATOMIC_SEQ_CST);
	case VMMIO_STATUS: return dev->status;
	case VMMIO_CONFIG_GEN: return dev->config_gen;
	}
	return 0;
}

static void set_half(uint64_t *v, bool hi, uint32_t x)
{
	*v = hi ? (*v & 0xffffffffULL) | (uint64_t)x << 32 :
	    (*v & ~0xffffffffULL) | x;
}

static void reg_write(struct virtio_dev *dev, uint64_t off, uint32_t v)
{
	struct virtq *vq = cur_vq(dev);
	const char *why;
	uint64_t one = 1;

	switch (off) {
	case VMMIO_DEV_FEATURES_SEL: dev->dev_feat_sel = v; return;
	case VMMIO_DRV_FEATURES_SEL: dev->drv_feat_sel = v; return;
	case VMMIO_DRV_FEATURES:
		/* 3.1.1: features are fixed once FEATURES_OK is set. */
		if (dev->drv_feat_sel < 2 &&
		    !(dev->status & VIRTIO_S_FEATURES_OK))
			set_half(&dev->driver_features, dev->drv_feat_sel, v);
		return;
	case VMMIO_QUEUE_SEL: dev->queue_sel = v; return;
	case VMMIO_QUEUE_NOTIFY:
		/* Only without an ioeventfd (tests): the same path. */
		if (v < dev->ops->nqueues &&
		    write(dev->kickfd[v], &one, sizeof one) < 0)
			warnf("%s: kick:", dev->name);
		return;
	case VMMIO_INT_ACK:
		__atomic_fetch_and(&dev->isr, ~v, __ATOMIC_SEQ_CST);
		return;
	case VMMIO_STATUS: set_status(dev, v); return;
	}
	/* The rest configures the selected queue, and only while it is
	 * not ready (4.2.2.3). */
	if (!vq)
		return;
	if (off == VMMIO_QUEUE_READY) {
		if (!v) {
			vq->ready = false;
			return;
		}
		if (vq->ready || dev->broken)
			return;
		if (virtq_enable(vq, dev->mem, &why) < 0)
			virtio_fail(dev, why);
		return;
	}
	if (vq->ready)
		return;
	switch (off) {
	case VMMIO_QUEUE_NUM: vq->size = v <= dev->queue_max ? v : 0; return;
	case VMMIO_QUEUE_DESC_LO: set_half(&vq->desc_gpa, 0, v); return;
	case VMMIO_QUEUE_DESC_HI: set_half(&vq->desc_gpa, 1, v); return;
	case VMMIO_QUEUE_AVAIL_LO: set_half(&vq->avail_gpa, 0, v); return;
	case VMMIO_QUEUE_AVAIL_HI: set_half(&vq->avail_gpa, 1, v); return;
	case VMMIO_QUEUE_USED_LO: set_half(&vq->used_gpa, 0, v); return;
	case VMMIO_QUEUE_USED_HI: set_half(&vq->used_gpa, 1, v); return;
	}
}

void virtio_mmio_access(void *priv, uint64_t off, uint8_t *data,
    uint32_t len, bool write)
{
	struct virtio_dev *dev = priv;
	uint32_t v = 0;

	pthread_mutex_lock(&dev->lock);
	if (off >= VMMIO_CONFIG) {
		/* Device configuration space: any width, bytes outside it
		 * read as zero and writes are ignored. */
		off -= VMMIO_CONFIG;
		if (!write)
			for (uint32_t i = 0; i < len; i++)
				data[i] = off + i < dev->config_len ?
				    dev->config[off + i] : 0;
		goto out;
	}
	/* 4.2.2.2: registers are 32 bits wide and aligned. */
	if (len != 4 || (off & 3)) {
		if (!write)
			memset(data, 0, len);
		goto out;
	}
	if (write) {
		memcpy(&v, data, 4);
		reg_write(dev, off, v);
	} else {
		v = reg_read(dev, off);
		memcpy(data, &v, 4);
	}
out:
	pthread_mutex_unlock(&dev->lock);
}

static void on_kick(void *arg, uint32_t events)
{
	struct virtio_dev *dev = arg;
	uint64_t n;
	unsigned q;

	(void)events;
	for (q = 0; q < dev->ops->nqueues; q++) {
		if (read(dev->kickfd[q], &n, sizeof n) != sizeof n)
			continue;
		pthread_mutex_lock(&dev->lock);
		if (virtio_live(dev) && dev->vq[q].ready)
			dev->ops->kick(dev, q);
		pthread_mutex_unlock(&dev->lock);
	}
}

int virtio_dev_init(struct virtio_dev *dev, const char *name,
    const struct virtio_ops *ops, void *priv, uint64_t features,
    uint16_t queue_max, const struct gmem *mem, struct io *io)
{
	memset(dev, 0, sizeof *dev);
	dev->name = name;
	dev->ops = ops;
	dev->priv = priv;
	dev->features = features | (1ULL << VIRTIO_F_VERSION_1);
	dev->queue_max = queue_max;
	dev->mem = mem;
	dev->io = io;
	dev->irq = -1;
	pthread_mutex_init(&dev->lock, NULL);
	dev->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->irqfd < 0) {
		warnf("%s: eventfd:", name);
		return -1;
	}
	for (unsigned q = 0; q < ops->nqueues; q++) {
		dev->kickfd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dev->kickfd[q] < 0) {
			warnf("%s: eventfd:", name);
			return -1;
		}
		/* One callback per queue fd; it drains them all. */
		if (io_add(io, dev->kickfd[q], EPOLLIN, on_kick, dev) < 0)
			return -1;
	}
	return 0;
}

void virtio_dev_destroy(struct virtio_dev *dev)
{
	for (unsigned q = 0; q < dev->ops->nqueues; q++) {
		io_del(dev->io, dev->kickfd[q]);
		close(dev->kickfd[q]);
	}
	close(dev->irqfd);
	pthread_mutex_destroy(&dev->lock);
}

static void report_one(void *priv)
{
	struct virtio_dev *dev = priv;

	/* A device thread stuck inside the lock is itself the news. */
	if (pthread_mutex_trylock(&dev->lock) != 0) {
		warnf("%s: its lock is held", dev->name);
		return;
	}
	warnf("%s: status %#x, interrupt status %#x%s", dev->name,
	    dev->status, __atomic_load_n(&dev->isr, __ATOMIC_SEQ_CST),
	    dev->broken ? ", needs reset" : "");
	for (unsigned q = 0; q < dev->ops->nqueues; q++) {
		struct virtq *vq = &dev->vq[q];

		if (!vq->ready)
			continue;
		warnf("%s: queue %u: available %u, taken %u, used %u%s",
		    dev->name, q,
		    __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE),
		    vq->last_avail, vq->used_idx,
		    virtq_need_interrupt(vq) ? "" : ", interrupts off");
	}
	if (dev->ops->report)
		dev->ops->report(dev);
	pthread_mutex_unlock(&dev->lock);
}

/* The devices are the bus's ranges that virtio_mmio_access answers. */
void virtio_report(void)
{
	mmio_each(virtio_mmio_access, report_one);
}

/* Puts the device on the guest's bus: a window, an interrupt line, one
 * ioeventfd per queue, an irqfd, and its place on the command line. */
int virtio_mmio_attach(struct vm *vm, struct virtio_dev *dev)
{
	dev->base = vm_alloc_mmio(vm);
	dev->irq = vm_alloc_irq(vm);
	if (!dev->base || dev->irq < 0) {
		warnf("%s: out of device slots", dev->name);
		return -1;
	}
	mmio_register(dev->base, MMIO_WINDOW, virtio_mmio_access, dev);
	for (unsigned q = 0; q < dev->ops->nqueues; q++)
		if (kvm_ioeventfd(vm, dev->base + VMMIO_QUEUE_NOTIFY, q,
		    dev->kickfd[q]) < 0)
			return -1;
	if (kvm_irqfd(vm, dev->irq, dev->irqfd) < 0)
		return -1;
	vm_cmdline_append(vm, "virtio_mmio.device=4K@0x%llx:%d",
	    (unsigned long long)dev->base, dev->irq);
	return 0;
}
