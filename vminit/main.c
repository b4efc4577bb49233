/* vminit: PID 1 of a cz guest. Prepares the machine, then serves the
 * control protocol (man/vminit.8) and supervises containers. In host mode
 * (--listen unix:PATH) it skips the machine and runs the same container
 * code as PID 1 of an unshare'd PID and mount namespace, for tests. */
#include "vminit.h"
#include "err.h"
#include "fsutil.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 32

static const char usage[] =
	"usage: vminit [--listen ADDR] [--connect ADDR] [--run DIR]\n"
	"  ADDR: unix:PATH, vsock:PORT (listen) or vsock:CID:PORT (connect)\n";

const char *run_dir = "/run/cz";
static int epfd = -1;
static int host_mode;
static struct watch sigw;

uint64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tlog(const char *fmt, ...)
{
	uint64_t t = now_ns(CLOCK_MONOTONIC);
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof line, "vminit: [%llu.%06llu] ",
		     (unsigned long long)(t / 1000000000u),
		     (unsigned long long)(t % 1000000000u / 1000u));
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	write_all(2, line, strlen(line));
}

int ev_add(struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int ev_mod(struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void ev_del(struct watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* Objects die in a callback while the batch may still name them: they
 * are freed after it. */
static void **graveyard;
static size_t ngrave, capgrave;

void ev_free_later(void *p)
{
	graveyard = xgrow(graveyard, &capgrave, ngrave + 1, sizeof *graveyard);
	graveyard[ngrave++] = p;
}

static int is_dead(void *w)
{
	for (size_t i = 0; i < ngrave; i++)
		if (graveyard[i] == w)
			return 1;
	return 0;
}

/* PID 1 must never return: in the guest every end is a power off. */
static _Noreturn void halt(int rebooting, const char *why)
{
	tlog("%s: %s", rebooting ? "reboot" : "power off", why);
	if (host_mode)
		exit(0);
	sync();
	kill(-1, SIGKILL);
	reboot(rebooting ? RB_AUTOBOOT : RB_POWER_OFF);
	for (;;)
		pause();
}

void vminit_shutdown(int rebooting, const char *why)
{
	halt(rebooting, why);
}

int vminit_host_mode(void)
{
	return host_mode;
}

static void on_signal(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;
	int st;
	pid_t pid;

	(void)events;
	while (read(w->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (si.ssi_signo == SIGINT)
			halt(1, "SIGINT (ctrl-alt-del)");
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGPWR)
			halt(0, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGPWR");
	}
	/* Every zombie, ours or reparented to us. */
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		proc_reaped(pid, st);
}

/* Firecracker's boot timer: the VMM notes when userspace is ready. Needs
 * ioperm (CONFIG_X86_IOPL_IOPERM); without it the mark is skipped. */
#define BOOT_TIMER_PORT 0x3f0
#define BOOT_TIMER_MAGIC 123

static void mark_boot_time(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (ioperm(BOOT_TIMER_PORT, 1, 1) < 0) {
		tlog("boot timer: ioperm: %s", strerror(errno));
		return;
	}
	outb(BOOT_TIMER_MAGIC, BOOT_TIMER_PORT);
	ioperm(BOOT_TIMER_PORT, 1, 0);
#endif
}

/* vminit.port=N on the kernel command line names the host's port. */
static unsigned cmdline_port(void)
{
	char *buf = NULL, *p;
	unsigned port = PROTO_VSOCK_PORT;

	if (read_file("/proc/cmdline", 4096, &buf, NULL) < 0)
		return port;
	if ((p = strstr(buf, "vminit.port=")))
		port = (unsigned)strtoul(p + 12, NULL, 10);
	free(buf);
	return port;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'c' },
		{ "run", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0, 0, 0, 0 }
	};
	const char *listen_addr = NULL, *connect_addr = NULL;
	char err[ERRLEN], addr[64];
	struct epoll_event evs[MAX_EVENTS];
	sigset_t all;
	int c;

	setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "l:c:r:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_addr = optarg; break;
		case 'c': connect_addr = optarg; break;
		case 'r': run_dir = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("vminit protocol %d\n", PROTO_VERSION); return 0;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	host_mode = listen_addr && strncmp(listen_addr, "unix:", 5) == 0;
	tlog("start%s", host_mode ? " (host mode)" : "");

	/* Signals arrive on a signalfd; the children unblock them. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (!host_mode) {
		reboot(RB_DISABLE_CAD);
		if (mounts_machine(err, sizeof err) < 0)
			halt(0, err);
		tlog("mounts done");
	}
	if (mkdir_p(run_dir, 0700) < 0) {
		snprintf(err, sizeof err, "mkdir %s: %s", run_dir, strerror(errno));
		halt(0, err);
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (sigw.fd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		snprintf(err, sizeof err, "epoll/signalfd: %s", strerror(errno));
		halt(0, err);
	}
	sigw.cb = on_signal;
	ev_add(&sigw, EPOLLIN);

	if (!listen_addr) {
		snprintf(addr, sizeof addr, "vsock:%u", PROTO_VSOCK_PORT);
		listen_addr = addr;
	}
	if (server_listen(listen_addr, err, sizeof err) < 0)
		halt(0, err);
	tlog("listening on %s", listen_addr);
	if (!connect_addr && !host_mode) {
		static char caddr[64];
		snprintf(caddr, sizeof caddr, "vsock:2:%u", cmdline_port());
		connect_addr = caddr;
	}
	/* The host never polls: we tell it we are ready. A host that is
	 * not listening is not an error; it can still connect to us. */
	if (connect_addr && server_connect(connect_addr, err, sizeof err) < 0)
		tlog("%s", err);
	else if (connect_addr)
		tlog("ready, told %s", connect_addr);
	if (!host_mode)
		mark_boot_time();

	for (;;) {
		int n = epoll_wait(epfd, evs, MAX_EVENTS,
				   ctr_delete_pending() ? DELETE_POLL_MS : -1);
		if (n < 0 && errno != EINTR)
			halt(0, "epoll_wait failed");
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			if (!is_dead(w->owner))
				w->cb(w, evs[i].events);
		}
		while (ngrave > 0)
			free(graveyard[--ngrave]);
		if (ctr_delete_pending())
			ctr_delete_poll();
	}
}
