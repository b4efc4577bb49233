/* virtio-blk.c: a disk backed by a file (virtio 1.1, 5.2 "Block
 * Device"): read, write, flush, get-id and discard, with pread/pwrite on
 * the device thread. Read-only disks offer VIRTIO_BLK_F_RO and refuse
 * writes. A malformed request makes the device need a reset; a
 * well-formed one the file cannot serve gets VIRTIO_BLK_S_IOERR. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "virtio.h"
#include "virtio-blk.h"
#include "vmboot.h"
#include "xalloc.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_DISCARD	13
enum { BLK_T_IN = 0, BLK_T_OUT = 1, BLK_T_FLUSH = 4, BLK_T_GET_ID = 8,
	BLK_T_DISCARD = 11 };
enum { BLK_S_OK = 0, BLK_S_IOERR = 1, BLK_S_UNSUPP = 2 };
#define SECTOR 512
#define BLK_QUEUE_SIZE 128
#define BLK_SEG_MAX (BLK_QUEUE_SIZE - 2)	/* header and status take two */
#define BLK_DISCARD_SEG_MAX 32
#define BLK_ID_BYTES 20

/* 5.2.6 Device Operation: the request header */
struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};
/* 5.2.6: a discard segment */
struct virtio_blk_discard {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* 5.2.4 Device configuration layout, up to the discard fields. */
struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max, seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0[3];
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
} __attribute__((packed));

struct blk {
	struct virtio_dev dev;
	struct virtio_blk_config cfg;
	int fd;
	bool ro;
	uint64_t sectors;
	char id[BLK_ID_BYTES];
	char name[32];
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* The data part of a request's writable buffers: all but the last byte,
 * which is the status. */
static unsigned data_iov(struct blk *b, const struct virtq_chain *c)
{
	unsigned n = c->nin;

	memcpy(b->iov, c->in, n * sizeof c->in[0]);
	if (--b->iov[n - 1].iov_len == 0)
		n--;
	return n;
}

static bool in_range(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	return sector <= b->sectors && bytes / SECTOR <= b->sectors - sector;
}

static uint8_t do_discard(struct blk *b, const struct virtq_chain *c)
{
	uint32_t len = c->out_len - sizeof(struct virtio_blk_req_hdr);
	struct virtio_blk_discard d;

	if (b->ro)
		return BLK_S_IOERR;
	if (len % sizeof d || len / sizeof d > BLK_DISCARD_SEG_MAX)
		return BLK_S_UNSUPP;
	for (uint32_t off = 0; off < len; off += sizeof d) {
		iov_to_buf(c->out, c->nout, sizeof(struct virtio_blk_req_hdr) +
		    off, &d, sizeof d);
		if (d.flags || !in_range(b, d.sector, (uint64_t)d.num_sectors * SECTOR))
			return BLK_S_UNSUPP;
		if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    (off_t)d.sector * SECTOR, (off_t)d.num_sectors * SECTOR) < 0 &&
		    errno != EOPNOTSUPP)
			return BLK_S_IOERR;
	}
	return BLK_S_OK;
}

/* Serves one request; returns the bytes written into the chain, or -1
 * when it is malformed. */
