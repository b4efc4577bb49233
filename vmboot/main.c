/* vmboot: boot a Linux kernel in a KVM virtual machine with virtio
 * devices. The data path, in order: options, /dev/kvm and its speed,
 * guest memory, the kernel and initramfs into it, the devices (each
 * registers itself), the vCPUs; then wait for the guest to stop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "netbridge.h"
#include "virtio.h"
#include "vmboot.h"
#include "xalloc.h"

#define DEFAULT_MEM	(256ULL << 20)
#define MIN_MEM		(64ULL << 20)
#define MAX_MEM		(1ULL << 40)
#define KERNEL_MAX	(512u << 20)
#define INITRD_MAX	(1u << 30)
/* How long a guest asked to stop may take before it is stopped. */
#define STOP_TIMEOUT_MS	5000
/* Always on the command line: reboot through the keyboard controller
 * (which ends vmboot), reboot at once on panic and then as a "warm" one
 * (the kernel writes 0x1234 to the BIOS reset flag at 0x472, so vmboot
 * tells a panic from a reboot; see sysports.c), one UART, quiet, no
 * test of the timer interrupt (KVM's in-kernel PIT and IOAPIC work), and
 * noreplace-smp: with one vCPU the kernel would otherwise rewrite each
 * of its LOCK prefixes (4,096 in the cz kernel) through text_poke, a
 * write to nearly every page of its text, which then stops being shared
 * with the page cache (kernelmap.c); in the test host that was 30% of
 * the time to userspace. A guest with more vCPUs never does it. */
#define DEFAULT_CMDLINE "reboot=k,cold,panic_warm panic=-1 8250.nr_uarts=1 no_timer_check noreplace-smp quiet"

static const char usage_text[] =
"usage: vmboot -k KERNEL [-m MEM] [-c CPUS] [--initrd FILE] [--init PROGRAM]\n"
"              [--cmdline ARGS] [-d FILE[,ro]]... [--vsock SOCKET]\n"
"              [--net tap=NAME|bridge=BR[,...]] [--add-host NAME:ADDR]...\n"
"              [--console stdio|FILE|none]\n"
"              [--boot-time] [--no-probe] [-v]\n"
"       vmboot -k KERNEL -d ROOTFS [...] --spec CONFIG.JSON [-e K=V]...\n"
"              [-w DIR] [-u USER] [-t] [-i] [--timeout SECS] [--arch ARCH]\n"
"              [-- ARGS...]\n";

_Noreturn void usage(const char *fmt, ...)
{
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vwarnf(fmt, ap);
		va_end(ap);
	}
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		usage("bad size: %s", s);
	switch (*end) {
	case 'G': case 'g': v <<= 30; end++; break;
	case 'M': case 'm': case 0: v <<= 20; if (*end) end++; break;
	case 'K': case 'k': v <<= 10; end++; break;
	}
	if (*end == 'i' && end[-1] != 0)
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		usage("bad size: %s", s);
	return v;
}

enum { OPT_CMDLINE = 256, OPT_INITRD, OPT_INIT, OPT_VSOCK, OPT_NET,
	OPT_CONSOLE, OPT_BOOT_TIME, OPT_NO_PROBE, OPT_VERSION, OPT_SPEC,
	OPT_TIMEOUT, OPT_ARCH, OPT_ADD_HOST };

