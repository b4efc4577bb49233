/* virtq-test: vmboot's device models driven from the driver side, with
 * no KVM. The test plays the guest driver: it negotiates through the
 * virtio-mmio registers, builds descriptor chains in a block of "guest
 * memory", kicks, runs the device thread's loop once, and checks the
 * used ring, the interrupt and the device's status, for well-formed and
 * hostile requests alike. Prints TAP. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <unistd.h>

#include "err.h"
#include "virtio.h"
#include "virtio-blk.h"
#include "virtio-net.h"
#include "virtio-rng.h"
#include "virtio-vsock.h"
#include "virtq.h"
#include "vmboot.h"

#define RAM_GPA 0x100000ULL
#define RAM_SIZE (4u << 20)
#define QSIZE 16

static int n_test, n_fail;

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		n_fail++;
	fflush(stdout);
}

static uint8_t *ram;
/* Devices live until exit; kept here so leak checkers see them. */
static void *keep[16];
static int nkeep;
#define KEEP(p) (keep[nkeep++ % 16] = (p))
static struct gmem mem;

static void *gp(uint64_t gpa)
{
	return ram + (gpa - RAM_GPA);
}

/* ---- the split virtqueue alone ---- */

struct rings {
	uint64_t desc, avail, used;
	struct vring_desc *d;
	struct vring_avail *a;
	struct vring_used *u;
};

static void rings_at(struct rings *r, uint64_t base)
{
	r->desc = base;
	r->avail = base + 16 * VIRTQ_MAX_SIZE;
	r->used = base + 0x2000;
	r->d = gp(r->desc);
	r->a = gp(r->avail);
	r->u = gp(r->used);
	memset(r->d, 0, 0x3000);
}

static void vq_setup(struct virtq *vq, struct rings *r, uint16_t size)
{
	const char *why;

	virtq_reset(vq);
	vq->size = size;
	vq->desc_gpa = r->desc;
	vq->avail_gpa = r->avail;
	vq->used_gpa = r->used;
	if (virtq_enable(vq, &mem, &why) < 0)
		printf("# enable: %s\n", why);
}

static void desc(struct rings *r, int i, uint64_t addr, uint32_t len,
    uint16_t flags, uint16_t next)
{
	r->d[i] = (struct vring_desc){ addr, len, flags, next };
}

static void offer(struct rings *r, uint16_t head)
{
	r->a->ring[r->a->idx % QSIZE] = head;
	r->a->idx++;
}

static int pop_why(struct virtq *vq, struct virtq_chain *c, const char **why)
{
	*why = "";
	return virtq_pop(vq, c, why);
}