static int request(struct blk *b, const struct virtq_chain *c, const char **why)
{
	struct virtio_blk_req_hdr h;
	uint8_t *status, st = BLK_S_OK;
	uint32_t written = 0;
	unsigned n;
	ssize_t r;

	if (c->out_len < sizeof h || c->nin == 0) {
		*why = "request without header or status byte";
		return -1;
	}
	iov_to_buf(c->out, c->nout, 0, &h, sizeof h);
	status = (uint8_t *)c->in[c->nin - 1].iov_base +
	    c->in[c->nin - 1].iov_len - 1;
	switch (h.type) {
	case BLK_T_IN: {
		uint64_t len = c->in_len - 1;

		if (len % SECTOR || !in_range(b, h.sector, len)) {
			st = BLK_S_IOERR;
			break;
		}
		n = data_iov(b, c);
		r = n ? preadv(b->fd, b->iov, n, (off_t)h.sector * SECTOR) : 0;
		if (r < 0 || (uint64_t)r != len)
			st = BLK_S_IOERR;
		else
			written = len;
		break;
	}
	case BLK_T_OUT: {
		uint64_t len = c->out_len - sizeof h;
		struct iovec *iov = b->iov;

		if (b->ro || len % SECTOR || !in_range(b, h.sector, len)) {
			st = BLK_S_IOERR;
			break;
		}
		/* The data follows the header in the readable part. */
		n = 0;
		for (unsigned i = 0, skip = sizeof h; i < c->nout; i++) {
			size_t l = c->out[i].iov_len;

			if (skip >= l) {
				skip -= l;
				continue;
			}
			iov[n++] = (struct iovec){ (uint8_t *)c->out[i].iov_base +
			    skip, l - skip };
			skip = 0;
		}
		r = n ? pwritev(b->fd, iov, n, (off_t)h.sector * SECTOR) : 0;
		if (r < 0 || (uint64_t)r != len)
			st = BLK_S_IOERR;
		break;
	}
	case BLK_T_FLUSH:
		if (!b->ro && fdatasync(b->fd) < 0)
			st = BLK_S_IOERR;
		break;
	case BLK_T_GET_ID:
		n = data_iov(b, c);
		written = iov_from_buf(b->iov, n, 0, b->id,
		    strnlen(b->id, BLK_ID_BYTES));
		break;
	case BLK_T_DISCARD:
		st = do_discard(b, c);
		break;
	default:
		st = BLK_S_UNSUPP;
	}
	*status = st;
	return written + 1;
}

static void blk_kick(struct virtio_dev *dev, unsigned q)
{
	struct blk *b = dev->priv;
	const char *why;
	bool used = false;
	int r, w;

	while ((r = virtq_pop(&dev->vq[q], &b->chain, &why)) > 0) {
		if ((w = request(b, &b->chain, &why)) < 0) {
			virtio_fail(dev, why);
			return;
		}
		virtq_push(&dev->vq[q], &b->chain, w);
		used = true;
	}
	if (r < 0)
		virtio_fail(dev, why);
	if (used)
		virtio_notify(dev, q);
}

static const struct virtio_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.kick = blk_kick,
};

struct blk *blk_new(const char *path, bool ro, int index,
    const struct gmem *mem, struct io *io)
{
	struct blk *b = xcalloc(1, sizeof *b);
	struct stat st;
	const char *base = strrchr(path, '/');

	b->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		warnf("%s:", path);
		goto fail;
	}
	/* Two VMs writing one disk corrupt it; readers may share. */
	if (flock(b->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		warnf("%s: in use by another process:", path);
		goto fail;
	}
	if (fstat(b->fd, &st) < 0) {
		warnf("%s:", path);
		goto fail;
	}
	b->ro = ro;
	b->sectors = st.st_size / SECTOR;
	snprintf(b->name, sizeof b->name, "virtio-blk%d", index);
	/* The ID is the file's name, as much as fits. */
	base = base ? base + 1 : path;
	memcpy(b->id, base, strnlen(base, BLK_ID_BYTES));
	b->cfg = (struct virtio_blk_config){
		.capacity = b->sectors, .seg_max = BLK_SEG_MAX,
		.blk_size = SECTOR,
		.max_discard_sectors = UINT32_MAX / SECTOR,
		.max_discard_seg = BLK_DISCARD_SEG_MAX,
		.discard_sector_alignment = 1,
	};
	if (virtio_dev_init(&b->dev, b->name, &blk_ops, b,
	    1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
	    1ULL << VIRTIO_BLK_F_FLUSH |
	    (ro ? 1ULL << VIRTIO_BLK_F_RO : 1ULL << VIRTIO_BLK_F_DISCARD),
	    BLK_QUEUE_SIZE, mem, io) < 0)
		goto fail;
	b->dev.config = (const uint8_t *)&b->cfg;
	b->dev.config_len = sizeof b->cfg;
	return b;
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return NULL;
}

struct virtio_dev *blk_dev(struct blk *b)
{
	return &b->dev;
}

static int blk_setup(struct vm *vm)
{
	for (int i = 0; i < vm->cfg->ndisks; i++) {
		const struct disk_opt *d = &vm->cfg->disks[i];
		struct blk *b = blk_new(d->path, d->ro, i, &vm->mem, vm->io);

		if (!b || virtio_mmio_attach(vm, &b->dev) < 0)
			return -1;
	}
	return 0;
}

static struct device_type blk_type = { .name = "virtio-blk", .prio = 10,
    .setup = blk_setup };
DEVICE_REGISTER(blk_type)
