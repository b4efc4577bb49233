/*
 * kvmprobe: tell a /dev/kvm that runs ordinary guests at hardware speed
 * from one that does not (a software nested backend that runs only
 * specially patched guest kernels fast), and say which in a sentence.
 *
 * It runs a tiny 64-bit guest, as an ordinary kernel would run: long mode,
 * paging on, a loop of PROBE_LOOPS iterations (about 3 million
 * instructions). Hardware, or KVM nested inside QEMU's emulator, finishes
 * in milliseconds; the slow kind needs seconds, so the probe gives up at
 * PROBE_DEADLINE_MS, or at SLOW_FACTOR times the same loop run natively if
 * that is later: a busy machine slows both alike.
 *
 * Usage: kvmprobe
 * Exit: 0 fast, 1 slow (or the guest misbehaved), 2 no usable /dev/kvm
 * (or usage).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum {
	PROBE_LOOPS = 1000000,
	PROBE_DEADLINE_MS = 500,
	SLOW_FACTOR = 200,
	MEM_SIZE = 0x200000,	/* one 2 MiB page, identity mapped */
	GDT_ADDR = 0x0500,
	PML4_ADDR = 0x1000,
	PDPT_ADDR = 0x2000,
	PD_ADDR = 0x3000,
	CODE_ADDR = 0x8000,
	REPORT_PORT = 0x10,
};

enum { FAST = 0, SLOW = 1, NOKVM = 2 };

/* rcx = PROBE_LOOPS on entry; reports the count with OUT, then halts. */
static const uint8_t guest_code[] = {
	0x48, 0x31, 0xc0,		/* xor rax, rax */
	0x48, 0xff, 0xc0,		/* 1: inc rax */
	0x48, 0xff, 0xc9,		/* dec rcx */
	0x75, 0xf8,			/* jnz 1b */
	0x66, 0xba, REPORT_PORT, 0x00,	/* mov dx, REPORT_PORT */
	0xef,				/* out dx, eax */
	0xf4,				/* hlt */
};

static const char *prog = "kvmprobe";

static int
nokvm(const char *what)
{
	printf("%s: no usable /dev/kvm (%s: %s).\n", prog, what,
	    strerror(errno));
	return NOKVM;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Only here to make KVM_RUN return EINTR at the deadline. */
static void
on_alarm(int sig)
{
	(void)sig;
}

/* Long mode: flat GDT, identity-mapped 2 MiB page, PAE, PG, LME/LMA. */
static int
setup_long_mode(uint8_t *mem, int vcpu)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT_ADDR);
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = 0x08, .type = 0xb,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.limit = 0xffffffff, .selector = 0x10, .type = 0x3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_sregs sregs;

	gdt[1] = 0x00af9b000000ffffULL;	/* 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;	/* data */
	*(uint64_t *)(mem + PML4_ADDR) = PDPT_ADDR | 0x3;	/* P, RW */
	*(uint64_t *)(mem + PDPT_ADDR) = PD_ADDR | 0x3;
	*(uint64_t *)(mem + PD_ADDR) = 0x83;			/* P, RW, PS */

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.gdt.base = GDT_ADDR;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr3 = PML4_ADDR;
	sregs.cr4 = 1 << 5;			/* PAE */
	sregs.cr0 = 0x80050033;			/* PG WP NE ET MP PE */
	sregs.efer = (1 << 8) | (1 << 10);	/* LME LMA */
	return ioctl(vcpu, KVM_SET_SREGS, &sregs);
}

/* The guest's loop, run here: the yardstick for "fast". */
static double native_loop_ms(void)
{
	uint64_t n = PROBE_LOOPS;
	double t = now();

	__asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n));
	return (now() - t) * 1e3;
}

int
main(int argc, char **argv)
{
	struct kvm_userspace_memory_region region;
	struct kvm_regs regs = { .rip = CODE_ADDR, .rflags = 0x2,
	    .rcx = PROBE_LOOPS };
	double limit_ms = native_loop_ms() * SLOW_FACTOR;
	struct itimerval deadline = { 0 };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct kvm_run *run;
	uint8_t *mem;
	uint32_t got = 0;
	int kvm, vm, vcpu;
	long runsz;
	double t;

	if (argc > 1) {
		fprintf(stderr, "usage: %s\n", argv[0]);
		return 2;
	}
	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		return nokvm("open /dev/kvm");
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		return nokvm("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return nokvm("mmap guest memory");
	memcpy(mem + CODE_ADDR, guest_code, sizeof guest_code);
	region = (struct kvm_userspace_memory_region){ .memory_size = MEM_SIZE,
	    .userspace_addr = (uintptr_t)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return nokvm("KVM_SET_USER_MEMORY_REGION");
	if ((vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		return nokvm("KVM_CREATE_VCPU");
	if ((runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) < 0)
		return nokvm("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return nokvm("mmap kvm_run");
	if (setup_long_mode(mem, vcpu) < 0)
		return nokvm("KVM_SET_SREGS");
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return nokvm("KVM_SET_REGS");

	if (limit_ms < PROBE_DEADLINE_MS)
		limit_ms = PROBE_DEADLINE_MS;
	deadline.it_value.tv_sec = (time_t)(limit_ms / 1000);
	deadline.it_value.tv_usec = (suseconds_t)((limit_ms -
	    deadline.it_value.tv_sec * 1000.0) * 1000);
	if (sigaction(SIGALRM, &sa, NULL) < 0 ||
	    setitimer(ITIMER_REAL, &deadline, NULL) < 0)
		return nokvm("setitimer");
	t = now();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno != EINTR)
				return nokvm("KVM_RUN");
			printf("%s: /dev/kvm is slow for ordinary guests: %d "
			    "loop iterations not done after %.0f ms.\n", prog,
			    PROBE_LOOPS, limit_ms);
			return SLOW;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == REPORT_PORT && run->io.size == 4) {
			memcpy(&got, (uint8_t *)run + run->io.data_offset, 4);
			continue;
		}
		printf("%s: /dev/kvm misbehaves: unexpected exit reason %u.\n",
		    prog, run->exit_reason);
		return SLOW;
	}
	t = now() - t;
	if (got != PROBE_LOOPS) {
		printf("%s: /dev/kvm misbehaves: the guest counted %u of %d.\n",
		    prog, got, PROBE_LOOPS);
		return SLOW;
	}
	printf("%s: /dev/kvm runs ordinary guests fast: %d loop iterations in "
	    "%.1f ms.\n", prog, PROBE_LOOPS, t * 1e3);
	return FAST;
}