static void test_virtq(void)
{
	static struct virtq_chain c;
	struct virtq vq;
	struct rings r;
	const char *why;
	uint64_t buf = RAM_GPA + 0x10000;

	rings_at(&r, RAM_GPA);
	vq_setup(&vq, &r, QSIZE);
	ok(vq.ready, "virtq: a well-placed queue is enabled");
	ok(pop_why(&vq, &c, &why) == 0, "virtq: empty ring pops nothing");

	desc(&r, 0, buf, 16, VRING_DESC_F_NEXT, 1);
	desc(&r, 1, buf + 16, 100, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	desc(&r, 2, buf + 116, 1, VRING_DESC_F_WRITE, 0);
	offer(&r, 0);
	ok(pop_why(&vq, &c, &why) == 1 && c.nout == 1 && c.nin == 2 &&
	    c.out_len == 16 && c.in_len == 101 && c.head == 0 &&
	    c.out[0].iov_base == gp(buf), "virtq: a chain splits into readable "
	    "and writable parts");
	virtq_push(&vq, &c, 1000);
	ok(r.u->idx == 1 && r.u->ring[0].id == 0 && r.u->ring[0].len == 101,
	    "virtq: used length is capped to the writable bytes");

	struct { const char *name; void (*make)(struct rings *); } bad[] = {
		{ "a chain that loops", NULL }, { "next out of range", NULL },
		{ "address outside memory", NULL }, { "address+length wraps", NULL },
		{ "readable after writable", NULL }, { "indirect descriptor", NULL },
		{ "length past the end of memory", NULL },
	};
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		vq_setup(&vq, &r, QSIZE);
		r.a->idx = 0;
		switch (k) {
		case 0:
			desc(&r, 0, buf, 1, VRING_DESC_F_NEXT, 1);
			desc(&r, 1, buf, 1, VRING_DESC_F_NEXT, 0);
			break;
		case 1: desc(&r, 0, buf, 1, VRING_DESC_F_NEXT, QSIZE); break;
		case 2: desc(&r, 0, 0x1000, 1, 0, 0); break;
		case 3: desc(&r, 0, UINT64_MAX - 4, 100, 0, 0); break;
		case 4:
			desc(&r, 0, buf, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
			desc(&r, 1, buf, 1, 0, 0);
			break;
		case 5: desc(&r, 0, buf, 16, VRING_DESC_F_INDIRECT, 0); break;
		case 6: desc(&r, 0, RAM_GPA + RAM_SIZE - 8, 16, 0, 0); break;
		}
		offer(&r, 0);
		int r = pop_why(&vq, &c, &why);
		ok(r == -1, "virtq: refuses %s (%s)", bad[k].name, why);
	}
	/* A chain through every descriptor is fine; it cannot be longer. */
	vq_setup(&vq, &r, QSIZE);
	r.a->idx = 0;
	for (int i = 0; i < QSIZE; i++)
		desc(&r, i, buf, 1, i < QSIZE - 1 ? VRING_DESC_F_NEXT : 0, i + 1);
	offer(&r, 0);
	ok(pop_why(&vq, &c, &why) == 1 && c.nout == QSIZE,
	    "virtq: a chain of queue-size descriptors is accepted");
	vq_setup(&vq, &r, QSIZE);
	r.a->idx = QSIZE + 1;
	int rr = pop_why(&vq, &c, &why);
	ok(rr == -1, "virtq: available index more than a queue ahead is "
	    "refused (%s)", why);
	vq_setup(&vq, &r, QSIZE);
	r.a->idx = 1;
	r.a->ring[0] = QSIZE;
	rr = pop_why(&vq, &c, &why);
	ok(rr == -1, "virtq: head out of range is refused (%s)", why);

	virtq_reset(&vq);
	vq.size = 12;
	vq.desc_gpa = r.desc;
	vq.avail_gpa = r.avail;
	vq.used_gpa = r.used;
	rr = virtq_enable(&vq, &mem, &why);
	ok(rr < 0, "virtq: size not a power of two is refused (%s)", why);
	vq.size = QSIZE;
	vq.used_gpa = RAM_GPA + RAM_SIZE - 8;
	rr = virtq_enable(&vq, &mem, &why);
	ok(rr < 0, "virtq: used ring past memory is refused (%s)", why);
	vq.used_gpa = r.used + 2;
	rr = virtq_enable(&vq, &mem, &why);
	ok(rr < 0, "virtq: misaligned ring is refused (%s)", why);
}

/* ---- a driver for any device behind the transport ---- */

struct drv {
	struct virtio_dev *dev;
	struct io *io;
	struct rings q[VIRTIO_MAX_QUEUES];
	uint16_t next_avail[VIRTIO_MAX_QUEUES];
	uint16_t seen_used[VIRTIO_MAX_QUEUES];
};

static uint32_t rd(struct drv *d, uint64_t off)
{
	uint32_t v;

	virtio_mmio_access(d->dev, off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(struct drv *d, uint64_t off, uint32_t v)
{
	virtio_mmio_access(d->dev, off, (uint8_t *)&v, 4, true);
}

static uint64_t dev_features(struct drv *d)
{
	uint64_t f;

	wr(d, VMMIO_DEV_FEATURES_SEL, 0);
	f = rd(d, VMMIO_DEV_FEATURES);
	wr(d, VMMIO_DEV_FEATURES_SEL, 1);
	return f | (uint64_t)rd(d, VMMIO_DEV_FEATURES) << 32;
}

/* The driver's side of 3.1.1 Driver Requirements: Device Initialization. */
static int drv_init(struct drv *d, struct virtio_dev *dev, struct io *io,
    unsigned nq, uint64_t ring_base)
{
	uint64_t f;

	memset(d, 0, sizeof *d);
	d->dev = dev;
	d->io = io;
	wr(d, VMMIO_STATUS, 0);
	wr(d, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	f = dev_features(d);
	wr(d, VMMIO_DRV_FEATURES_SEL, 0);
	wr(d, VMMIO_DRV_FEATURES, (uint32_t)f);
	wr(d, VMMIO_DRV_FEATURES_SEL, 1);
	wr(d, VMMIO_DRV_FEATURES, f >> 32);
	wr(d, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
	    VIRTIO_S_FEATURES_OK);
	if (!(rd(d, VMMIO_STATUS) & VIRTIO_S_FEATURES_OK))
		return -1;
	for (unsigned q = 0; q < nq; q++) {
		struct rings *r = &d->q[q];

		rings_at(r, ring_base + q * 0x4000);
		wr(d, VMMIO_QUEUE_SEL, q);
		wr(d, VMMIO_QUEUE_NUM, QSIZE);
		wr(d, VMMIO_QUEUE_DESC_LO, (uint32_t)r->desc);
		wr(d, VMMIO_QUEUE_DESC_HI, r->desc >> 32);
		wr(d, VMMIO_QUEUE_AVAIL_LO, (uint32_t)r->avail);
		wr(d, VMMIO_QUEUE_AVAIL_HI, r->avail >> 32);
		wr(d, VMMIO_QUEUE_USED_LO, (uint32_t)r->used);
		wr(d, VMMIO_QUEUE_USED_HI, r->used >> 32);
		wr(d, VMMIO_QUEUE_READY, 1);
	}
	wr(d, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
	    VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
	return rd(d, VMMIO_STATUS) & VIRTIO_S_DRIVER_OK ? 0 : -1;
}

/* Puts a chain of (gpa, len, write) segments on queue q at descriptor
 * slot `slot`, and kicks. */
struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static void submit(struct drv *d, unsigned q, int slot, const struct seg *s,
    int n)
{
	struct rings *r = &d->q[q];

	for (int i = 0; i < n; i++)
		desc(r, slot + i, s[i].gpa, s[i].len,
		    (s[i].write ? VRING_DESC_F_WRITE : 0) |
		    (i < n - 1 ? VRING_DESC_F_NEXT : 0), slot + i + 1);
	r->a->ring[d->next_avail[q] % QSIZE] = slot;
	__atomic_store_n(&r->a->idx, ++d->next_avail[q], __ATOMIC_RELEASE);
	wr(d, VMMIO_QUEUE_NOTIFY, q);
}

/* Runs the device loop until queue q has a new used entry or the
 * timeout; returns its length, or -1. */
static int64_t wait_used(struct drv *d, unsigned q, int timeout_ms)
{
	struct rings *r = &d->q[q];

	for (int t = 0; t < timeout_ms / 10 + 1; t++) {
		if (__atomic_load_n(&r->u->idx, __ATOMIC_ACQUIRE) != d->seen_used[q]) {
			struct vring_used_elem e = r->u->ring[d->seen_used[q]++ % QSIZE];

			return e.len;
		}
		io_run_once(d->io, 10);
	}
	return -1;
}

static void drain_loop(struct io *io)
{
	for (int i = 0; i < 5; i++)
		io_run_once(io, 5);
}

static bool irq_raised(struct drv *d)
{
	uint64_t v;

	return read(d->dev->irqfd, &v, sizeof v) == sizeof v;
}

static bool needs_reset(struct drv *d)
{
	return (rd(d, VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET) &&
	    (rd(d, VMMIO_INT_STATUS) & VIRTIO_INT_CONFIG);
}

/* ---- virtio-blk ---- */

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 512);
}

static int blk_req(struct drv *d, uint32_t type, uint64_t sector,
    uint32_t len, bool write_data, uint8_t *status)
{
	uint64_t h = RAM_GPA + 0x100000, data = h + 0x1000, st = data + 0x80000;
	struct blk_hdr *hp = gp(h);
	struct seg s[3] = { { h, sizeof *hp, false } };
	int n = 1;
	int64_t used;

	*hp = (struct blk_hdr){ type, 0, sector };
	if (len)
		s[n++] = (struct seg){ data, len, !write_data };
	s[n++] = (struct seg){ st, 1, true };
	*(uint8_t *)gp(st) = 0xee;
	submit(d, 0, 0, s, n);
	used = wait_used(d, 0, 1000);
	*status = *(uint8_t *)gp(st);
	return used;
}

static void test_blk(const char *dir)
{
	char path[256], rpath[256];
	static uint8_t file[64 * 512];
	struct io *io = KEEP(io_new());
	struct drv d;
	struct blk *b;
	uint8_t st;
	int fd, used;
	uint8_t *data = gp(RAM_GPA + 0x101000);

	for (size_t i = 0; i < sizeof file; i++)
		file[i] = pattern(i);
	snprintf(path, sizeof path, "%s/disk.img", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, file, sizeof file) != sizeof file)
		die("%s:", path);
	close(fd);

	b = KEEP(blk_new(path, false, 0, &mem, io));
	ok(b && drv_init(&d, blk_dev(b), io, 1, RAM_GPA) == 0,
	    "blk: the driver negotiates and starts the device");
	ok(rd(&d, VMMIO_MAGIC) == VMMIO_MAGIC_VALUE && rd(&d, VMMIO_VERSION) == 2 &&
	    rd(&d, VMMIO_DEVICE_ID) == 2, "blk: magic, version 2, device id 2");
	{
		uint64_t cap = 0;

		for (int i = 0; i < 8; i++) {
			uint8_t byte;

			virtio_mmio_access(d.dev, VMMIO_CONFIG + i, &byte, 1, false);
			cap |= (uint64_t)byte << (8 * i);
		}
		ok(cap == 64, "blk: capacity is 64 sectors (%llu)",
		    (unsigned long long)cap);
	}
	used = blk_req(&d, 0, 3, 1024, false, &st);
	ok(used == 1025 && st == 0 && !memcmp(data, file + 3 * 512, 1024),
	    "blk: read of sectors 3-4 returns the file's bytes");
	ok(irq_raised(&d) && (rd(&d, VMMIO_INT_STATUS) & VIRTIO_INT_VRING),
	    "blk: completion raises the used-buffer interrupt");
	wr(&d, VMMIO_INT_ACK, VIRTIO_INT_VRING);
	memset(data, 0xab, 512);
	used = blk_req(&d, 1, 5, 512, true, &st);
	fd = open(path, O_RDONLY);
	pread(fd, file, 512, 5 * 512);
	ok(used == 1 && st == 0 && file[0] == 0xab && file[511] == 0xab,
	    "blk: write of sector 5 reaches the file");
	ok(blk_req(&d, 4, 0, 0, false, &st) == 1 && st == 0, "blk: flush");
	used = blk_req(&d, 8, 0, 20, false, &st);
	ok(used == 9 && st == 0 && !memcmp(data, "disk.img", 8),
	    "blk: get-id returns the file name (%d bytes)", used - 1);
	used = blk_req(&d, 0, 63, 1024, false, &st);
	ok(st == 1, "blk: read past the end is an I/O error, not a crash");
	used = blk_req(&d, 0, UINT64_MAX / 256, 512, false, &st);
	ok(st == 1, "blk: a sector number that overflows is an I/O error");
	used = blk_req(&d, 0, 1, 100, false, &st);
	ok(st == 1, "blk: a length not a multiple of 512 is an I/O error");
	used = blk_req(&d, 99, 0, 0, false, &st);
	ok(st == 2, "blk: an unknown request type is unsupported");
	{
		struct { uint64_t sector; uint32_t num, flags; } *ds =
		    gp(RAM_GPA + 0x101000);

		ds->sector = 8;
		ds->num = 8;
		ds->flags = 0;
		used = blk_req(&d, 11, 0, 16, true, &st);
		pread(fd, file, 4096, 8 * 512);
		int zero = 1;
		for (int i = 0; i < 4096; i++)
			zero &= file[i] == 0;
		ok(st == 0 && zero, "blk: discard of sectors 8-15 zeroes them");
		ds->num = 100;
		used = blk_req(&d, 11, 0, 16, true, &st);
		ok(st != 0, "blk: discard past the end is refused");
	}
	close(fd);
	ok(!needs_reset(&d), "blk: none of that needed a reset");

	/* Hostile: no status byte; the device stops and asks for reset. */
	{
		struct seg s[1] = { { RAM_GPA + 0x100000, 16, false } };

		submit(&d, 0, 0, s, 1);
		drain_loop(io);
		ok(needs_reset(&d), "blk: a request without a status byte "
		    "sets NEEDS_RESET with a configuration interrupt");
		*(uint8_t *)gp(RAM_GPA + 0x180000 + 0x1000) = 0xee;
		uint16_t before = d.q[0].u->idx;
		struct seg ok_s[2] = { { RAM_GPA + 0x100000, 16, false },
		    { RAM_GPA + 0x181000, 1, true } };
		submit(&d, 0, 0, ok_s, 2);
		drain_loop(io);
		ok(d.q[0].u->idx == before, "blk: a device needing reset "
		    "serves no more requests");
		wr(&d, VMMIO_STATUS, 0);
		ok(rd(&d, VMMIO_STATUS) == 0 && rd(&d, VMMIO_INT_STATUS) == 0,
		    "blk: reset clears status and interrupts");
		ok(drv_init(&d, blk_dev(b), io, 1, RAM_GPA) == 0 &&
		    blk_req(&d, 0, 0, 512, false, &st) == 513 && st == 0,
		    "blk: after reset the device works again");
	}
	/* Hostile: a loop in the chain. */
	{
		struct rings *r = &d.q[0];

		desc(r, 0, RAM_GPA + 0x100000, 16, VRING_DESC_F_NEXT, 1);
		desc(r, 1, RAM_GPA + 0x181000, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
		r->a->ring[d.next_avail[0] % QSIZE] = 0;
		r->a->idx = ++d.next_avail[0];
		wr(&d, VMMIO_QUEUE_NOTIFY, 0);
		drain_loop(io);
		ok(needs_reset(&d), "blk: a looping chain sets NEEDS_RESET");
	}
	/* Hostile: a queue outside guest memory. */
	{
		ok(drv_init(&d, blk_dev(b), io, 1, RAM_GPA) == 0, "blk: reset again");
		wr(&d, VMMIO_STATUS, 0);
		wr(&d, VMMIO_STATUS, 3);
		wr(&d, VMMIO_QUEUE_SEL, 0);
		wr(&d, VMMIO_QUEUE_NUM, QSIZE);
		wr(&d, VMMIO_QUEUE_DESC_LO, 0x1000);
		wr(&d, VMMIO_QUEUE_READY, 1);
		ok(needs_reset(&d) && !rd(&d, VMMIO_QUEUE_READY),
		    "blk: a queue outside guest memory is refused with NEEDS_RESET");
		wr(&d, VMMIO_QUEUE_SEL, 7);
		ok(rd(&d, VMMIO_QUEUE_NUM_MAX) == 0, "blk: a queue that does not "
		    "exist has size 0");
		uint32_t v = 0xdeadbeef;
		virtio_mmio_access(d.dev, 0x2, (uint8_t *)&v, 2, false);
		ok(v == 0xdead0000, "blk: a misaligned register read returns zeros");
		uint8_t cfg[8];
		virtio_mmio_access(d.dev, 0xff8, cfg, 8, false);
		ok(cfg[0] == 0 && cfg[7] == 0, "blk: config reads past its end "
		    "return zeros");
	}
	/* A read-only disk refuses writes and offers VIRTIO_BLK_F_RO. */
	snprintf(rpath, sizeof rpath, "%s/ro.img", dir);
	fd = open(rpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, file, sizeof file) != sizeof file)
		die("%s:", rpath);
	close(fd);
	{
		struct io *io2 = KEEP(io_new());
		struct blk *rb = KEEP(blk_new(rpath, true, 1, &mem, io2));
		struct drv d2;

		if (!rb || drv_init(&d2, blk_dev(rb), io2, 1, RAM_GPA) < 0)
			die("blk ro: cannot start");
		ok(dev_features(&d2) & (1 << 5), "blk ro: offers VIRTIO_BLK_F_RO");
		blk_req(&d2, 1, 0, 512, true, &st);
		ok(st == 1, "blk ro: a write is an I/O error");
		blk_req(&d2, 0, 0, 512, false, &st);
		ok(st == 0, "blk ro: reads work");
	}
	ok(blk_new(path, false, 2, &mem, io) == NULL, "blk: a disk open "
	    "read-write elsewhere is refused (lock)");
}

/* ---- virtio-rng ---- */

static void test_rng(void)
{
	struct io *io = KEEP(io_new());
	struct virtio_dev *dev = KEEP(rng_new(&mem, io));
	struct drv d;
	uint8_t *p = gp(RAM_GPA + 0x100000);
	int nz = 0;

	ok(dev && drv_init(&d, dev, io, 1, RAM_GPA) == 0, "rng: starts");
	memset(p, 0, 256);
	submit(&d, 0, 0, &(struct seg){ RAM_GPA + 0x100000, 256, true }, 1);
	ok(wait_used(&d, 0, 1000) == 256, "rng: fills a 256-byte buffer");
	for (int i = 0; i < 256; i++)
		nz += p[i] != 0;
	ok(nz > 200, "rng: with random bytes (%d nonzero)", nz);
	submit(&d, 0, 0, &(struct seg){ RAM_GPA + 0x100000, 256, false }, 1);
	drain_loop(io);
	ok(needs_reset(&d), "rng: a readable buffer sets NEEDS_RESET");
}

/* A host whose pool is not initialized yet (the test host early in its
 * boot, where getrandom would block): played by a source that has
 * nothing until the test gives it bytes and signals the ready eventfd,
 * as /dev/random turns readable for the real one. */
static bool fake_has_entropy;

static ssize_t fake_source(void *buf, size_t len)
{
	if (!fake_has_entropy) {
		errno = EAGAIN;
		return -1;
	}
	memset(buf, 0xa5, len);
	return len;
}

static void test_rng_waits(void)
{
	struct io *io = KEEP(io_new());
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct virtio_dev *dev = KEEP(rng_new_source(&mem, io, fake_source, efd));
	struct virtio_dev *other = KEEP(rng_new(&mem, io));
	uint64_t buf = RAM_GPA + 0x180000, obuf = RAM_GPA + 0x190000;
	uint8_t *p = gp(buf);
	uint64_t one = 1;
	struct drv d, o;
	int same = 0;

	ok(dev && other && drv_init(&d, dev, io, 1, RAM_GPA) == 0 &&
	    drv_init(&o, other, io, 1, RAM_GPA + 0x10000) == 0,
	    "rng without entropy: starts, beside a second rng on the same thread");
	memset(p, 0, 128);
	submit(&d, 0, 0, &(struct seg){ buf, 64, true }, 1);
	ok(wait_used(&d, 0, 200) == -1, "rng without entropy: the buffer waits");
	submit(&d, 0, 1, &(struct seg){ buf + 64, 64, true }, 1);
	drain_loop(io);
	submit(&o, 0, 0, &(struct seg){ obuf, 64, true }, 1);
	ok(wait_used(&o, 0, 1000) == 64,
	    "rng without entropy: the device thread serves the other device meanwhile");
	ok(wait_used(&d, 0, 100) == -1 && !needs_reset(&d),
	    "rng without entropy: a second buffer waits too, and nothing is wrong");
	fake_has_entropy = true;
	ok(write(efd, &one, sizeof one) == sizeof one, "(the source is ready)");
	ok(wait_used(&d, 0, 1000) == 64 && wait_used(&d, 0, 1000) == 64,
	    "rng: once the source is ready, both waiting buffers are filled");
	for (int i = 0; i < 128; i++)
		same += p[i] == 0xa5;
	ok(same == 128, "rng: with the source's bytes (%d of 128)", same);
	ok(irq_raised(&d), "rng: and the driver is interrupted");
}

/* ---- virtio-vsock ---- */

struct vhdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

#define RX_BUF(i) (RAM_GPA + 0x200000 + (i) * 0x2000)
#define TX_BUF (RAM_GPA + 0x300000)

static int rx_slot;

/* Offers one rx buffer of 4 KiB + header. */
static void rx_offer(struct drv *d)
{
	int i = rx_slot++ % QSIZE;

	submit(d, 0, i, &(struct seg){ RX_BUF(i), 0x2000, true }, 1);
}

/* The next packet the device put in rx, or NULL. */
static struct vhdr *rx_next(struct drv *d, int timeout_ms)
{
	struct rings *r = &d->q[0];

	for (int t = 0; t < timeout_ms / 5 + 1; t++) {
		if (r->u->idx != d->seen_used[0]) {
			struct vring_used_elem e = r->u->ring[d->seen_used[0]++ % QSIZE];

			return gp(RX_BUF(e.id));
		}
		io_run_once(d->io, 5);
	}
	return NULL;
}

static void tx_send(struct drv *d, uint16_t op, uint32_t src, uint32_t dst,
    const void *data, uint32_t len, uint32_t claimed_len)
{
	struct vhdr *h = gp(TX_BUF);

	*h = (struct vhdr){ .src_cid = 3, .dst_cid = 2, .src_port = src,
	    .dst_port = dst, .len = claimed_len, .type = 1, .op = op,
	    .buf_alloc = 1 << 20, .fwd_cnt = 0 };
	if (len)
		memcpy(h + 1, data, len);
	submit(d, 1, 0, &(struct seg){ TX_BUF, sizeof *h + len, false }, 1);
	wait_used(d, 1, 1000);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int unix_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0)
		return -1;
	return fd;
}

static ssize_t read_wait(int fd, void *buf, size_t len, struct io *io)
{
	for (int i = 0; i < 200; i++) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 0) == 1)
			return read(fd, buf, len);
		io_run_once(io, 5);
	}
	return -1;
}

