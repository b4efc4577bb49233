/* cpu.c: vCPUs: CPUID (what KVM supports, its paravirt leaves included,
 * with each CPU's APIC ID), MSRs, FPU, local APIC wiring, the boot CPU's
 * entry state (PVH 32-bit protected mode, or 64-bit long mode set up
 * here), and the run loop that dispatches exits. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"
#include "xalloc.h"

#define KVM_EXIT_MAX_KNOWN 64
struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	long run_size;
	pthread_t thread;
	bool started;
	unsigned long exits[KVM_EXIT_MAX_KNOWN];	/* for CZ_DEBUG */
};

#define CPUID_MAX_ENTRIES 256
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_NMI		4
#define APIC_MODE_EXTINT	7

static struct kvm_cpuid2 *supported_cpuid(struct vm *vm)
{
	struct kvm_cpuid2 *c = xcalloc(1, sizeof *c +
	    CPUID_MAX_ENTRIES * sizeof c->entries[0]);

	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
		die("KVM_GET_SUPPORTED_CPUID:");
	return c;
}

static void setup_cpuid(struct vcpu *cpu, const struct kvm_cpuid2 *sup)
{
	size_t sz = sizeof *sup + sup->nent * sizeof sup->entries[0];
	struct kvm_cpuid2 *c = xmalloc(sz);

	memcpy(c, sup, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* APIC ID, logical CPU count, CLFLUSH size 64. */
			e->ebx = (uint32_t)cpu->id << 24 |
			    (uint32_t)cpu->vm->ncpus << 16 | 8 << 8;
			e->ecx |= 1u << 31;	/* running under a hypervisor */
			/* KVM emulates the TSC-deadline LAPIC timer but leaves
			 * announcing it to us; without it the kernel calibrates
			 * the LAPIC timer, which fails under load and falls
			 * back to the PIT. */
			if (cpu->vm->tsc_deadline)
				e->ecx |= 1u << 24;
			if (cpu->vm->ncpus > 1)
				e->edx |= 1u << 28;	/* HTT */
			break;
		case 0xb:
		case 0x1f:
			e->edx = cpu->id;	/* x2APIC ID */
			break;
		}
	}
	if (ioctl(cpu->fd, KVM_SET_CPUID2, c) < 0)
		die("KVM_SET_CPUID2:");
	free(c);
}

static void setup_msrs(struct vcpu *cpu)
{
	static const struct { uint32_t idx; uint64_t val; } init[] = {
		{ 0x174, 0 }, { 0x175, 0 }, { 0x176, 0 },	/* SYSENTER */
		{ 0xc0000081, 0 }, { 0xc0000082, 0 },		/* STAR, LSTAR */
		{ 0xc0000083, 0 }, { 0xc0000084, 0 },		/* CSTAR, FMASK */
		{ 0xc0000102, 0 },				/* KERNEL_GS_BASE */
		{ MSR_IA32_MISC_ENABLE, 1 },			/* fast strings */
		{ MSR_MTRR_DEF_TYPE, 1 << 11 | 6 },		/* MTRRs on, WB */
	};
	enum { N = sizeof init / sizeof init[0] };
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[N];
	} m = { .h.nmsrs = N };
	int r;

	for (int i = 0; i < N; i++)
		m.e[i] = (struct kvm_msr_entry){ .index = init[i].idx,
		    .data = init[i].val };
	r = ioctl(cpu->fd, KVM_SET_MSRS, &m);
	if (r < 0)
		die("KVM_SET_MSRS:");
	if (r != N)
		debugf("cpu%d: KVM took %d of %d MSRs", cpu->id, r, N);
}

static void setup_fpu_lapic(struct vcpu *cpu)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_lapic_state ls;
	uint32_t v;

	if (ioctl(cpu->fd, KVM_SET_FPU, &fpu) < 0)
		die("KVM_SET_FPU:");
	/* LINT0 takes the PIC's ExtINT, LINT1 the NMI, as firmware would. */
	if (ioctl(cpu->fd, KVM_GET_LAPIC, &ls) < 0)
		die("KVM_GET_LAPIC:");
	memcpy(&v, &ls.regs[APIC_LVT0], 4);
	v = (v & ~0x700u) | APIC_MODE_EXTINT << 8;
	memcpy(&ls.regs[APIC_LVT0], &v, 4);
	memcpy(&v, &ls.regs[APIC_LVT1], 4);
	v = (v & ~0x700u) | APIC_MODE_NMI << 8;
	memcpy(&ls.regs[APIC_LVT1], &v, 4);
	if (ioctl(cpu->fd, KVM_SET_LAPIC, &ls) < 0)
		die("KVM_SET_LAPIC:");
}

