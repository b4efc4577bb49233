/* container.c: the container path of vmboot (--spec). vminit is the
 * guest's /init; it connects to us through vsock (host port 1024, our
 * Unix socket <vsock>_1024) when it is ready. A thread of its own then
 * speaks the vminit protocol (lib/vmclient.h): a foreign architecture's
 * interpreter (arch.c), the guest's network, the container "main" on
 * /dev/vda from the runtime spec, its main process with our stdio, and
 * at the end OP_SHUTDOWN. The main thread keeps watching the guest: it
 * forwards our signals to the process through a pipe (in signalfd's
 * format, which vmc_run reads), enforces --timeout, and tells a clean
 * end (the status recorded, then the reset that OP_SHUTDOWN causes) from
 * a crash (a reset nobody asked for). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "spec.h"
#include "vmboot.h"
#include "vmclient.h"
#include "xalloc.h"

/* The host port vminit connects to (vminit.port= on its command line). */
#define VMINIT_PORT	PROTO_VSOCK_PORT
#define CTR_ID		"main"
#define CTR_ROOTFS	"/dev/vda"
/* How long the guest may take to reboot after OP_SHUTDOWN. */
#define SHUTDOWN_WAIT_MS 5000
/* The console's tail shown when the guest stops unexpectedly. */
#define CONSOLE_TAIL	4096

struct ctr_run {
	struct vm *vm;
	struct spec spec;
	char *tmpdir;		/* made for the socket when --vsock was not given */
	char *sock;		/* the vsock Unix socket (vmexec reaches it) */
	char listen_path[108];	/* <sock>_<port>: vminit's connection lands here */
	int listen_fd;
	char *binfmt;		/* a foreign architecture's registration (arch.c) */
	int sigpipe[2];		/* main thread -> vmc_run, signalfd_siginfo */
	int started;		/* the process exists: signals go to it */
	int timed_out;
	pthread_t thread;
	struct termios saved;
	int raw;
};

static struct ctr_run *the_run;	/* for the exit handler */

static void ctr_cleanup(void)
{
	struct ctr_run *r = the_run;

	if (!r)
		return;
	if (r->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &r->saved);
	if (r->listen_path[0])
		unlink(r->listen_path);
	if (r->tmpdir) {
		unlink(r->sock);	/* the vsock device's, if it is still there */
		rmdir(r->tmpdir);
	}
}

/* The vminit binary: $CZ_VMINIT, else beside vmboot itself. */
static char *find_vminit(const char *argv0)
{
	const char *env = getenv("CZ_VMINIT");
	char self[4096], *dir, *p;
	ssize_t n;

	if (env && *env)
		return xstrdup(env);
	if (strchr(argv0, '/')) {
		snprintf(self, sizeof self, "%s", argv0);
	} else {
		n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n < 0)
			die("/proc/self/exe:");
		self[n] = '\0';
	}
	dir = dirname(self);
	p = xasprintf("%s/vminit", dir);
	return p;
}

static int console_memfd(void)
{
	int fd = memfd_create("vmboot-console", MFD_CLOEXEC);

	if (fd < 0)
		die("memfd_create:");
	return fd;
}

