/* kernelmap.c: the kernel's segments go into guest memory mapped from
 * its file, copy-on-write, where the file allows it: the guest then runs
 * its kernel from the page cache, shared by every VM that boots it, and
 * vmboot does not copy ~20 MiB first (in the test host: 0.1-0.2 s less
 * to userspace; the ~8 MiB of kernel pages the guest only reads are
 * shared through the page cache rather than private to each VM).
 *
 * A read lease keeps the file from changing under a running guest:
 * whoever opens it for writing, or truncates it, waits until we have let
 * go. The kernel tells us with SIGIO; the main thread then gives the
 * guest its own copy of every page still shared with the file, drops the
 * lease, and the writer goes on. Where no lease can be had (another
 * user's file, a filesystem without leases, a file open for writing)
 * the segments are copied. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"

void kernel_lease(struct vm *vm, struct kernel_file *kf)
{
	kf->leased = fcntl(kf->fd, F_SETLEASE, F_RDLCK) == 0;
	if (!kf->leased)
		debugf("%s: no read lease (%s): copying the kernel",
		    vm->cfg->kernel, strerror(errno));
}

static void copy_range(const struct kernel_file *kf, uint8_t *dst,
    uint64_t off, uint64_t len)
{
	while (len) {
		ssize_t r = pread(kf->fd, dst, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("kernel: read at %llu:", (unsigned long long)off);
		dst += r;
		off += r;
		len -= r;
	}
}

/* The whole pages of [dst, dst+len) mapped from the file at off, the
 * partial pages at either end copied (what follows the segment in the
 * file must not show in the guest). 0, or -1 to copy it all instead. */
static int map_range(struct vm *vm, const struct kernel_file *kf,
    uint8_t *dst, uint64_t off, uint64_t len)
{
	uint64_t head = (PAGE - (uintptr_t)dst % PAGE) % PAGE, body;
	void *p;

	if ((uintptr_t)dst % PAGE != off % PAGE || len < head + PAGE ||
	    vm->nkmap == KERNEL_MAPS_MAX)
		return -1;
	body = (len - head) & ~(PAGE - 1);
	/* Not MAP_POPULATE: on a private writable mapping it would copy
	 * every page at once. Nor MADV_POPULATE_READ: the guest reads part
	 * of its kernel, and its faults map the page cache 16 pages at a
	 * time; populating it all delayed the boot (test host: 15-25 ms
	 * before the first vCPU ran, ~0.1 s to userspace). */
	p = mmap(dst + head, body, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_FIXED, kf->fd, off + head);
	if (p == MAP_FAILED)
		return -1;	/* MAP_FIXED failing leaves the range as it was */
	vm->kmap[vm->nkmap].p = p;
	vm->kmap[vm->nkmap++].len = body;
	copy_range(kf, dst, off, head);
	copy_range(kf, dst + head + body, off + head + body, len - head - body);
	return 0;
}

void kernel_copy(struct vm *vm, struct kernel_file *kf, void *dst,
    uint64_t off, uint64_t len)
{
	uintptr_t a = (uintptr_t)dst & ~(uintptr_t)(PAGE - 1);

	if (kf->leased && map_range(vm, kf, dst, off, len) == 0)
		return;
	/* Committed by one madvise rather than one fault a page; an old
	 * kernel without MADV_POPULATE_WRITE just faults instead. */
	madvise((void *)a, (uintptr_t)dst + len - a, MADV_POPULATE_WRITE);
	copy_range(kf, dst, off, len);
}

void kernel_load_done(struct vm *vm, struct kernel_file *kf)
{
	munmap((void *)kf->map, kf->len);
	if (kf->leased && vm->nkmap) {
		vm->kernel_fd = kf->fd;	/* the lease lives as long as it */
		debugf("%s: %d segments mapped from the file, under a read lease",
		    vm->cfg->kernel, vm->nkmap);
		return;
	}
	vm->nkmap = 0;
	close(kf->fd);
}

void kernel_unshare(struct vm *vm)
{
	if (vm->kernel_fd < 0)
		return;
	/* A write fault makes the page the guest's own. Where madvise
	 * cannot, a write of what is there does; the guest runs meanwhile,
	 * and an atomic add of 0 cannot undo its stores. */
	for (int i = 0; i < vm->nkmap; i++) {
		struct kernel_map *k = &vm->kmap[i];

		if (madvise(k->p, k->len, MADV_POPULATE_WRITE) == 0)
			continue;
		for (uint64_t o = 0; o < k->len; o += PAGE)
			__atomic_fetch_add(k->p + o, 0, __ATOMIC_RELAXED);
	}
	if (fcntl(vm->kernel_fd, F_SETLEASE, F_UNLCK) < 0)
		warnf("%s: dropping the read lease:", vm->cfg->kernel);
	close(vm->kernel_fd);
	vm->kernel_fd = -1;
	vm->nkmap = 0;
	debugf("%s: the file is being changed: the guest has its own copy "
	    "of the kernel now", vm->cfg->kernel);
}
