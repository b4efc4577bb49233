/* virtio-net.c: a network card on a host tap device (virtio 1.1, 5.1
 * "Network Device"). Frames pass with their virtio_net_hdr straight
 * through the tap's vnet header, so checksum and TSO offloads cost
 * nothing here: they are offered when the tap accepts them. One rx and
 * one tx queue, on the device thread. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "err.h"
#include "virtio.h"
#include "virtio-net.h"
#include "vmboot.h"
#include "xalloc.h"

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_CSUM	0
#define VIRTIO_NET_F_GUEST_CSUM	1
#define VIRTIO_NET_F_MAC	5
#define VIRTIO_NET_F_GUEST_TSO4	7
#define VIRTIO_NET_F_GUEST_TSO6	8
#define VIRTIO_NET_F_HOST_TSO4	11
#define VIRTIO_NET_F_HOST_TSO6	12
#define VIRTIO_NET_F_STATUS	16
#define VIRTIO_NET_S_LINK_UP	1
#define NET_QUEUE_SIZE 256
#define NET_HDR_LEN 12		/* struct virtio_net_hdr_v1, 5.1.6 */
#define NET_MAX_FRAME (65536 + NET_HDR_LEN)
enum { RXQ, TXQ };

/* 5.1.4 Device configuration layout */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
} __attribute__((packed));

struct net {
	struct virtio_dev dev;
	struct virtio_net_config cfg;
	int tap;
	bool tap_offloads;	/* the tap takes TUNSETOFFLOAD */
	bool rx_wait;		/* no rx buffers: the tap is not polled */
	struct virtq_chain chain;
};

static void net_tap_io(void *arg, uint32_t events);

static void poll_tap(struct net *n, bool on)
{
	if (n->rx_wait == !on)
		return;
	n->rx_wait = !on;
	io_mod(n->dev.io, n->tap, on ? EPOLLIN : 0, net_tap_io, n);
}

/* Frames from the tap into the guest's rx buffers, while both last. */
static void net_rx(struct net *n)
{
	struct virtq *vq = &n->dev.vq[RXQ];
	const char *why;
	bool used = false;

	if (!virtio_live(&n->dev) || !vq->ready)
		return;
	for (;;) {
		ssize_t r;
		int p = virtq_pop(vq, &n->chain, &why);

		if (p == 0) {
			poll_tap(n, false);	/* until the guest adds buffers */
			break;
		}
		if (p < 0 || n->chain.out_len || n->chain.in_len < NET_HDR_LEN) {
			virtio_fail(&n->dev, p < 0 ? why :
			    "rx buffer not writable or shorter than the header");
			return;
		}
		r = readv(n->tap, n->chain.in, n->chain.nin);
		if (r < 0) {
			virtq_unpop(vq);
			if (errno != EAGAIN && errno != EINTR)
				warnf("%s: tap read:", n->dev.name);
			poll_tap(n, true);
			break;
		}
		virtq_push(vq, &n->chain, r);
		used = true;
	}
	if (used)
		virtio_notify(&n->dev, RXQ);
}

static void net_tx(struct net *n)
{
	struct virtq *vq = &n->dev.vq[TXQ];
	const char *why;
	bool used = false;
	int p;

	while ((p = virtq_pop(vq, &n->chain, &why)) > 0) {
		if (n->chain.in_len || n->chain.out_len < NET_HDR_LEN ||
		    n->chain.out_len > NET_MAX_FRAME) {
			virtio_fail(&n->dev, "tx frame writable, or of a bad size");
			return;
		}
		/* A frame the tap refuses is dropped, as on a wire. */
		if (writev(n->tap, n->chain.out, n->chain.nout) < 0 &&
		    errno != EAGAIN && errno != EIO && errno != EINVAL)
			warnf("%s: tap write:", n->dev.name);
		virtq_push(vq, &n->chain, 0);
		used = true;
	}
	if (p < 0)
		virtio_fail(&n->dev, why);
	if (used)
		virtio_notify(&n->dev, TXQ);
}

static void net_kick(struct virtio_dev *dev, unsigned q)
{
	struct net *n = dev->priv;

	if (q == TXQ)
		net_tx(n);
	else
		net_rx(n);
}