void ctr_prepare(struct vm *vm, struct vm_config *cfg, const char *argv0)
{
	struct ctr_run *r = xcalloc(1, sizeof *r);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[1200];

	r->vm = vm;
	r->listen_fd = r->sigpipe[0] = r->sigpipe[1] = -1;
	vm->ctr = r;
	vm->main_status = -1;
	if (cfg->ndisks == 0)
		usage("--spec: the container's rootfs disk is needed (-d FILE)");
	spec_init(&r->spec);
	if (spec_load(&r->spec, cfg->spec, err, sizeof err) < 0)
		die("%s", err);
	/* The command line over the spec, as vmexec does. */
	if (cfg->nargs)
		spec_set_args(&r->spec, cfg->args, (size_t)cfg->nargs);
	for (int i = 0; i < cfg->nenv; i++)
		spec_setenv(&r->spec, cfg->env[i]);
	if (cfg->workdir)
		free(r->spec.cwd), r->spec.cwd = xstrdup(cfg->workdir);
	if (cfg->user)
		spec_set_user(&r->spec, cfg->user);
	if (cfg->disks[0].ro)
		r->spec.readonly = 1;
	cfg->tty |= r->spec.terminal;
	if (r->spec.nargs == 0)
		usage("--spec: no command: give ARGS or process.args");
	/* --arch, else the image's: a foreign one brings its interpreter. */
	if (cfg->arch || r->spec.arch)
		r->binfmt = arch_prepare(cfg, cfg->arch ? cfg->arch : r->spec.arch);
	if (!cfg->init)
		cfg->init = find_vminit(argv0);
	if (access(cfg->init, R_OK) < 0)
		die("%s: vminit (set --init or CZ_VMINIT):", cfg->init);

	the_run = r;
	atexit(ctr_cleanup);
	if (!cfg->vsock) {
		r->tmpdir = tmpdir_make();
		r->sock = xasprintf("%s/vm.sock", r->tmpdir);
		cfg->vsock = r->sock;
	} else {
		r->sock = xstrdup(cfg->vsock);
	}
	if ((size_t)snprintf(r->listen_path, sizeof r->listen_path, "%s_%u",
	    r->sock, VMINIT_PORT) >= sizeof r->listen_path) {
		r->listen_path[0] = '\0';
		die("%s: socket path too long", r->sock);
	}
	strcpy(sa.sun_path, r->listen_path);
	unlink(r->listen_path);
	r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&sa,
	    sizeof sa) < 0 || listen(r->listen_fd, 4) < 0)
		die("%s:", r->listen_path);
	if (pipe2(r->sigpipe, O_CLOEXEC) < 0)
		die("pipe:");
	/* The console would mix with the process's stdout: kept in memory,
	 * shown when the guest stops unexpectedly (or on stderr with -v). */
	if (!cfg->console_set)
		vm->console_fd = cfg->verbose ? STDERR_FILENO : console_memfd();
}

