/* vmboot.h: the virtual machine as the core sees it: guest memory, the
 * port and MMIO buses, vCPUs, the device thread's event loop, and the
 * init list through which devices register themselves.
 *
 * Threads (the one device thread model):
 *  - one thread per vCPU runs KVM_RUN and handles the exits that reach
 *    userspace: port I/O (serial, boot timer, reset) and MMIO register
 *    accesses of the virtio transports, each under its device's lock;
 *  - one device thread (io.c) polls every queue's ioeventfd, the tap, the
 *    vsock sockets and the disks' work, and raises interrupts through
 *    irqfds, so a queue kick never makes a vCPU exit to userspace;
 *  - the main thread sets up, then waits for the guest to stop or for a
 *    signal, and tears everything down.
 */
#ifndef VMBOOT_H
#define VMBOOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gmem.h"
#include "guestnet.h"

#define VMBOOT_VERSION "0.1"

/* Guest physical layout. RAM is [0, LOW_RAM_END) and [4 GiB, ...);
 * devices live in the hole between. */
#define LOW_RAM_END	0xc0000000ULL
#define HIGH_RAM_START	0x100000000ULL
#define MMIO_BASE	0xd0000000ULL	/* virtio-mmio windows, 4 KiB each */
#define MMIO_WINDOW	0x1000ULL
#define IOAPIC_ADDR	0xfec00000ULL
#define LAPIC_ADDR	0xfee00000ULL
#define MAX_CPUS	32
#define KERNEL_MAPS_MAX	8	/* PT_LOAD segments mapped from the file */
#define PAGE		4096ULL	/* the unit the kernel is mapped and left out in */
#define MAX_DISKS	16
#define CMDLINE_MAX	2048	/* x86 COMMAND_LINE_SIZE */

/* Interrupt lines: the serial port has its ISA line; virtio devices take
 * lines from FIRST_DEVICE_IRQ up, all on the IOAPIC's 24 pins. */
#define SERIAL_IRQ	4
#define FIRST_DEVICE_IRQ 5
#define MAX_IRQ		23

/* Exit statuses, also in the man page. */
enum {
	EXIT_GUEST_OK = 0,	/* guest rebooted or powered off cleanly */
	EXIT_GUEST_CRASH = 3,	/* triple fault, KVM error, stop forced */
	EXIT_SLOW_KVM = 4,	/* this /dev/kvm cannot run the guest */
};
/* With --spec, the process's status, or one of these (as docker run). */
enum {
	EXIT_CTR_TIMEOUT = 124,	/* --timeout: the process was killed */
	EXIT_CTR_FAIL = 125,	/* vmboot, the guest or vminit failed */
	EXIT_CTR_CANNOT_EXEC = 126,
	EXIT_CTR_NOT_FOUND = 127,
};

struct disk_opt {
	const char *path;
	bool ro;
};

/* Everything the command line asked for; devices read it at setup. */
struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *init;	/* program to pack as /init */
	const char *cmdline;	/* appended to the default */
	uint64_t mem;
	int cpus;
	struct disk_opt disks[MAX_DISKS];
	int ndisks;
	const char *vsock;	/* host-side Unix socket path */
	const char *tap;
	const char *console;	/* "stdio", "none" or a file */
	bool probe;		/* check the KVM speed first */
	bool boot_time;		/* print when userspace was reached */
	bool console_set;	/* --console given */
	bool verbose;		/* -v: timings and the console on stderr */
	/* The container path (--spec, container.c). */
	const char *spec;	/* config.json */
	char **args;		/* replace process.args */
	int nargs;
	const char **env;	/* -e K=V */
	int nenv;
	const char *workdir, *user;
	bool tty, interactive;
	unsigned timeout;	/* seconds, 0: none */
	const char *arch;	/* --arch; NULL: the image's (arch.c) */
	/* A foreign architecture's interpreter: the host's file, packed
	 * into the initramfs as interp_at. NULL: none. */
	char *interp, *interp_at;
};

struct vm;
struct io;

/* A handler for a range of ports or of MMIO addresses; runs on the vCPU
 * thread that exited. off is relative to the range's base. */
typedef void bus_fn(void *priv, uint64_t off, uint8_t *data, uint32_t len,
    bool write);

/* How the guest stopped; the first reason set wins. */
enum vm_stop {
	VM_RUNNING,
	VM_STOP_RESET,		/* reboot through the keyboard controller */
	VM_STOP_POWEROFF,	/* every vCPU halted with interrupts off */
	VM_STOP_PANIC,		/* a reset that the kernel's panic path asked for */
	VM_STOP_CRASH,
	VM_STOP_STATUS,		/* the test init reported an exit status */
	VM_STOP_SIGNAL,
	VM_STOP_SLOW_KVM,	/* the speed probe failed while the guest ran */
};