static void net_tap_io(void *arg, uint32_t events)
{
	struct net *n = arg;

	(void)events;
	pthread_mutex_lock(&n->dev.lock);
	net_rx(n);
	pthread_mutex_unlock(&n->dev.lock);
}

/* The offloads the guest accepted are the ones the tap may hand us. */
static void net_activate(struct virtio_dev *dev)
{
	struct net *n = dev->priv;
	uint64_t f = dev->driver_features;
	unsigned off = 0;

	if (f & 1ULL << VIRTIO_NET_F_GUEST_CSUM) {
		off |= TUN_F_CSUM;
		if (f & 1ULL << VIRTIO_NET_F_GUEST_TSO4)
			off |= TUN_F_TSO4;
		if (f & 1ULL << VIRTIO_NET_F_GUEST_TSO6)
			off |= TUN_F_TSO6;
	}
	if (n->tap_offloads && ioctl(n->tap, TUNSETOFFLOAD, off) < 0)
		warnf("%s: TUNSETOFFLOAD:", dev->name);
	n->rx_wait = true;
	poll_tap(n, true);
}

static void net_reset(struct virtio_dev *dev)
{
	poll_tap(dev->priv, false);
}

static const struct virtio_ops net_ops = {
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.kick = net_kick,
	.activate = net_activate,
	.reset = net_reset,
};

int tap_open(const char *name, bool *offloads)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr = NET_HDR_LEN;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		warnf("/dev/net/tun:");
		return -1;
	}
	if (strlen(name) >= IFNAMSIZ) {
		warnf("%s: tap name too long", name);
		close(fd);
		return -1;
	}
	strcpy(ifr.ifr_name, name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		warnf("tap %s:", name);
		close(fd);
		return -1;
	}
	*offloads = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 |
	    TUN_F_TSO6) == 0;
	if (*offloads)
		ioctl(fd, TUNSETOFFLOAD, 0);
	return fd;
}

struct virtio_dev *net_new(int tap, bool offloads, const uint8_t *mac,
    const struct gmem *mem, struct io *io)
{
	struct net *n = xcalloc(1, sizeof *n);
	uint64_t f = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
	    1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_HOST_TSO4 |
	    1ULL << VIRTIO_NET_F_HOST_TSO6;

	n->tap = tap;
	n->tap_offloads = offloads;
	if (offloads)
		f |= 1ULL << VIRTIO_NET_F_GUEST_CSUM |
		    1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO6;
	if (mac) {
		memcpy(n->cfg.mac, mac, 6);
	} else {
		/* A locally administered unicast address. */
		n->cfg.mac[0] = 0x02;
		if (getrandom(n->cfg.mac + 1, 5, 0) != 5)
			memcpy(n->cfg.mac + 1, "\x63\x7a\x00\x00\x01", 5);
	}
	n->cfg.status = VIRTIO_NET_S_LINK_UP;
	if (virtio_dev_init(&n->dev, "virtio-net", &net_ops, n, f, NET_QUEUE_SIZE,
	    mem, io) < 0 || io_add(io, tap, 0, net_tap_io, n) < 0)
		return NULL;
	n->rx_wait = true;
	n->dev.config = (const uint8_t *)&n->cfg;
	n->dev.config_len = sizeof n->cfg;
	return &n->dev;
}

static int net_setup(struct vm *vm)
{
	const struct guest_net *g = vm->guest_net;
	struct virtio_dev *d;
	uint8_t mac[6];
	bool off, has_mac;
	int tap;

	if (!vm->cfg->tap)
		return 0;
	/* The MAC the host side chose (netbridge.c runs first) is the one
	 * the guest's eth0 reads from the config space. */
	has_mac = g && sscanf(g->mac, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx",
	    &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6;
	if ((tap = tap_open(vm->cfg->tap, &off)) < 0)
		return -1;
	d = net_new(tap, off, has_mac ? mac : NULL, &vm->mem, vm->io);
	return d ? virtio_mmio_attach(vm, d) : -1;
}

static struct device_type net_type = { .name = "virtio-net", .prio = 20,
    .setup = net_setup };
DEVICE_REGISTER(net_type)
