/* kvm.c: the VM itself: /dev/kvm, guest memory, the in-kernel interrupt
 * controllers and PIT, irqfds and ioeventfds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"

/* Below this the VM's own bookkeeping pages (TSS, identity map) live. */
#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL

void kvm_open(struct vm *vm)
{
	int v;

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		die("/dev/kvm:");
	v = ioctl(vm->kvm, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		die("/dev/kvm: API version %d, want %d", v, KVM_API_VERSION);
	static const struct { int cap; const char *name; } need[] = {
		{ KVM_CAP_IRQCHIP, "IRQCHIP" },
		{ KVM_CAP_IRQFD, "IRQFD" },
		{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
		{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
		{ KVM_CAP_PIT2, "PIT2" },
		{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, need[i].cap) <= 0)
			die("/dev/kvm lacks KVM_CAP_%s", need[i].name);
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM:");
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		die("KVM_SET_TSS_ADDR:");
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		die("KVM_SET_IDENTITY_MAP_ADDR:");
}

static void add_slot(struct vm *vm, int slot, uint64_t gpa, uint64_t size,
    uint8_t *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION:");
	vm->mem.r[vm->mem.nr++] = (struct gmem_region){ gpa, size, hva };
}

#define HUGE_PAGE (2ULL << 20)

/* Private anonymous memory, mapped once: the host backs a page only
 * when the guest first touches it. Anonymous rather than a memfd: the
 * first touch of a page is a fault in the host's kernel for each page
 * the guest uses, and an anonymous fault is the host's cheapest kind.
 * Asked for transparent huge pages, as QEMU asks for its guest RAM:
 * where the host allows them, a guest's first touch of 2 MiB is one
 * fault and one nested-paging entry instead of 512 (test host: a third
 * fewer exits to boot, ~20% less time to userspace), for memory counted
 * in 2 MiB steps. The host's setting decides (transparent_hugepage/enabled:
 * "never" turns it off for every VM). */
void kvm_create_memory(struct vm *vm, uint64_t size)
{
	uint64_t low = size < LOW_RAM_END ? size : LOW_RAM_END;
	uint8_t *p, *ram;
	uintptr_t skip;

	/* Guest physical 0 on a 2 MiB boundary, or no 2 MiB of the guest
	 * lines up with a huge page: map 2 MiB more and trim (mmap aligns
	 * anonymous mappings itself only since Linux 6.7). */
	p = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		die("guest memory of %llu MiB:", (unsigned long long)(size >> 20));
	skip = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
	ram = p + skip;
	if (skip)
		munmap(p, skip);
	munmap(ram + size, HUGE_PAGE - skip);
	/* No child ever gets a copy of the guest's memory; and the mapping
	 * stays apart from malloc's in /proc/PID/smaps. */
	(void)madvise(ram, size, MADV_DONTFORK);
	(void)madvise(ram, size, MADV_HUGEPAGE);
	vm->ram = ram;
	vm->ram_size = size;
	add_slot(vm, 0, 0, low, vm->ram);
	if (size > low)
		add_slot(vm, 1, HIGH_RAM_START, size - low, vm->ram + low);
}

void kvm_create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP:");
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		die("KVM_CREATE_PIT2:");
}

void kvm_irq_line(struct vm *vm, int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
		warnf("KVM_IRQ_LINE %d:", irq);
}

int kvm_irqfd(struct vm *vm, int irq, int efd)
{
	struct kvm_irqfd f = { .fd = efd, .gsi = irq };

	if (ioctl(vm->fd, KVM_IRQFD, &f) < 0) {
		warnf("KVM_IRQFD %d:", irq);
		return -1;
	}
	return 0;
}

int kvm_ioeventfd(struct vm *vm, uint64_t gpa, uint32_t datamatch, int efd)
{
	struct kvm_ioeventfd e = {
		.datamatch = datamatch, .addr = gpa, .len = 4, .fd = efd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	if (ioctl(vm->fd, KVM_IOEVENTFD, &e) < 0) {
		warnf("KVM_IOEVENTFD at 0x%llx:", (unsigned long long)gpa);
		return -1;
	}
	return 0;
}