struct vm {
	const struct vm_config *cfg;
	int kvm, fd;
	uint8_t *ram;		/* one mapping: low RAM, then high RAM */
	uint64_t ram_size;
	struct gmem mem;
	int ncpus;
	bool tsc_deadline;	/* KVM emulates the TSC-deadline timer */
	struct vcpu *cpus[MAX_CPUS];
	struct io *io;
	char cmdline[CMDLINE_MAX];
	int next_irq;
	uint64_t next_mmio;
	int console_fd;		/* -1: console output is dropped */

	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	enum vm_stop stop;
	int status;		/* with VM_STOP_STATUS */
	int stop_efd;		/* written when stop is set */
	double t_start;		/* CLOCK_MONOTONIC at start, for the timer */
	double t_userspace;	/* seconds from t_start, 0 until reached */
	/* Asks the guest to shut down (set by whatever talks to the guest's
	 * init, e.g. the vminit protocol); NULL: a signal stops at once. */
	void (*ask_stop)(struct vm *vm);
	/* The guest's network for vminit to configure; NULL: none. */
	struct guest_net *guest_net;
	struct ctr_run *ctr;	/* with --spec */
	int main_status;	/* the main process's status, -1 until known */
	bool shutdown_asked;	/* a reset after this is a clean end */
	bool report;		/* stopped by force: the vCPUs say where */
	pthread_t watch;	/* cpu.c: the power-off watch */
	bool watch_started;
	/* kernelmap.c: the kernel's pages mapped from its file, and the
	 * file (holding the lease), -1 once there are none. */
	struct kernel_map {
		uint8_t *p;
		uint64_t len;
	} kmap[KERNEL_MAPS_MAX];
	int nkmap;
	int kernel_fd;
};

/* main.c */
_Noreturn void usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* container.c: the container path (--spec). */
struct ctr_run;
/* Before the devices: the spec, vminit, the vsock socket and its
 * listener for vminit's connection, the console. */
void ctr_prepare(struct vm *vm, struct vm_config *cfg, const char *argv0);
/* Once the vCPUs run: the thread that speaks to vminit. */
void ctr_start(struct vm *vm);
/* Main thread: a signal for the process (0: forwarded, -1: none yet). */
int ctr_forward_signal(struct vm *vm, int signo);
/* Main thread: --timeout expired; kills the process. */
int ctr_timeout(struct vm *vm);
/* Main thread: vmboot's exit status once the guest stopped. */
int ctr_stop_status(struct vm *vm, enum vm_stop why, int status);

/* arch.c: foreign architectures. */
struct guest_arch;
/* 0 when name is an architecture we run, *ga NULL for the host's own;
 * -1 when it is none. */
int arch_lookup(const char *name, const struct guest_arch **ga);
/* For a container of architecture name: NULL when native, else sets
 * cfg->interp and cfg->interp_at and returns the binfmt_misc register
 * line for vminit. Dies naming the cause (no interpreter installed). */
char *arch_prepare(struct vm_config *cfg, const char *name);

/* tmpdir.c: a private directory for the sockets, locked while we run;
 * stale ones of vmboots that died are removed first. */
char *tmpdir_make(void);

/* kvm.c */
void kvm_open(struct vm *vm);
void kvm_create_memory(struct vm *vm, uint64_t size);
void kvm_create_irqchip(struct vm *vm);
void kvm_irq_line(struct vm *vm, int irq, int level);
/* Makes writes to the eventfd efd pulse irq (an edge). */
int kvm_irqfd(struct vm *vm, int irq, int efd);
/* Makes the guest's 4-byte write of datamatch at gpa signal efd, without
 * an exit to userspace. */
int kvm_ioeventfd(struct vm *vm, uint64_t gpa, uint32_t datamatch, int efd);
/* probe.c: whether /dev/kvm runs an ordinary 64-bit guest at speed,
 * found on a thread of its own while the guest boots; a failed probe
 * stops vm (VM_STOP_SLOW_KVM). wait gives 0 if it passed, else -1 and
 * why. */
struct kvm_probe {
	pthread_t thread;
	struct vm *vm;
	int ret;
	char why[256];
};
void kvm_probe_start(struct kvm_probe *p, struct vm *vm);
int kvm_probe_wait(struct kvm_probe *p);

/* kvmstats.c: a vCPU's exit counters as KVM keeps them, with CZ_DEBUG
 * or always. */
void kvm_stats_show(int stats_fd, int id, bool always);
/* The vCPU's stats fd, with the data offset of each of the n named
 * single-value stats in offs (-1: KVM has none of that name); -1 when
 * KVM has no stats fd. */
int kvm_stats_open(int vcpu_fd, const char *const *names, int n, off_t *offs);
int kvm_stats_get(int fd, off_t off, uint64_t *v);

/* bus.c: dispatch of port and MMIO accesses. */
void pio_register(uint64_t base, uint64_t len, bus_fn *fn, void *priv);
void mmio_register(uint64_t base, uint64_t len, bus_fn *fn, void *priv);
/* Calls each with the priv of every MMIO range that fn answers. */
void mmio_each(bus_fn *fn, void (*each)(void *priv));
/* 0 when something handled it. Unclaimed reads return all ones. */
int pio_access(uint64_t port, uint8_t *data, uint32_t len, bool write);
int mmio_access(uint64_t addr, uint8_t *data, uint32_t len, bool write);