/* The tail of the console when it was kept in memory, on stderr. */
static void console_tail(struct vm *vm)
{
	char buf[CONSOLE_TAIL + 1], *p;
	struct stat st;
	off_t off;
	ssize_t n;

	if (vm->console_fd < 0 || fstat(vm->console_fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || vm->cfg->console_set)
		return;
	off = st.st_size > CONSOLE_TAIL ? st.st_size - CONSOLE_TAIL : 0;
	n = pread(vm->console_fd, buf, CONSOLE_TAIL, off);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = off ? strchr(buf, '\n') : NULL;
	fprintf(stderr, "%s: the guest's console ended with:\n%s", progname,
	    p ? p + 1 : buf);
	if (buf[n - 1] != '\n')
		fputc('\n', stderr);
}

/* The main thread: how the guest stopped, as vmboot's status. */
int ctr_stop_status(struct vm *vm, enum vm_stop why, int status)
{
	struct ctr_run *r = vm->ctr;
	char buf[CONSOLE_TAIL + 1];
	int panic = 0;

	pthread_mutex_lock(&vm->stop_lock);
	int main_status = vm->main_status, asked = vm->shutdown_asked;
	pthread_mutex_unlock(&vm->stop_lock);
	if (r->timed_out) {
		warnf("the process ran longer than --timeout %u s: stopped",
		    vm->cfg->timeout);
		return EXIT_CTR_TIMEOUT;
	}
	if (why == VM_STOP_SIGNAL || why == VM_STOP_SLOW_KVM)
		return status;
	if (main_status >= 0 && (why == VM_STOP_STATUS || asked))
		return main_status;
	if (vm->console_fd >= 0) {
		struct stat st;
		off_t off;
		ssize_t n;

		if (fstat(vm->console_fd, &st) == 0 && S_ISREG(st.st_mode)) {
			off = st.st_size > CONSOLE_TAIL ? st.st_size - CONSOLE_TAIL : 0;
			n = pread(vm->console_fd, buf, CONSOLE_TAIL, off);
			buf[n > 0 ? n : 0] = '\0';
			panic = strstr(buf, "Kernel panic") != NULL;
		}
	}
	if (why == VM_STOP_CRASH)
		warnf("the guest crashed before the process's status was known");
	else if (panic || why == VM_STOP_PANIC)
		warnf("guest kernel panic before the process's status was known");
	else
		warnf("the guest %s before the process's status was known "
		    "(vminit failed, or the kernel panicked)",
		    why == VM_STOP_POWEROFF ? "powered off" : "rebooted");
	console_tail(vm);
	return EXIT_CTR_FAIL;
}

/* The main thread: a signal for the process. 0 when it was forwarded. */
int ctr_forward_signal(struct vm *vm, int signo)
{
	struct ctr_run *r = vm->ctr;
	struct signalfd_siginfo si = { .ssi_signo = (uint32_t)signo };

	if (!__atomic_load_n(&r->started, __ATOMIC_ACQUIRE))
		return -1;
	return write(r->sigpipe[1], &si, sizeof si) == (ssize_t)sizeof si ? 0 : -1;
}

int ctr_timeout(struct vm *vm)
{
	struct ctr_run *r = vm->ctr;

	r->timed_out = 1;
	return ctr_forward_signal(vm, SIGKILL);
}

/* The runner's end: the status recorded, the guest asked to shut down
 * (so its disk writes are synced), then vmboot stops with the status. */
static void *finish(struct ctr_run *r, struct vmc *c, int status)
{
	struct vm *vm = r->vm;
	struct proto_msg m = { 0 };
	char err[1200];

	pthread_mutex_lock(&vm->stop_lock);
	vm->main_status = status;
	vm->shutdown_asked = c != NULL;
	pthread_mutex_unlock(&vm->stop_lock);
	if (c) {
		proto_init(&m, OP_SHUTDOWN, 0, 0);
		proto_put_flag(&m, A_REBOOT);
		proto_put_str(&m, A_REASON, "vmboot: the main process exited");
		if (vmc_call(c, &m, NULL, NULL, err, sizeof err) == 0) {
			struct pollfd p = { vm->stop_efd, POLLIN, 0 };

			debugf("%.1f ms: shutdown asked", (now_mono() - vm->t_start) * 1e3);
			/* The main thread ends vmboot at the guest's reset. */
			poll(&p, 1, SHUTDOWN_WAIT_MS);
		}
		proto_free(&m);
		vmc_close(c);
	}
	vm_report_main_status(vm, status);
	return NULL;
}

static int call(struct vmc *c, struct proto_msg *m, char *err, size_t errlen)
{
	int rc = vmc_call(c, m, NULL, NULL, err, errlen);

	proto_free(m);
	return rc;
}

/* OP_NET_LINK, OP_NET_ADDR, OP_NET_ROUTE from vm->guest_net. */
static int setup_net(struct vmc *c, const struct guest_net *n, char *err,
    size_t errlen)
{
	struct proto_msg m = { 0 };
	const char *ifname = n->ifname[0] ? n->ifname : "eth0";

	proto_init(&m, OP_NET_LINK, 0, 0);
	proto_put_str(&m, A_IFNAME, ifname);
	proto_put_flag(&m, A_UP);
	if (call(c, &m, err, errlen) < 0)
		return -1;
	if (n->addr[0]) {
		proto_init(&m, OP_NET_ADDR, 0, 0);
		proto_put_str(&m, A_IFNAME, ifname);
		proto_put_str(&m, A_ADDR, n->addr);
		if (call(c, &m, err, errlen) < 0)
			return -1;
	}
	if (n->gw[0]) {
		proto_init(&m, OP_NET_ROUTE, 0, 0);
		proto_put_str(&m, A_IFNAME, ifname);
		proto_put_str(&m, A_GATEWAY, n->gw);
		if (call(c, &m, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static void *ctr_main(void *arg)
{
	struct ctr_run *r = arg;
	struct vm *vm = r->vm;
	const struct vm_config *cfg = vm->cfg;
	struct vmc_io io = { .fd = { -1, STDOUT_FILENO, STDERR_FILENO },
	    .sigfd = r->sigpipe[0] };
	struct proto_msg m = { 0 };
	struct vmc_exit ex;
	struct vmc *c = NULL;
	char err[1200];
	uint32_t id;
	int fd, start_errno, status = EXIT_CTR_FAIL;

	while ((fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		if (errno != EINTR && errno != ECONNABORTED)
			die("%s: accept:", r->listen_path);
	close(r->listen_fd);
	r->listen_fd = -1;
	unlink(r->listen_path);
	r->listen_path[0] = '\0';
	if (!(c = vmc_adopt(fd, r->sock, err, sizeof err))) {
		close(fd);
		goto fail;
	}
	debugf("%.1f ms: vminit ready", (now_mono() - vm->t_start) * 1e3);
	if (r->binfmt) {
		proto_init(&m, OP_BINFMT, 0, 0);
		proto_put_str(&m, A_BINFMT, r->binfmt);
		if (call(c, &m, err, sizeof err) < 0)
			goto fail;
	}
	if (vm->guest_net && setup_net(c, vm->guest_net, err, sizeof err) < 0)
		goto fail;

	proto_init(&m, OP_CTR_CREATE, 0, 0);
	proto_put_str(&m, A_CTR, CTR_ID);
	proto_put_str(&m, A_ROOTFS, CTR_ROOTFS);
	spec_ctr_attrs(&r->spec, &m);
	if (vm->guest_net) {
		const struct guest_net *n = vm->guest_net;
		char resolv[4 * 80] = "", hosts[sizeof n->hosts + 512];

		for (int i = 0; i < n->ndns && i < 4; i++)
			snprintf(resolv + strlen(resolv), sizeof resolv - strlen(resolv),
			    "nameserver %s\n", n->dns[i]);
		if (n->ndns > 0)
			proto_put_str(&m, A_RESOLV_CONF, resolv);
		if (guest_net_hosts(n, r->spec.hostname, hosts, sizeof hosts) < 0) {
			snprintf(err, sizeof err, "/etc/hosts: too long");
			goto fail;
		}
		proto_put_str(&m, A_HOSTS, hosts);
	}
	if (call(c, &m, err, sizeof err) < 0)
		goto fail;
	debugf("%.1f ms: container created", (now_mono() - vm->t_start) * 1e3);

	if (cfg->interactive)
		io.fd[STREAM_STDIN] = STDIN_FILENO;
	if (cfg->tty) {
		struct winsize ws = { 0 };

		io.terminal = 1;
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
			io.rows = ws.ws_row, io.cols = ws.ws_col;
		if (cfg->interactive && isatty(STDIN_FILENO) &&
		    tcgetattr(STDIN_FILENO, &r->saved) == 0) {
			struct termios raw = r->saved;

			cfmakeraw(&raw);
			r->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		}
	}
	proto_init(&m, OP_PROC_CREATE, 0, 0);
	proto_put_str(&m, A_CTR, CTR_ID);
	spec_proc_attrs(&r->spec, &m);
	if (vmc_proc_create(c, &m, &io, &id, err, sizeof err) < 0)
		goto fail;
	proto_free(&m);
	__atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
	if (vmc_run(c, id, &io, &ex, &start_errno, err, sizeof err) < 0) {
		if (start_errno && strstr(err, ": exec "))
			status = start_errno == ENOENT ? EXIT_CTR_NOT_FOUND :
			    EXIT_CTR_CANNOT_EXEC;
		goto fail;
	}
	debugf("%.1f ms: process exited with %d", (now_mono() - vm->t_start) * 1e3,
	    ex.code);
	if (ex.oom)
		warnf("the process was killed by the OOM killer (memory limit)");
	status = ex.code;
	goto out;
fail:
	proto_free(&m);
	warnf("%s", err);
out:
	if (r->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &r->saved), r->raw = 0;
	return finish(r, c, status);
}

void ctr_start(struct vm *vm)
{
	struct ctr_run *r = vm->ctr;
	pthread_attr_t a;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&r->thread, &a, ctr_main, r) != 0)
		die("pthread_create: container");
	pthread_attr_destroy(&a);
}