static void test_vsock(const char *dir)
{
	char path[80], lpath[100], line[64];
	struct io *io = KEEP(io_new());
	struct virtio_dev *dev;
	struct vhdr *h;
	struct drv d;
	int c, l, s;
	ssize_t n;

	snprintf(path, sizeof path, "%s/v.sock", dir);
	dev = KEEP(vsock_new(path, &mem, io));
	ok(dev && drv_init(&d, dev, io, 3, RAM_GPA) == 0, "vsock: starts");
	for (int i = 0; i < 8; i++)
		rx_offer(&d);

	/* Host-initiated. */
	c = unix_connect(path);
	write(c, "CONNECT 1234\n", 13);
	h = rx_next(&d, 1000);
	ok(h && h->op == 1 && h->dst_port == 1234 && h->dst_cid == 3 &&
	    h->src_cid == 2, "vsock: CONNECT 1234 becomes a REQUEST to guest "
	    "port 1234");
	uint32_t hport = h ? h->src_port : 0;
	tx_send(&d, 2, 1234, hport, NULL, 0, 0);
	n = read_wait(c, line, sizeof line - 1, io);
	line[n > 0 ? n : 0] = 0;
	char want[32];
	snprintf(want, sizeof want, "OK %u\n", hport);
	ok(!strcmp(line, want), "vsock: the guest's RESPONSE answers %s",
	    "OK <port>");
	write(c, "hello guest", 11);
	rx_offer(&d);
	h = rx_next(&d, 1000);
	ok(h && h->op == 5 && h->len == 11 && !memcmp(h + 1, "hello guest", 11),
	    "vsock: host bytes arrive as an RW packet");
	tx_send(&d, 5, 1234, hport, "hello host", 10, 10);
	n = read_wait(c, line, sizeof line - 1, io);
	ok(n == 10 && !memcmp(line, "hello host", 10),
	    "vsock: guest RW bytes reach the host client");
	close(c);
	rx_offer(&d);
	h = rx_next(&d, 1000);
	ok(h && h->op == 4 && (h->flags & 2), "vsock: host EOF becomes "
	    "SHUTDOWN(send)");
	tx_send(&d, 4, 1234, hport, NULL, 0, 0);
	((struct vhdr *)gp(TX_BUF))->flags = 3;
	tx_send(&d, 3, 1234, hport, NULL, 0, 0);

	/* Guest-initiated, to a listener and to nobody. */
	snprintf(lpath, sizeof lpath, "%s_5000", path);
	l = unix_listen(lpath);
	tx_send(&d, 1, 999, 5000, NULL, 0, 0);
	rx_offer(&d);
	h = rx_next(&d, 1000);
	ok(h && h->op == 2 && h->src_port == 5000 && h->dst_port == 999,
	    "vsock: a guest REQUEST to port 5000 connects to SOCKET_5000");
	s = accept(l, NULL, NULL);
	tx_send(&d, 5, 999, 5000, "abc", 3, 3);
	n = read_wait(s, line, sizeof line, io);
	ok(n == 3 && !memcmp(line, "abc", 3), "vsock: and its bytes arrive");
	tx_send(&d, 1, 998, 5001, NULL, 0, 0);
	rx_offer(&d);
	h = rx_next(&d, 1000);
	ok(h && h->op == 3 && h->src_port == 5001, "vsock: a REQUEST to a "
	    "port nobody listens on gets RST");
	tx_send(&d, 5, 997, 5002, "x", 1, 1);
	rx_offer(&d);
	h = rx_next(&d, 1000);
	ok(h && h->op == 3, "vsock: RW on no connection gets RST");

	/* Credit: the device never sends more than the guest allows. */
	{
		struct vhdr *t = gp(TX_BUF);
		static char big[8192];

		tx_send(&d, 6, 999, 5000, NULL, 0, 0);	/* buf_alloc 1 MiB */
		*t = (struct vhdr){ .src_cid = 3, .dst_cid = 2, .src_port = 999,
		    .dst_port = 5000, .type = 1, .op = 6, .buf_alloc = 100,
		    .fwd_cnt = 0 };
		submit(&d, 1, 0, &(struct seg){ TX_BUF, sizeof *t, false }, 1);
		wait_used(&d, 1, 1000);
		memset(big, 'z', sizeof big);
		write(s, big, sizeof big);
		uint32_t got = 0;
		for (int i = 0; i < 4; i++) {
			rx_offer(&d);
			h = rx_next(&d, 200);
			if (h && h->op == 5)
				got += h->len;
		}
		ok(got == 100, "vsock: with buf_alloc 100 the device sends "
		    "exactly 100 bytes (%u)", got);
	}
	/* Too many connections: the limit holds. */
	{
		int fds[70], accepted = 0;

		for (int i = 0; i < 70; i++) {
			fds[i] = unix_connect(path);
			write(fds[i], "CONNECT 77", 10);	/* no newline yet */
			io_run_once(io, 5);	/* accept, within the backlog */
		}
		drain_loop(io);
		drain_loop(io);
		for (int i = 0; i < 70; i++) {
			struct pollfd p = { fds[i], POLLIN, 0 };
			char ch;

			/* A refused client sees EOF (or a reset) at once. */
			if (!(poll(&p, 1, 0) == 1 && read(fds[i], &ch, 1) <= 0))
				accepted++;
			close(fds[i]);
		}
		ok(accepted <= 64 && accepted >= 60, "vsock: connections are "
		    "bounded (%d of 70 kept)", accepted);
		drain_loop(io);
	}
	ok(!needs_reset(&d), "vsock: none of that needed a reset");
	/* Hostile: a packet whose header lies about its length. */
	tx_send(&d, 5, 999, 5000, "abc", 3, 1000);
	ok(needs_reset(&d), "vsock: a packet lying about its length sets "
	    "NEEDS_RESET");
	close(s);
	close(l);
	unlink(lpath);
	vsock_close(dev);
	struct stat st;
	ok(stat(path, &st) < 0, "vsock: the socket is removed at close");
}