static void parse_args(int argc, char **argv, struct vm_config *cfg)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "disk", required_argument, NULL, 'd' },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "init", required_argument, NULL, OPT_INIT },
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "add-host", required_argument, NULL, OPT_ADD_HOST },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "boot-time", no_argument, NULL, OPT_BOOT_TIME },
		{ "no-probe", no_argument, NULL, OPT_NO_PROBE },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "tty", no_argument, NULL, 't' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	int c;
	char *end;

	*cfg = (struct vm_config){ .mem = DEFAULT_MEM, .cpus = 1,
	    .console = "stdio", .probe = true };
	/* "+": the container's ARGS are not ours, even without "--". */
	while ((c = getopt_long(argc, argv, "+k:m:c:d:e:w:u:tivh", opts,
	    NULL)) != -1) {
		switch (c) {
		case 'k': cfg->kernel = optarg; break;
		case 'm': cfg->mem = parse_size(optarg); break;
		case 'c':
			errno = 0;
			cfg->cpus = strtol(optarg, &end, 10);
			if (errno || *end || cfg->cpus < 1 || cfg->cpus > MAX_CPUS)
				usage("-c: want 1 to %d CPUs", MAX_CPUS);
			break;
		case 'd': {
			struct disk_opt *d;
			char *comma;

			if (cfg->ndisks == MAX_DISKS)
				usage("at most %d disks", MAX_DISKS);
			d = &cfg->disks[cfg->ndisks++];
			d->path = xstrdup(optarg);
			comma = strrchr(d->path, ',');
			if (comma && !strcmp(comma, ",ro")) {
				*comma = 0;
				d->ro = true;
			} else if (comma && !strcmp(comma, ",rw")) {
				*comma = 0;
			}
			break;
		}
		case OPT_CMDLINE: cfg->cmdline = optarg; break;
		case OPT_INITRD: cfg->initrd = optarg; break;
		case OPT_INIT: cfg->init = optarg; break;
		case OPT_VSOCK: cfg->vsock = optarg; break;
		case OPT_NET:
			if (!strncmp(optarg, "bridge=", 7)) {
				/* netbridge.c: a tap of its own on a bridge */
				if (!(cfg->tap = netbridge_option(optarg + 7)))
					usage(NULL);
				break;
			}
			if (strncmp(optarg, "tap=", 4) || !optarg[4])
				usage("--net: want tap=NAME");
			cfg->tap = optarg + 4;
			break;
		case OPT_ADD_HOST:
			if (netbridge_add_host(optarg) < 0)
				usage(NULL);
			break;
		case OPT_CONSOLE:
			cfg->console = optarg;
			cfg->console_set = true;
			break;
		case OPT_BOOT_TIME: cfg->boot_time = true; break;
		case OPT_NO_PROBE: cfg->probe = false; break;
		case OPT_SPEC: cfg->spec = optarg; break;
		case 'e':
			if (!strchr(optarg, '='))
				usage("-e %s: want K=V", optarg);
			cfg->env = xrealloc(cfg->env, (cfg->nenv + 1) *
			    sizeof *cfg->env);
			cfg->env[cfg->nenv++] = optarg;
			break;
		case 'w': cfg->workdir = optarg; break;
		case 'u': cfg->user = optarg; break;
		case 't': cfg->tty = true; break;
		case 'i': cfg->interactive = true; break;
		case OPT_TIMEOUT: {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-' ||
			    v == 0 || v > 86400 * 365)
				usage("--timeout: want whole seconds");
			cfg->timeout = (unsigned)v;
			break;
		}
		case OPT_ARCH: {
			const struct guest_arch *ga;

			if (arch_lookup(optarg, &ga) < 0)
				usage("--arch %s: want amd64 or arm64", optarg);
			cfg->arch = optarg;
			break;
		}
		case 'v':
			cfg->verbose = true;
			setenv("CZ_DEBUG", "1", 1);
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case OPT_VERSION:
			printf("vmboot %s\n", VMBOOT_VERSION);
			exit(0);
		default:
			usage(NULL);
		}
	}
	if (optind < argc && !cfg->spec)
		usage("unexpected argument: %s (ARGS go with --spec)",
		    argv[optind]);
	cfg->args = argv + optind;
	cfg->nargs = argc - optind;
	if (!cfg->spec && (cfg->nenv || cfg->workdir || cfg->user || cfg->tty ||
	    cfg->interactive || cfg->timeout || cfg->arch))
		usage("-e, -w, -u, -t, -i, --timeout and --arch go with --spec");
	if (netbridge_options_done(cfg->spec != NULL) < 0)
		usage(NULL);
	if (!cfg->kernel)
		usage("no kernel (-k)");
	if (cfg->mem < MIN_MEM || cfg->mem > MAX_MEM || (cfg->mem & 0xfffff))
		usage("-m: want whole MiB from %llu MiB", MIN_MEM >> 20);
}

static int open_console(const char *c)
{
	int fd;

	if (!strcmp(c, "stdio"))
		return STDOUT_FILENO;
	if (!strcmp(c, "none"))
		return -1;
	fd = open(c, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("%s:", c);
	return fd;
}

/* The kernel file: mapped for the headers; loading reads only its
 * segments, straight into guest memory. */
static void open_kernel(const char *path, struct kernel_file *kf)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s:", path);
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size > KERNEL_MAX)
		die("%s: not a kernel (a regular file up to %u MiB)", path,
		    KERNEL_MAX >> 20);
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("%s:", path);
	*kf = (struct kernel_file){ .fd = fd, .map = p, .len = st.st_size };
}

