/* virtio.h: a virtio 1.x device behind the virtio-mmio transport
 * (virtio 1.1, 4.2 "Virtio Over MMIO", version 2 only). The transport
 * owns the registers, feature negotiation, the queues' addresses and the
 * interrupt status; a device model supplies its queues' work. */
#ifndef VMBOOT_VIRTIO_H
#define VMBOOT_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"
#include "virtq.h"

#define VIRTIO_MAX_QUEUES 3

/* 2.1 Device Status Field */
#define VIRTIO_S_ACKNOWLEDGE	1
#define VIRTIO_S_DRIVER		2
#define VIRTIO_S_DRIVER_OK	4
#define VIRTIO_S_FEATURES_OK	8
#define VIRTIO_S_NEEDS_RESET	0x40
#define VIRTIO_S_FAILED		0x80

/* 6 Reserved Feature Bits */
#define VIRTIO_F_VERSION_1	32

/* 4.2.2 MMIO Device Register Layout */
enum {
	VMMIO_MAGIC = 0x000, VMMIO_VERSION = 0x004, VMMIO_DEVICE_ID = 0x008,
	VMMIO_VENDOR_ID = 0x00c, VMMIO_DEV_FEATURES = 0x010,
	VMMIO_DEV_FEATURES_SEL = 0x014, VMMIO_DRV_FEATURES = 0x020,
	VMMIO_DRV_FEATURES_SEL = 0x024, VMMIO_QUEUE_SEL = 0x030,
	VMMIO_QUEUE_NUM_MAX = 0x034, VMMIO_QUEUE_NUM = 0x038,
	VMMIO_QUEUE_READY = 0x044, VMMIO_QUEUE_NOTIFY = 0x050,
	VMMIO_INT_STATUS = 0x060, VMMIO_INT_ACK = 0x064, VMMIO_STATUS = 0x070,
	VMMIO_QUEUE_DESC_LO = 0x080, VMMIO_QUEUE_DESC_HI = 0x084,
	VMMIO_QUEUE_AVAIL_LO = 0x090, VMMIO_QUEUE_AVAIL_HI = 0x094,
	VMMIO_QUEUE_USED_LO = 0x0a0, VMMIO_QUEUE_USED_HI = 0x0a4,
	VMMIO_CONFIG_GEN = 0x0fc, VMMIO_CONFIG = 0x100,
};
#define VMMIO_MAGIC_VALUE 0x74726976	/* "virt" */
#define VMMIO_VENDOR	0x7a63		/* "cz" */
#define VIRTIO_INT_VRING	1
#define VIRTIO_INT_CONFIG	2

struct virtio_dev;
struct io;

struct virtio_ops {
	uint32_t device_id;
	unsigned nqueues;
	/* A kick on queue q: runs on the device thread, dev->lock held. */
	void (*kick)(struct virtio_dev *dev, unsigned q);
	/* The driver set DRIVER_OK (vCPU thread, lock held). */
	void (*activate)(struct virtio_dev *dev);
	/* The driver reset the device (lock held): drop in-flight state. */
	void (*reset)(struct virtio_dev *dev);
	/* Optional, lock held: the model's own state for virtio_report. */
	void (*report)(struct virtio_dev *dev);
};

struct virtio_dev {
	const char *name;
	const struct virtio_ops *ops;
	void *priv;
	const struct gmem *mem;
	struct io *io;
	pthread_mutex_t lock;

	uint64_t features;		/* offered */
	uint64_t driver_features;	/* accepted by the driver */
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel, status;
	uint32_t config_gen;
	uint32_t isr;			/* atomic: interrupt status bits */
	uint16_t queue_max;
	bool broken;			/* needs reset: no queue work */
	bool warned;			/* the first error has been logged */

	int irqfd;			/* eventfd raising the interrupt */
	int kickfd[VIRTIO_MAX_QUEUES];	/* eventfds the queue notifies hit */
	struct virtq vq[VIRTIO_MAX_QUEUES];

	const uint8_t *config;		/* device configuration space */
	uint32_t config_len;
	uint64_t base;			/* MMIO window, when attached */
	int irq;
};

/* Sets up the transport state and the eventfds, and registers the kick
 * eventfds with io. 0, or -1 after warnf. */
int virtio_dev_init(struct virtio_dev *dev, const char *name,
    const struct virtio_ops *ops, void *priv, uint64_t features,
    uint16_t queue_max, const struct gmem *mem, struct io *io);
void virtio_dev_destroy(struct virtio_dev *dev);
/* A register access at off in the device's window (bus_fn shape). */
void virtio_mmio_access(void *priv, uint64_t off, uint8_t *data,
    uint32_t len, bool write);
/* Puts the device on the VM's bus (window, irqfd, ioeventfds, command
 * line). */
struct vm;
int virtio_mmio_attach(struct vm *vm, struct virtio_dev *dev);
/* Sends the used-buffer interrupt if queue q's driver wants one. */
void virtio_notify(struct virtio_dev *dev, unsigned q);
/* The guest broke the rules: set NEEDS_RESET, raise a configuration
 * interrupt, log the first reason, and stop serving the device. */
void virtio_fail(struct virtio_dev *dev, const char *why);
/* Whether the device is live: DRIVER_OK and not broken. */
bool virtio_live(const struct virtio_dev *dev);
/* For a guest that stopped answering: every attached device's status,
 * interrupt bits and queue indices on stderr, and the model's own
 * state, so a report tells a stuck device from a stuck guest. */
void virtio_report(void);

#endif