static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, bool l)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !l, .s = 1, .l = l, .g = 1,
	};
}

/* The boot CPU's registers: PVH (xen/include/public/arch-x86/
 * hvm/start_info.h: 32-bit flat protected mode, paging off, ebx = start
 * info) or the 64-bit boot protocol (Documentation/x86/boot.rst: long
 * mode, identity-mapped, rsi = boot_params, __BOOT_CS 0x10, __BOOT_DS
 * 0x18). */
static void setup_boot_regs(struct vcpu *cpu, const struct boot_regs *br)
{
	struct vm *vm = cpu->vm;
	uint64_t *gdt = gmem_ptr(&vm->mem, BOOT_GDT_ADDR, 5 * 8);
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 2, .rip = br->entry };
	bool lm = !br->pvh;

	if (!gdt)
		die("guest memory too small for the GDT");
	gdt[0] = gdt[1] = 0;
	gdt[2] = lm ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL;
	gdt[3] = 0x00cf93000000ffffULL;
	gdt[4] = 0x00008b0000000067ULL;	/* TSS, busy, so VMX entry is legal */
	if (ioctl(cpu->fd, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS:");
	s.gdt.base = BOOT_GDT_ADDR;
	s.gdt.limit = 5 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cs = flat_seg(0x10, 0xb, lm);
	s.ds = s.es = s.fs = s.gs = s.ss = flat_seg(0x18, 0x3, false);
	s.tr = (struct kvm_segment){ .selector = 0x20, .limit = 0x67,
	    .type = 0xb, .present = 1 };
	s.ldt = (struct kvm_segment){ .type = 2, .present = 1 };
	if (lm) {
		/* PML4 -> PDPT -> 4 page directories of 2 MiB pages: the
		 * first 4 GiB identity-mapped. */
		uint64_t *pml4 = gmem_ptr(&vm->mem, BOOT_PML4_ADDR, 6 * 4096);

		if (!pml4)
			die("guest memory too small for page tables");
		uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;
		memset(pml4, 0, 6 * 4096);
		pml4[0] = (BOOT_PML4_ADDR + 0x1000) | 3;
		for (int i = 0; i < 4; i++)
			pdpt[i] = (BOOT_PML4_ADDR + 0x2000 + i * 0x1000) | 3;
		for (int i = 0; i < 4 * 512; i++)
			pd[i] = (uint64_t)i << 21 | 0x83;
		s.cr3 = BOOT_PML4_ADDR;
		s.cr4 = 1 << 5;			/* PAE */
		s.cr0 = 0x80050033;		/* PG WP AM NE ET MP PE */
		s.efer = 1 << 8 | 1 << 10;	/* LME LMA */
		r.rsi = br->arg;
	} else {
		s.cr0 = 0x11;			/* ET PE */
		s.cr4 = 0;
		s.efer = 0;
		r.rbx = br->arg;
	}
	if (ioctl(cpu->fd, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS:");
	if (ioctl(cpu->fd, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS:");
}

void cpu_create_all(struct vm *vm, const struct boot_regs *br)
{
	struct kvm_cpuid2 *sup = supported_cpuid(vm);

	vm->tsc_deadline = ioctl(vm->kvm, KVM_CHECK_EXTENSION,
	    KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	long runsz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (runsz <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE:");
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = xcalloc(1, sizeof *c);

		c->vm = vm;
		c->id = i;
		c->fd = ioctl(vm->fd, KVM_CREATE_VCPU, i);
		if (c->fd < 0)
			die("KVM_CREATE_VCPU %d:", i);
		c->run_size = runsz;
		c->run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED,
		    c->fd, 0);
		if (c->run == MAP_FAILED)
			die("mmap vcpu %d:", i);
		setup_cpuid(c, sup);
		setup_msrs(c);
		setup_fpu_lapic(c);
		/* The others wait for the boot CPU's INIT and SIPI. */
		if (i == 0)
			setup_boot_regs(c, br);
		vm->cpus[i] = c;
	}
	free(sup);
}

static bool stopping(struct vm *vm)
{
	bool s;

	pthread_mutex_lock(&vm->stop_lock);
	s = vm->stop != VM_RUNNING;
	pthread_mutex_unlock(&vm->stop_lock);
	return s;
}

static void crash(struct vcpu *c, const char *what)
{
	struct kvm_regs r;

	if (ioctl(c->fd, KVM_GET_REGS, &r) == 0)
		warnf("cpu%d: guest %s at rip 0x%llx", c->id, what,
		    (unsigned long long)r.rip);
	else
		warnf("cpu%d: guest %s", c->id, what);
	vm_set_stop(c->vm, VM_STOP_CRASH, 0);
}

static void handle_io(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	bool w = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size)
		pio_access(run->io.port, p, run->io.size, w);
}

/* Returns false when the loop must end. */
static bool handle_exit(struct vcpu *c)
{
	struct kvm_run *run = c->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(c);
		return true;
	case KVM_EXIT_MMIO:
		mmio_access(run->mmio.phys_addr, run->mmio.data, run->mmio.len,
		    run->mmio.is_write);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		crash(c, "triple fault (shutdown)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_CRASH)
			crash(c, "crash event");
		else
			vm_set_stop(c->vm, VM_STOP_RESET, 0);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		warnf("cpu%d: KVM entry failed, reason 0x%llx", c->id,
		    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vm_set_stop(c->vm, VM_STOP_CRASH, 0);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		crash(c, "KVM internal error");
		warnf("cpu%d: internal error suberror %u", c->id,
		    run->internal.suberror);
		return false;
	}
	warnf("cpu%d: unexpected exit reason %u", c->id, run->exit_reason);
	vm_set_stop(c->vm, VM_STOP_CRASH, 0);
	return false;
}

static void on_kick(int sig)
{
	(void)sig;
}

static void *cpu_thread(void *arg)
{
	struct vcpu *c = arg;
	sigset_t s;

	/* SIGUSR1 only interrupts KVM_RUN; everything else goes to main. */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	while (!stopping(c->vm)) {
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				c->run->immediate_exit = 0;
				continue;
			}
			warnf("cpu%d: KVM_RUN:", c->id);
			vm_set_stop(c->vm, VM_STOP_CRASH, 0);
			break;
		}
		if (c->run->exit_reason < KVM_EXIT_MAX_KNOWN)
			c->exits[c->run->exit_reason]++;
		if (!handle_exit(c))
			break;
	}
	{
		struct kvm_regs r = { 0 };

		ioctl(c->fd, KVM_GET_REGS, &r);
		debugf("cpu%d: stopped at rip 0x%llx; exits: io %lu, mmio %lu, "
		    "hlt %lu, intr %lu", c->id, (unsigned long long)r.rip,
		    c->exits[KVM_EXIT_IO], c->exits[KVM_EXIT_MMIO],
		    c->exits[KVM_EXIT_HLT], c->exits[KVM_EXIT_INTR]);
		kvm_stats_debug(c->fd, c->id);
	}
	return NULL;
}

void cpu_start_all(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_kick };

	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < vm->ncpus; i++) {
		int e = pthread_create(&vm->cpus[i]->thread, NULL, cpu_thread,
		    vm->cpus[i]);

		if (e) {
			errno = e;
			die("vcpu thread:");
		}
		vm->cpus[i]->started = true;
	}
}

void cpu_stop_all(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = vm->cpus[i];

		if (!c || !c->started)
			continue;
		/* Kick until it is out of KVM_RUN: immediate_exit covers the
		 * window before the ioctl, the signal the time inside. */
		c->run->immediate_exit = 1;
		while (pthread_tryjoin_np(c->thread, NULL) == EBUSY) {
			pthread_kill(c->thread, SIGUSR1);
			usleep(1000);
		}
		c->started = false;
	}
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = vm->cpus[i];

		if (!c)
			continue;
		munmap(c->run, c->run_size);
		close(c->fd);
		free(c);
		vm->cpus[i] = NULL;
	}
}
