/*
 * kvmloop: the smallest KVM program that proves a /dev/kvm is usable.
 * It creates a VM with one vCPU, puts it straight into 64-bit long mode
 * (identity-mapped page tables, a flat GDT, CR0/CR4/EFER), counts to N in
 * a loop and reports the count through an OUT to port 0x10, then halts.
 *
 * Usage: kvmloop [ITERATIONS]    (default 100000000)
 * Prints one line: iterations, seconds in KVM_RUN, seconds overall.
 * Exit: 0 the guest reported the right count, 1 it did not or KVM failed,
 * 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum {
	MEM_SIZE = 0x200000,	/* one 2 MiB page, identity mapped */
	GDT_ADDR = 0x0500,
	PML4_ADDR = 0x1000,
	PDPT_ADDR = 0x2000,
	PD_ADDR = 0x3000,
	CODE_ADDR = 0x8000,
	REPORT_PORT = 0x10,
};

/* Page table entry bits (Intel SDM vol. 3, 4.5). */
#define PTE_P	(1ULL << 0)
#define PTE_RW	(1ULL << 1)
#define PTE_PS	(1ULL << 7)

#define CR0_PE	(1ULL << 0)
#define CR0_MP	(1ULL << 1)
#define CR0_ET	(1ULL << 4)
#define CR0_NE	(1ULL << 5)
#define CR0_WP	(1ULL << 16)
#define CR0_PG	(1ULL << 31)
#define CR4_PAE	(1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

/*
 * rcx = N on entry. The REX.W prefixes matter: outside long mode 0x48 is
 * "dec eax", so a vCPU that is not in 64-bit mode reports 0, not N.
 */
static const uint8_t guest_code[] = {
	0x48, 0x31, 0xc0,		/* xor rax, rax */
	0x48, 0xff, 0xc0,		/* 1: inc rax */
	0x48, 0xff, 0xc9,		/* dec rcx */
	0x75, 0xf8,			/* jnz 1b */
	0x66, 0xba, REPORT_PORT, 0x00,	/* mov dx, REPORT_PORT */
	0xef,				/* out dx, eax */
	0xf4,				/* hlt */
};

static const char *prog = "kvmloop";

static void
die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A flat segment: base 0, limit 4 GiB, as long mode ignores both. */
static struct kvm_segment
flat_segment(uint16_t selector, uint8_t type, int code)
{
	struct kvm_segment s = {
		.base = 0, .limit = 0xffffffff, .selector = selector,
		.type = type, .present = 1, .dpl = 0, .s = 1, .g = 1,
		.l = code, .db = !code,
	};
	return s;
}

static void
setup_long_mode(uint8_t *mem, int vcpu)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT_ADDR);
	uint64_t *pml4 = (uint64_t *)(mem + PML4_ADDR);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_ADDR);
	uint64_t *pd = (uint64_t *)(mem + PD_ADDR);
	struct kvm_sregs sregs;

	/* null, 64-bit code (0x08), data (0x10): SDM vol. 3, 3.4.5 */
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	pml4[0] = PDPT_ADDR | PTE_P | PTE_RW;
	pdpt[0] = PD_ADDR | PTE_P | PTE_RW;
	pd[0] = 0 | PTE_P | PTE_RW | PTE_PS;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.gdt.base = GDT_ADDR;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cs = flat_segment(0x08, 0xb, 1);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss =
		flat_segment(0x10, 0x3, 0);
	sregs.cr3 = PML4_ADDR;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
}

int
main(int argc, char **argv)
{
	unsigned long long n = 100000000;
	struct kvm_userspace_memory_region region;
	struct kvm_regs regs;
	struct kvm_run *run;
	uint8_t *mem;
	uint32_t got = 0;
	int kvm, vm, vcpu, reported = 0;
	long runsz;
	double t0, t1, t2;
	char *end;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: %s [ITERATIONS]\n", prog);
		return 2;
	}
	if (argc == 2) {
		errno = 0;
		n = strtoull(argv[1], &end, 10);
		if (errno || *end || n == 0 || n > UINT32_MAX) {
			fprintf(stderr, "%s: %s: not a count in 1..%u\n",
			    prog, argv[1], UINT32_MAX);
			return 2;
		}
	}

	t0 = now();
	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		die("/dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		errno = ENOTSUP;
		die("KVM_GET_API_VERSION");
	}
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	memcpy(mem + CODE_ADDR, guest_code, sizeof guest_code);
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	if ((vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		die("KVM_CREATE_VCPU");
	if ((runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	setup_long_mode(mem, vcpu);
	memset(&regs, 0, sizeof regs);
	regs.rip = CODE_ADDR;
	regs.rsp = MEM_SIZE;
	regs.rflags = 0x2;	/* bit 1 is reserved and must be set */
	regs.rcx = n;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	t1 = now();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == REPORT_PORT && run->io.size == 4) {
			memcpy(&got, (uint8_t *)run + run->io.data_offset, 4);
			reported = 1;
			continue;
		}
		fprintf(stderr, "%s: unexpected exit reason %u\n", prog,
		    run->exit_reason);
		return 1;
	}
	t2 = now();

	if (!reported || got != n) {
		fprintf(stderr, "%s: guest reported %s%u, expected %llu "
		    "(not in long mode?)\n", prog, reported ? "" : "nothing: ",
		    got, n);
		return 1;
	}
	printf("kvmloop: %llu iterations in long mode in %.3f s (%.3f s "
	    "with VM setup)\n", n, t2 - t1, t2 - t0);
	return 0;
}
