/* kvm.c: the VM itself: /dev/kvm, guest memory, the in-kernel interrupt
 * controllers and PIT, irqfds and ioeventfds, and the speed probe. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
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

/* One shared memory file (memfd), mapped once: the host backs a page
 * only when the guest first touches it, and the guest's pages show in
 * the process's RssShmem, apart from vmboot's own memory. */
void kvm_create_memory(struct vm *vm, uint64_t size)
{
	uint64_t low = size < LOW_RAM_END ? size : LOW_RAM_END;
	int fd = memfd_create("vmboot-guest", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, size) < 0)
		die("guest memory of %llu MiB:", (unsigned long long)(size >> 20));
	vm->ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_NORESERVE, fd, 0);
	close(fd);
	if (vm->ram == MAP_FAILED)
		die("guest memory of %llu MiB:", (unsigned long long)(size >> 20));
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

/* The speed probe: a throwaway VM runs PROBE_LOOPS iterations of a loop
 * in long mode with paging, as an ordinary kernel runs, and we time the
 * same loop here. Real KVM runs it about as fast as the host does, also
 * when both are nested under QEMU's emulator and the machine is busy;
 * the software backend that runs only patched guests at speed is
 * hundreds of times slower. So the deadline scales with the host's own
 * speed: PROBE_SLACK times the host loop, plus PROBE_BASE_MS for the
 * first entry. It counts the time the probe's thread was running or
 * sleeping, not waiting for a CPU: with many VMs starting at once on few
 * CPUs, the wait alone passed the deadline (the slow backend sleeps, so
 * it is still caught). PROBE_WALL_MS bounds the whole probe. */
enum {
	PROBE_LOOPS = 1000000,
	PROBE_SLACK = 10,
	PROBE_BASE_MS = 100,
	PROBE_MAX_MS = 2000,
	PROBE_WALL_MS = 20000,
	PROBE_MEM = 0x200000,
	PROBE_PORT = 0x10,
};

static double host_loop_ms(void)
{
	double t = now_mono();
	long n = PROBE_LOOPS;

	__asm__ volatile("1: dec %0; jnz 1b" : "+r"(n));
	return (now_mono() - t) * 1e3;
}

/* The time this thread has waited runnable for a CPU, in ms (the second
 * field of schedstat); 0 where the kernel does not say. */
static double runqueue_wait_ms(void)
{
	char buf[96];
	unsigned long long run, wait;
	ssize_t n;
	int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return sscanf(buf, "%llu %llu", &run, &wait) == 2 ? wait / 1e6 : 0;
}

static const uint8_t probe_code[] = {
	0x48, 0xff, 0xc9,		/* 1: dec rcx */
	0x75, 0xfb,			/* jnz 1b */
	0x66, 0xba, PROBE_PORT, 0x00,	/* mov dx, PROBE_PORT */
	0xef,				/* out dx, eax */
	0xf4,				/* hlt */
};

static void on_alarm(int sig)
{
	(void)sig;
}

int kvm_probe_speed(struct vm *vm, char *why, size_t whylen)
{
	double host_ms = host_loop_ms();
	long ms = PROBE_BASE_MS + PROBE_SLACK * host_ms;
	struct itimerval deadline, off = { 0 };
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct kvm_userspace_memory_region r;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x8000, .rflags = 2, .rcx = PROBE_LOOPS };
	struct kvm_run *run = MAP_FAILED;
	uint8_t *mem = MAP_FAILED;
	int pvm = -1, cpu = -1, ret = -1;
	long runsz;
	double t, w0, waited = 0;

	if (ms > PROBE_MAX_MS)
		ms = PROBE_MAX_MS;
	deadline = (struct itimerval){ .it_value = { ms / 1000, ms % 1000 * 1000 } };
	snprintf(why, whylen, "probe could not run");
	pvm = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pvm < 0 || mem == MAP_FAILED)
		goto out;
	memcpy(mem + 0x8000, probe_code, sizeof probe_code);
	((uint64_t *)(mem + 0x500))[1] = 0x00af9b000000ffffULL;
	((uint64_t *)(mem + 0x500))[2] = 0x00cf93000000ffffULL;
	*(uint64_t *)(mem + 0x1000) = 0x2000 | 3;
	*(uint64_t *)(mem + 0x2000) = 0x3000 | 3;
	*(uint64_t *)(mem + 0x3000) = 0x83;
	r = (struct kvm_userspace_memory_region){ .memory_size = PROBE_MEM,
	    .userspace_addr = (uintptr_t)mem };
	runsz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ioctl(pvm, KVM_SET_USER_MEMORY_REGION, &r) < 0 || runsz <= 0 ||
	    (cpu = ioctl(pvm, KVM_CREATE_VCPU, 0)) < 0)
		goto out;
	run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED || ioctl(cpu, KVM_GET_SREGS, &sregs) < 0)
		goto out;
	sregs.gdt.base = 0x500;
	sregs.gdt.limit = 23;
	sregs.cs = (struct kvm_segment){ .limit = 0xffffffff, .selector = 8,
	    .type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1 };
	sregs.ds = sregs.es = sregs.ss = (struct kvm_segment){
	    .limit = 0xffffffff, .selector = 0x10, .type = 3, .present = 1,
	    .s = 1, .db = 1, .g = 1 };
	sregs.cr3 = 0x1000;
	sregs.cr4 = 1 << 5;
	sregs.cr0 = 0x80050033;
	sregs.efer = (1 << 8) | (1 << 10);
	if (ioctl(cpu, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(cpu, KVM_SET_REGS, &regs) < 0)
		goto out;
	if (sigaction(SIGALRM, &sa, &old) < 0)
		goto out;
	setitimer(ITIMER_REAL, &deadline, NULL);
	t = now_mono();
	w0 = runqueue_wait_ms();
	for (;;) {
		if (ioctl(cpu, KVM_RUN, 0) < 0) {
			double wall = (now_mono() - t) * 1e3;
			long left;

			if (errno != EINTR)
				break;
			/* The deadline passed: was it the guest's time? */
			waited = runqueue_wait_ms() - w0;
			left = (long)(ms - (wall - waited)) + 1;
			if (left > 0 && wall < PROBE_WALL_MS) {
				deadline.it_value = (struct timeval){
				    left / 1000, left % 1000 * 1000 };
				setitimer(ITIMER_REAL, &deadline, NULL);
				continue;
			}
			snprintf(why, whylen, "a loop of %d iterations "
			    "took over %ld ms in a guest (not counting %.0f ms "
			    "waiting for a CPU), %.1f ms here",
			    PROBE_LOOPS, ms, waited, host_ms);
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == PROBE_PORT)
			continue;
		if (run->exit_reason == KVM_EXIT_HLT) {
			ret = 0;
			waited = runqueue_wait_ms() - w0;
			debugf("kvm probe: %d loops in %.2f ms in a guest "
			    "(%.2f ms of it waiting for a CPU), %.2f ms here",
			    PROBE_LOOPS, (now_mono() - t) * 1e3, waited,
			    host_ms);
		} else {
			snprintf(why, whylen, "probe guest stopped with exit "
			    "reason %u", run->exit_reason);
		}
		break;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
out:
	if (run != MAP_FAILED)
		munmap(run, runsz);
	if (mem != MAP_FAILED)
		munmap(mem, PROBE_MEM);
	if (cpu >= 0)
		close(cpu);
	if (pvm >= 0)
		close(pvm);
	return ret;
}