/* Loads the kernel, then the initramfs: --initrd, followed by the
 * --init archive (the kernel unpacks concatenated archives in order). */
static void load_boot(struct vm *vm, struct kernel_file *kf,
    struct boot_regs *br)
{
	const struct vm_config *cfg = vm->cfg;
	struct boot_image bi = { 0 };
	uint8_t *initrd = NULL;
	size_t ilen = 0;

	kernel_lease(vm, kf);
	if (!boot_pvh_load(vm, kf, br) && !boot_bzimage_load(vm, kf, br))
		die("%s: neither an ELF vmlinux nor a bzImage", cfg->kernel);
	kernel_load_done(vm, kf);
	if (cfg->initrd) {
		char *f;

		if (read_file(cfg->initrd, INITRD_MAX, &f, &ilen) < 0)
			die("%s:", cfg->initrd);
		initrd = (uint8_t *)f;
		/* Each archive starts 4-aligned. */
		ilen = (ilen + 3) & ~(size_t)3;
	}
	if (cfg->init) {
		size_t alen;
		uint8_t *a = cpio_init_archive(cfg->init, cfg->interp,
		    cfg->interp_at, &alen);

		if (!initrd) {
			/* No copy: it may hold a 13 MB interpreter. */
			initrd = a;
			ilen = alen;
		} else {
			initrd = xrealloc(initrd, ilen + alen);
			memset(initrd + (ilen & ~(size_t)3), 0, ilen & 3);
			memcpy(initrd + ilen, a, alen);
			ilen += alen;
			free(a);
		}
	}
	if (initrd)
		initrd_place(vm, initrd, ilen, br->pvh ? 0xffffffffULL :
		    boot_bzimage_initrd_max(vm), &bi);
	free(initrd);
	mptable_write(vm);
	if (br->pvh)
		boot_pvh_finish(vm, &bi, br);
	else
		boot_bzimage_finish(vm, &bi, br);
}

/* Waits for the guest to stop or a signal; returns vmboot's status.
 * With --spec, signals go to the container's process once it exists,
 * and --timeout kills it. */
