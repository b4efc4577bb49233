/* cpu.c: vCPUs: CPUID (what KVM supports, its paravirt leaves included,
 * nested virtualization left out, with each CPU's APIC ID), MSRs, FPU,
 * local APIC wiring, the boot CPU's entry state (PVH 32-bit protected
 * mode, or 64-bit long mode set up here), the run loop that dispatches
 * exits, and the power-off watch. */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
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
	/* The power-off watch: KVM's stats fd (-1: none) and where in it
	 * the "blocking" and "halt_exits" values are. */
	int stats_fd;
	off_t st_off[2];
	/* A check the watch asks of this vCPU's own thread (the vCPU ioctls
	 * wait for KVM_RUN to return): the generation asked and answered,
	 * and the answer, written before check_done. */
	atomic_uint check_req, check_done;
	bool check_stopped;
	uint64_t check_rip;
};

static const char *const watch_stats[2] = { "blocking", "halt_exits" };
enum { ST_BLOCKING, ST_HALTS };

#define CPUID_MAX_ENTRIES 256
/* Nested virtualization stays hidden: a container has no use for it,
 * it is a large part of what KVM exposes to a hostile guest, and the
 * guest kernel's own KVM then skips its set-up (140 ms of each boot in
 * the test host). */
#define CPUID_1_ECX_VMX		(1u << 5)
#define CPUID_80000001_ECX_SVM	(1u << 2)
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
			e->ecx &= ~CPUID_1_ECX_VMX;
			break;
		case 0x80000001:
			e->ecx &= ~CPUID_80000001_ECX_SVM;
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
	/* struct kvm_msrs ends in a flexible array: the entries follow it
	 * in one buffer. */
	union {
		struct kvm_msrs h;
		char room[sizeof(struct kvm_msrs) + N * sizeof(struct kvm_msr_entry)];
	} m = { .h.nmsrs = N };
	int r;

	for (int i = 0; i < N; i++)
		m.h.entries[i] = (struct kvm_msr_entry){ .index = init[i].idx,
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
		c->stats_fd = kvm_stats_open(c->fd, watch_stats, 2, c->st_off);
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

/* The x86 reset state, cs:ip f000:fff0. */
#define RESET_CS_BASE	0xffff0000ULL
#define RESET_RIP	0xfff0

static void crash(struct vcpu *c, const char *what)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(c->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		warnf("cpu%d: guest %s", c->id, what);
	else if (r.rip == RESET_RIP && s.cs.base == RESET_CS_BASE)
		/* KVM on AMD reinitializes the VMCB at a shutdown: the
		 * registers are the reset state, not the guest's. */
		warnf("cpu%d: guest %s (where is unknown: KVM reset the "
		    "CPU's state)", c->id, what);
	else
		warnf("cpu%d: guest %s at rip 0x%llx", c->id, what,
		    (unsigned long long)r.rip);
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

/* This thread's run->immediate_exit: a kick that arrives outside
 * KVM_RUN makes the next KVM_RUN return at once (after completing a
 * pending I/O or MMIO read, so nothing is lost), as api.rst advises. */
static __thread volatile uint8_t *kick_exit;

static void on_kick(int sig)
{
	(void)sig;
	if (kick_exit)
		*kick_exit = 1;
}

#define RFLAGS_IF (1u << 9)

/* On the vCPU's thread, out of KVM_RUN: answers the watch's check, if one
 * is asked. A vCPU is stopped for good when it is halted with interrupts
 * off (only an NMI or INIT would wake it) or waits for a SIPI. */
static void answer_check(struct vcpu *c)
{
	unsigned req = atomic_load_explicit(&c->check_req, memory_order_acquire);
	struct kvm_mp_state mp;
	struct kvm_regs r;

	if (req == atomic_load_explicit(&c->check_done, memory_order_relaxed))
		return;
	c->check_stopped = false;
	if (ioctl(c->fd, KVM_GET_MP_STATE, &mp) == 0 &&
	    ioctl(c->fd, KVM_GET_REGS, &r) == 0) {
		c->check_rip = r.rip;
		c->check_stopped = (mp.mp_state == KVM_MP_STATE_HALTED &&
		    !(r.rflags & RFLAGS_IF)) ||
		    mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
		    mp.mp_state == KVM_MP_STATE_INIT_RECEIVED;
	}
	atomic_store_explicit(&c->check_done, req, memory_order_release);
}

/* Where the vCPU stopped, with CZ_DEBUG; always when the guest was
 * stopped by force (vm->report), so a hang says where it hung. */
static void cpu_report(struct vcpu *c)
{
	bool always = __atomic_load_n(&c->vm->report, __ATOMIC_ACQUIRE);
	struct kvm_mp_state mp = { 0 };
	struct kvm_regs r = { 0 };
	__attribute__((format(printf, 1, 2)))
	void (*say)(const char *, ...) = always ? warnf : debugf;

	ioctl(c->fd, KVM_GET_REGS, &r);
	ioctl(c->fd, KVM_GET_MP_STATE, &mp);
	say("cpu%d: stopped at rip 0x%llx, interrupts %s, %s; exits: io %lu, "
	    "mmio %lu, hlt %lu, intr %lu", c->id, (unsigned long long)r.rip,
	    r.rflags & RFLAGS_IF ? "on" : "off",
	    mp.mp_state == KVM_MP_STATE_HALTED ? "halted" : "running",
	    c->exits[KVM_EXIT_IO], c->exits[KVM_EXIT_MMIO],
	    c->exits[KVM_EXIT_HLT], c->exits[KVM_EXIT_INTR]);
	kvm_stats_show(c->stats_fd, c->id, always);
}

static void *cpu_thread(void *arg)
{
	struct vcpu *c = arg;
	sigset_t s;

	/* SIGUSR1 only interrupts KVM_RUN; everything else goes to main. */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	kick_exit = &c->run->immediate_exit;
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	while (!stopping(c->vm)) {
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				c->run->immediate_exit = 0;
				answer_check(c);
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
	cpu_report(c);
	return NULL;
}

/* The power-off watch. The cz kernel has no ACPI: its power-off is a
 * halt (machine_halt: every CPU in stop_this_cpu, hlt with interrupts
 * off, forever), which the in-kernel LAPIC keeps inside KVM. No x86 CPU
 * leaves that state without an NMI or INIT, which only a running CPU
 * could send; an idle guest halts with interrupts on (sti; hlt). So:
 * every WATCH_MS, read each vCPU's "blocking" (in KVM's halt) and
 * "halt_exits" from its stats fd, which costs no exit. When two looks in
 * a row find every vCPU blocking and no new halt, kick them all and have
 * each thread read its MP state and RFLAGS.IF. If all are stopped for
 * good, and still no vCPU halted anew (each was in the same halt from
 * the look to its check, so at the look all were stopped at once), the
 * guest has powered off. The same stillness is checked once: an idle
 * guest is kicked again only after it has woken and halted again. */
#define WATCH_MS	200
/* Without the stats (an older KVM), a check every WATCH_SLOW_MS;
 * power-off is two checks in a row finding every vCPU stopped at the
 * same rip. */
#define WATCH_SLOW_MS	1000
#define CHECK_WAIT_MS	1000	/* for every vCPU to answer */
#define CHECK_POLL_MS	2

static bool stop_seen(struct vm *vm, int ms)
{
	struct pollfd p = { vm->stop_efd, POLLIN, 0 };
	int r = poll(&p, 1, ms);

	/* Another error than EINTR: give up watching. */
	return r > 0 || (r < 0 && errno != EINTR);
}

/* 1: every vCPU is stopped for good; 0: not; 2: one did not answer in
 * time (its late answer is for an old generation, and ignored); -1: the
 * VM is stopping. */
static int check_all(struct vm *vm, unsigned gen)
{
	for (int i = 0; i < vm->ncpus; i++) {
		atomic_store_explicit(&vm->cpus[i]->check_req, gen,
		    memory_order_release);
		pthread_kill(vm->cpus[i]->thread, SIGUSR1);
	}
	for (int waited = 0; ; waited += CHECK_POLL_MS) {
		int i;

		for (i = 0; i < vm->ncpus; i++)
			if (atomic_load_explicit(&vm->cpus[i]->check_done,
			    memory_order_acquire) != gen)
				break;
		if (i == vm->ncpus)
			break;
		if (waited >= CHECK_WAIT_MS)
			return 2;
		if (stop_seen(vm, CHECK_POLL_MS))
			return -1;
	}
	for (int i = 0; i < vm->ncpus; i++)
		if (!vm->cpus[i]->check_stopped)
			return 0;
	return 1;
}

/* Reads every vCPU's halt count into halts; true when all are blocking. */
static bool look(struct vm *vm, uint64_t *halts)
{
	bool all = true;

	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = vm->cpus[i];
		uint64_t b;

		/* Halts first: a halt after the count shows up next time. */
		if (kvm_stats_get(c->stats_fd, c->st_off[ST_HALTS], &halts[i]) < 0 ||
		    kvm_stats_get(c->stats_fd, c->st_off[ST_BLOCKING], &b) < 0)
			return false;
		all = all && b;
	}
	return all;
}

static void *watch_thread(void *arg)
{
	struct vm *vm = arg;
	size_t n = vm->ncpus * sizeof(uint64_t);
	uint64_t halts[MAX_CPUS], prev[MAX_CPUS], checked[MAX_CPUS];
	uint64_t rips[MAX_CPUS];
	bool stats = true, was_still = false, have_checked = false;
	bool was_stopped = false;
	unsigned gen = 0;
	int r;

	for (int i = 0; i < vm->ncpus; i++)
		stats = stats && vm->cpus[i]->stats_fd >= 0 &&
		    vm->cpus[i]->st_off[ST_BLOCKING] >= 0 &&
		    vm->cpus[i]->st_off[ST_HALTS] >= 0;
	if (stats)
		debugf("power-off watch: KVM's blocking and halt_exits stats, "
		    "every %d ms", WATCH_MS);
	else
		debugf("power-off watch: no KVM blocking stat (an older KVM): "
		    "checking the vCPUs every %d ms", WATCH_SLOW_MS);
	while (!stop_seen(vm, stats ? WATCH_MS : WATCH_SLOW_MS)) {
		if (!stats) {
			bool same = was_stopped;

			if ((r = check_all(vm, ++gen)) < 0)
				break;
			was_stopped = r == 1;
			if (r != 1)
				continue;	/* the answers may be old */
			for (int i = 0; i < vm->ncpus; i++) {
				same = same && rips[i] == vm->cpus[i]->check_rip;
				rips[i] = vm->cpus[i]->check_rip;
			}
			if (same)
				goto off;
			continue;
		}
		bool still = look(vm, halts);
		bool same = still && was_still && !memcmp(halts, prev, n);

		was_still = still;
		memcpy(prev, halts, n);
		if (!same || (have_checked && !memcmp(halts, checked, n)))
			continue;
		if ((r = check_all(vm, ++gen)) < 0)
			break;
		if (r == 2)
			continue;	/* a busy host: ask again */
		look(vm, checked);
		have_checked = true;
		if (r == 1 && !memcmp(halts, checked, n))
			goto off;
	}
	debugf("power-off watch: %u checks", gen);
	return NULL;
off:
	debugf("power-off: every vCPU halted with interrupts off (%u checks)",
	    gen);
	vm_set_stop(vm, VM_STOP_POWEROFF, 0);
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
	if (pthread_create(&vm->watch, NULL, watch_thread, vm) == 0)
		vm->watch_started = true;
	else
		warnf("power-off watch: no thread: a guest power-off will "
		    "not end vmboot");
}

void cpu_stop_all(struct vm *vm)
{
	/* It ends on the stop, before the vCPUs it might kick. */
	if (vm->watch_started)
		pthread_join(vm->watch, NULL);
	vm->watch_started = false;
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
		if (c->stats_fd >= 0)
			close(c->stats_fd);
		close(c->fd);
		free(c);
		vm->cpus[i] = NULL;
	}
}
