/* probe.c: does this /dev/kvm run an ordinary guest at speed? Some
 * KVMs (a software backend for specially patched guests) run one
 * hundreds of times slower, and a boot would seem to hang. The probe runs
 * on a thread of its own while the kernel loads and the guest boots: on
 * a fast KVM it costs the boot nothing (in the test host it takes 40-70
 * ms, mostly making its VM), and on a slow one it stops the guest, which
 * cannot have got far by then. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"

/* glibc before 2.41 names the field only in its union. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

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

/* Arms (or, with ms 0, disarms) the deadline timer. */
static void deadline_set(timer_t t, long ms)
{
	struct itimerspec its = { .it_value = { ms / 1000, ms % 1000 * 1000000 } };

	timer_settime(t, 0, &its, NULL);
}

static int probe_run(int kvm, timer_t timer, char *why, size_t whylen)
{
	double host_ms = host_loop_ms();
	long ms = PROBE_BASE_MS + PROBE_SLACK * host_ms;
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
	pvm = ioctl(kvm, KVM_CREATE_VM, 0);
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
	runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
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
	deadline_set(timer, ms);
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
				deadline_set(timer, left);
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
	deadline_set(timer, 0);
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

/* The probe's thread: the deadline's SIGALRM is aimed at it alone, so
 * that it interrupts this thread's KVM_RUN while the other threads load
 * and run the guest. */
static void *probe_main(void *arg)
{
	struct kvm_probe *p = arg;
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID,
	    .sigev_signo = SIGALRM };
	sigset_t alrm;
	timer_t t;

	snprintf(p->why, sizeof p->why, "probe could not run");
	p->ret = -1;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	ev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) == 0) {
		pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
		p->ret = probe_run(p->vm->kvm, t, p->why, sizeof p->why);
		timer_delete(t);
	}
	if (p->ret < 0)
		vm_set_stop(p->vm, VM_STOP_SLOW_KVM, EXIT_SLOW_KVM);
	return NULL;
}

void kvm_probe_start(struct kvm_probe *p, struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	p->vm = vm;
	/* A handler, so that the signal interrupts KVM_RUN and no more. */
	sigaction(SIGALRM, &sa, NULL);
	errno = pthread_create(&p->thread, NULL, probe_main, p);
	if (errno)
		die("probe thread:");
}

int kvm_probe_wait(struct kvm_probe *p)
{
	pthread_join(p->thread, NULL);
	return p->ret;
}