static int wait_guest(struct vm *vm, int sigfd)
{
	struct pollfd p[2] = { { vm->stop_efd, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
	int timeout = -1, signo = 0, stopping = 0;
	double deadline = vm->cfg->timeout ? vm->t_start + vm->cfg->timeout : 0;

	for (;;) {
		struct signalfd_siginfo si;
		int n, wait_ms = timeout;

		if (deadline && !stopping) {
			double left = deadline - now_mono();

			wait_ms = left > 0 ? (int)(left * 1e3) + 1 : 0;
		}
		n = poll(p, 2, wait_ms);
		if (n < 0 && errno != EINTR)
			die("poll:");
		if (n == 0 && deadline && !stopping) {
			/* --timeout: kill the process; the guest then shuts
			 * down as after any exit, or is stopped. */
			stopping = 1;
			timeout = STOP_TIMEOUT_MS;
			if (ctr_timeout(vm) < 0)
				vm_set_stop(vm, VM_STOP_SIGNAL, EXIT_CTR_TIMEOUT);
		} else if (n == 0) {
			warnf("guest did not stop within %d ms%s; stopping it",
			    STOP_TIMEOUT_MS, signo ? " of a signal" : "");
			/* What a bug report needs: the devices now, the
			 * vCPUs as they stop. */
			virtio_report();
			__atomic_store_n(&vm->report, true, __ATOMIC_RELEASE);
			vm_set_stop(vm, VM_STOP_SIGNAL, signo ? 128 + signo :
			    EXIT_CTR_TIMEOUT);
		}
		if (n > 0 && (p[1].revents & POLLIN) &&
		    read(sigfd, &si, sizeof si) == sizeof si) {
			int sig = (int)si.ssi_signo;

			if (sig == SIGIO)
				kernel_unshare(vm);
			else if (vm->ctr && ctr_forward_signal(vm, sig) == 0)
				;	/* the process decides */
			else if (sig == SIGWINCH)
				;
			else if (signo || !vm->ask_stop) {
				vm_set_stop(vm, VM_STOP_SIGNAL, 128 + sig);
			} else {
				signo = sig;
				vm->ask_stop(vm);
				timeout = STOP_TIMEOUT_MS;
			}
		}
		pthread_mutex_lock(&vm->stop_lock);
		enum vm_stop why = vm->stop;
		int st = vm->status;
		pthread_mutex_unlock(&vm->stop_lock);
		if (why != VM_RUNNING && vm->ctr)
			return ctr_stop_status(vm, why, st);
		switch (why) {
		case VM_RUNNING: continue;
		case VM_STOP_RESET: return EXIT_GUEST_OK;
		case VM_STOP_POWEROFF: return EXIT_GUEST_OK;
		case VM_STOP_PANIC:
			warnf("the guest kernel panicked");
			return EXIT_GUEST_CRASH;
		case VM_STOP_STATUS: return st;
		case VM_STOP_SIGNAL: return st;
		case VM_STOP_SLOW_KVM: return st;
		case VM_STOP_CRASH: return EXIT_GUEST_CRASH;
		}
	}
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;
	static struct vm vm;
	struct boot_regs br = { 0 };
	struct kernel_file kernel;
	struct kvm_probe probe;
	sigset_t sigs;
	int sigfd, status;

	setprogname(argv[0]);
	parse_args(argc, argv, &cfg);
	vm.cfg = &cfg;
	vm.t_start = now_mono();
	vm.ncpus = cfg.cpus;
	vm.next_irq = FIRST_DEVICE_IRQ;
	vm.next_mmio = MMIO_BASE;
	pthread_mutex_init(&vm.stop_lock, NULL);
	vm.stop_efd = eventfd(0, EFD_CLOEXEC);
	if (vm.stop_efd < 0)
		die("eventfd:");
	vm.console_fd = open_console(cfg.console);
	vm.main_status = -1;
	vm.kernel_fd = -1;
	open_kernel(cfg.kernel, &kernel);
	if (cfg.spec)
		ctr_prepare(&vm, &cfg, argv[0]);

	/* Signals are read by the main thread alone; vCPU and device
	 * threads inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGWINCH);
	sigaddset(&sigs, SIGIO);	/* kernelmap.c: the lease breaks */
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	/* A shell's background job ignores SIGINT, and an ignored signal
	 * never reaches the signalfd: take them back. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigdelset(&sigs, SIGUSR1);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sigfd < 0)
		die("signalfd:");
	signal(SIGPIPE, SIG_IGN);

	debugf("%.1f ms: kernel read", (now_mono() - vm.t_start) * 1e3);
	kvm_open(&vm);
	if (cfg.probe)
		kvm_probe_start(&probe, &vm);
	kvm_create_memory(&vm, cfg.mem);
	kvm_create_irqchip(&vm);
	debugf("%.1f ms: memory and irqchip", (now_mono() - vm.t_start) * 1e3);
	vm.io = io_new();
	vm_cmdline_append(&vm, "%s", DEFAULT_CMDLINE);
	if (devices_setup(&vm) < 0)
		return EXIT_FAIL;
	if (cfg.cmdline)
		vm_cmdline_append(&vm, "%s", cfg.cmdline);
	debugf("%.1f ms: devices set up", (now_mono() - vm.t_start) * 1e3);
	debugf("command line: %s", vm.cmdline);
	load_boot(&vm, &kernel, &br);

	debugf("%.1f ms: kernel and devices loaded", (now_mono() - vm.t_start) * 1e3);
	cpu_create_all(&vm, &br);
	io_start(vm.io);
	cpu_start_all(&vm);
	debugf("%.1f ms: vCPUs started", (now_mono() - vm.t_start) * 1e3);
	if (vm.ctr)
		ctr_start(&vm);
	status = wait_guest(&vm, sigfd);
	/* The probe's verdict over whatever the guest did meanwhile (on a
	 * slow KVM a halting guest may look powered off first). */
	if (cfg.probe && kvm_probe_wait(&probe) < 0) {
		warnf("this /dev/kvm cannot run an ordinary kernel at speed "
		    "(%s); it runs only specially patched guests. Run vmboot "
		    "where KVM uses hardware virtualization, or inside the "
		    "test host (tests/vmhost/run)", probe.why);
		status = EXIT_SLOW_KVM;
	}
	cpu_stop_all(&vm);
	io_stop(vm.io);
	devices_teardown(&vm);
	return status;
}