/* cpu.c */
struct boot_regs {
	bool pvh;		/* 32-bit protected mode, else 64-bit */
	uint64_t entry;
	uint64_t arg;		/* ebx (PVH start_info) or rsi (boot_params) */
};
void cpu_create_all(struct vm *vm, const struct boot_regs *br);
void cpu_start_all(struct vm *vm);
void cpu_stop_all(struct vm *vm);

/* vm.c: stopping. */
void vm_set_stop(struct vm *vm, enum vm_stop why, int status);
/* The seam for the host<->guest protocol: the guest's main process
 * exited with status (0..255, or 128+signal). */
void vm_report_main_status(struct vm *vm, int status);
void vm_cmdline_append(struct vm *vm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int vm_alloc_irq(struct vm *vm);
uint64_t vm_alloc_mmio(struct vm *vm);
double now_mono(void);

/* Boot: loaders fill guest memory and say where to start. */
struct boot_image {
	uint64_t initrd_addr, initrd_size;
};
/* The kernel file: mapped for its headers, read for its contents. */
struct kernel_file {
	int fd;
	const uint8_t *map;
	size_t len;
	bool leased;		/* kernelmap.c: a read lease is held */
};
/* kernelmap.c: before the first segment (and with SIGIO blocked, which
 * tells of the lease breaking): takes a read lease on the file if it can.
 * kernel_copy then puts len bytes at off in the file into guest memory
 * at dst: mapped from the file under the lease, else copied. */
void kernel_lease(struct vm *vm, struct kernel_file *kf);
void kernel_copy(struct vm *vm, struct kernel_file *kf, void *dst,
    uint64_t off, uint64_t len);
/* After the last segment: the vm keeps the file while its pages are
 * mapped, else it is closed. */
void kernel_load_done(struct vm *vm, struct kernel_file *kf);
/* Main thread, on SIGIO (the lease breaks): the guest gets its own copy
 * of every mapped page, and the file goes. */
void kernel_unshare(struct vm *vm);
/* 1 when the file is an ELF vmlinux with a PVH entry and was loaded. */
int boot_pvh_load(struct vm *vm, struct kernel_file *kf,
    struct boot_regs *br);
void boot_pvh_finish(struct vm *vm, const struct boot_image *bi,
    struct boot_regs *br);
int boot_bzimage_load(struct vm *vm, struct kernel_file *kf,
    struct boot_regs *br);
uint64_t boot_bzimage_initrd_max(struct vm *vm);
void boot_bzimage_finish(struct vm *vm, const struct boot_image *bi,
    struct boot_regs *br);
/* bootparams.c: the e820 map shared by both protocols. */
struct e820_entry_le {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));
#define E820_RAM 1
#define E820_RESERVED 2
int e820_build(const struct vm *vm, struct e820_entry_le *e, int max);
/* Fixed low-memory addresses used while booting. */
#define BOOT_GDT_ADDR	0x500
#define BOOT_INFO_ADDR	0x7000	/* zero page, or PVH start_info */
#define BOOT_MEMMAP_ADDR 0x8000	/* PVH memmap / modlist */
#define BOOT_PML4_ADDR	0x9000	/* PML4, PDPT, 4 page directories */
#define BOOT_CMDLINE_ADDR 0x20000
#define MPTABLE_ADDR	0xf0000
/* mptable.c */
void mptable_write(struct vm *vm);
/* cpio.c: a newc archive holding one file as /init, in memory, and the
 * file extra as extra_at (both NULL: none). */
uint8_t *cpio_init_archive(const char *program, const char *extra,
    const char *extra_at, size_t *len);
/* Places the initrd at the top of low RAM, below max. */
void initrd_place(struct vm *vm, const uint8_t *data, size_t len,
    uint64_t max, struct boot_image *bi);

/* Devices register themselves at the end of their own file. setup runs
 * in order of prio (lower first) and creates zero or more instances. */
struct device_type {
	const char *name;
	int prio;
	int (*setup)(struct vm *vm);	/* 0, or -1 after warnf */
	void (*teardown)(struct vm *vm);	/* after the vCPUs stopped */
	struct device_type *next;
};
void device_register(struct device_type *t);
int devices_setup(struct vm *vm);
void devices_teardown(struct vm *vm);
#define DEVICE_REGISTER(t) \
	__attribute__((constructor)) static void register_##t(void) \
	{ device_register(&(t)); }

/* io.c: the device thread's loop. Callbacks run on the device thread. */
typedef void io_fn(void *arg, uint32_t events);
struct io *io_new(void);
void io_free(struct io *io);
int io_add(struct io *io, int fd, uint32_t events, io_fn *fn, void *arg);
int io_mod(struct io *io, int fd, uint32_t events, io_fn *fn, void *arg);
void io_del(struct io *io, int fd);
/* Runs one round of callbacks, waiting up to timeout_ms (-1: forever). */
int io_run_once(struct io *io, int timeout_ms);
void io_start(struct io *io);	/* a thread running io_run_once */
void io_stop(struct io *io);

#endif