/* ---- virtio-net, on a real tap (needs root and /dev/net/tun) ---- */

static void test_net(void)
{
	char name[IFNAMSIZ];
	struct io *io = KEEP(io_new());
	struct virtio_dev *dev;
	struct drv d;
	bool off;
	int tap, ps, ctl;
	uint8_t *tx = gp(RAM_GPA + 0x300000), *rx = gp(RAM_GPA + 0x200000);
	int64_t used;

	snprintf(name, sizeof name, "czvq%d", (int)getpid() % 100000);
	tap = tap_open(name, &off);
	ok(tap >= 0, "net: opens tap %s with a vnet header", name);
	if (tap < 0)
		return;
	dev = KEEP(net_new(tap, off, (const uint8_t *)"\x02\xaa\xbb\xcc\xdd\xee",
	    &mem, io));
	ok(dev && drv_init(&d, dev, io, 2, RAM_GPA) == 0 &&
	    rd(&d, VMMIO_DEVICE_ID) == 1, "net: starts as device 1");
	uint8_t mac[6];
	virtio_mmio_access(dev, VMMIO_CONFIG, mac, 6, false);
	ok(!memcmp(mac, "\x02\xaa\xbb\xcc\xdd\xee", 6) &&
	    (dev_features(&d) & (1 << 5)), "net: offers the MAC it was given");
	/* Up, so the tap passes frames both ways. */
	ctl = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, name);
	ioctl(ctl, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ok(ioctl(ctl, SIOCSIFFLAGS, &ifr) == 0, "net: tap is up");
	/* The host sends a raw frame on the tap: the guest receives it. */
	submit(&d, 0, 0, &(struct seg){ RAM_GPA + 0x200000, 2048, true }, 1);
	drain_loop(io);
	ps = socket(AF_PACKET, SOCK_RAW, 0);
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
	    .sll_ifindex = if_nametoindex(name), .sll_halen = 6 };
	uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    2, 0, 0, 0, 0, 1, 0x88, 0xb5, 'c', 'z' };
	memset(ll.sll_addr, 0xff, 6);
	/* Drain what the kernel sent when the link came up. */
	while (wait_used(&d, 0, 50) >= 0)
		submit(&d, 0, 0, &(struct seg){ RAM_GPA + 0x200000, 2048, true }, 1);
	ok(sendto(ps, frame, sizeof frame, 0, (struct sockaddr *)&ll,
	    sizeof ll) == sizeof frame, "net: host sends a frame on the tap");
	used = -1;
	for (int i = 0; i < 20 && used < 0; i++) {
		used = wait_used(&d, 0, 100);
		if (used >= 0 && (used != 12 + 64 || memcmp(rx + 12 + 14, "cz", 2))) {
			used = -1;	/* something else (IPv6 ND): next */
			submit(&d, 0, 0, &(struct seg){ RAM_GPA + 0x200000, 2048,
			    true }, 1);
		}
	}
	ok(used == 12 + 64, "net: it reaches the guest after a 12-byte "
	    "vnet header (%lld bytes)", (long long)used);
	/* The guest sends one: it leaves through the tap. */
	memset(tx, 0, 12);
	memcpy(tx + 12, frame, sizeof frame);
	submit(&d, 1, 0, &(struct seg){ RAM_GPA + 0x300000, 12 + 64, false }, 1);
	ok(wait_used(&d, 1, 1000) == 0, "net: a tx frame is consumed");
	ok(!needs_reset(&d), "net: none of that needed a reset");
	submit(&d, 1, 0, &(struct seg){ RAM_GPA + 0x300000, 100, true }, 1);
	drain_loop(io);
	ok(needs_reset(&d), "net: a writable tx buffer sets NEEDS_RESET");
	close(ps);
	close(ctl);
}

int main(void)
{
	char dir[] = "/tmp/virtq-test.XXXXXX";

	setprogname("virtq-test");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		die("mkdtemp:");
	ram = calloc(1, RAM_SIZE);
	mem = (struct gmem){ .r = { { RAM_GPA, RAM_SIZE, ram } }, .nr = 1 };
	test_virtq();
	test_blk(dir);
	test_rng();
	test_rng_waits();
	test_vsock(dir);
	test_net();
	printf("1..%d\n", n_test);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		warnf("cleanup of %s failed", dir);
	return n_fail != 0;
}
