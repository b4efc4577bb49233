/* vmexec: runs a process in a container of a running cz VM, with our
 * stdio and exit status (man/vmexec.1). With --create it first makes the
 * container, and the process is its main one. */
#include "err.h"
#include "proto.h"
#include "vmclient.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

/* Our own failures, apart from the process's status (as docker exec). */
enum { EXIT_VMEXEC = 125, EXIT_CANNOT_EXEC = 126, EXIT_NOT_FOUND = 127 };

static const char usage[] =
	"usage: vmexec SOCKET [-c ID] [-t] [-n] [-e K=V]... [-w DIR] [-u USER]\n"
	"              [--rlimit RES=SOFT[:HARD]]... [--caps MASK] [--no-new-privs]\n"
	"              [--create --rootfs DEV [--read-only] [--hostname NAME]\n"
	"               [--memory BYTES] [--pids N]] -- ARGS...\n";

static const struct { const char *name; int res; } rlimits[] = {
	{ "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC },
	{ "core", RLIMIT_CORE }, { "stack", RLIMIT_STACK }, { "as", RLIMIT_AS },
	{ "fsize", RLIMIT_FSIZE }, { "cpu", RLIMIT_CPU },
	{ "memlock", RLIMIT_MEMLOCK }, { "data", RLIMIT_DATA },
};

static void put_rlimit(struct proto_msg *m, const char *arg)
{
	char *name = xstrdup(arg), *v = strchr(name, '='), *hard;
	unsigned long long soft, h;
	size_t nest;
	int res = -1;

	if (!v)
		die("--rlimit %s: want RES=SOFT[:HARD]", arg);
	*v++ = '\0';
	for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++)
		if (strcmp(name, rlimits[i].name) == 0)
			res = rlimits[i].res;
	if (res < 0)
		die("--rlimit %s: unknown resource", name);
	soft = strtoull(v, &hard, 0);
	h = *hard == ':' ? strtoull(hard + 1, NULL, 0) : soft;
	nest = proto_nest_start(m, A_RLIMIT);
	proto_put_u32(m, A_RLIMIT_RES, (uint32_t)res);
	proto_put_u64(m, A_RLIMIT_SOFT, soft);
	proto_put_u64(m, A_RLIMIT_HARD, h);
	proto_nest_end(m, nest);
	free(name);
}

int main(int argc, char **argv)
{
	enum { O_RLIMIT = 256, O_CAPS, O_NNP, O_CREATE, O_ROOTFS, O_RO, O_HOST,
	       O_MEM, O_PIDS };
	static const struct option opts[] = {
		{ "container", required_argument, NULL, 'c' },
		{ "tty", no_argument, NULL, 't' },
		{ "no-stdin", no_argument, NULL, 'n' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "rlimit", required_argument, NULL, O_RLIMIT },
		{ "caps", required_argument, NULL, O_CAPS },
		{ "no-new-privs", no_argument, NULL, O_NNP },
		{ "create", no_argument, NULL, O_CREATE },
		{ "rootfs", required_argument, NULL, O_ROOTFS },
		{ "read-only", no_argument, NULL, O_RO },
		{ "hostname", required_argument, NULL, O_HOST },
		{ "memory", required_argument, NULL, O_MEM },
		{ "pids", required_argument, NULL, O_PIDS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0, 0, 0, 0 }
	};
	const char *ctr = "main", *rootfs = NULL, *hostname = NULL;
	struct proto_msg pm = { 0 }, cm = { 0 };
	struct vmc_io io = { .fd = { 0, 1, 2 }, .sigfd = -1 };
	struct vmc_exit ex;
	struct vmc *c = NULL;
	struct termios saved, raw;
	unsigned long long caps = 0, mem = 0, pids = 0;
	int ch, tty = 0, create = 0, ro = 0, has_caps = 0, raw_mode = 0;
	int rc = EXIT_VMEXEC, start_errno;
	uint32_t id;
	char err[1200];
	sigset_t fwd;

	setprogname(argv[0]);
	proto_init(&pm, OP_PROC_CREATE, 0, 0);
	while ((ch = getopt_long(argc, argv, "c:tne:w:u:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': ctr = optarg; break;
		case 't': tty = 1; break;
		case 'n': io.fd[0] = -1; break;
		case 'e': proto_put_str(&pm, A_ENV, optarg); break;
		case 'w': proto_put_str(&pm, A_CWD, optarg); break;
		case 'u': proto_put_str(&pm, A_USER, optarg); break;
		case O_RLIMIT: put_rlimit(&pm, optarg); break;
		case O_CAPS: caps = strtoull(optarg, NULL, 0); has_caps = 1; break;
		case O_NNP: proto_put_flag(&pm, A_NO_NEW_PRIVS); break;
		case O_CREATE: create = 1; break;
		case O_ROOTFS: rootfs = optarg; break;
		case O_RO: ro = 1; break;
		case O_HOST: hostname = optarg; break;
		case O_MEM: mem = strtoull(optarg, NULL, 0); break;
		case O_PIDS: pids = strtoull(optarg, NULL, 0); break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("vmexec protocol %d\n", PROTO_VERSION); return 0;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind < 2 || (create && !rootfs)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *addr = argv[optind++];
	proto_put_str(&pm, A_CTR, ctr);
	for (int i = optind; i < argc; i++)
		proto_put_str(&pm, A_ARG, argv[i]);
	if (has_caps) {
		proto_put_u64(&pm, A_CAP_BOUNDING, caps);
		proto_put_u64(&pm, A_CAP_EFFECTIVE, caps);
		proto_put_u64(&pm, A_CAP_PERMITTED, caps);
	}
	if (!(c = vmc_connect(addr, err, sizeof err)))
		goto fail;
	if (create) {
		proto_init(&cm, OP_CTR_CREATE, 0, 0);
		proto_put_str(&cm, A_CTR, ctr);
		proto_put_str(&cm, A_ROOTFS, rootfs);
		if (ro)
			proto_put_flag(&cm, A_READONLY);
		if (hostname)
			proto_put_str(&cm, A_HOSTNAME, hostname);
		if (mem)
			proto_put_u64(&cm, A_MEM_LIMIT, mem);
		if (pids)
			proto_put_u64(&cm, A_PIDS_LIMIT, pids);
		if (vmc_call(c, &cm, NULL, NULL, err, sizeof err) < 0)
			goto fail;
	}
	if (tty) {
		struct winsize ws = { 0 };
		io.terminal = 1;
		if (ioctl(1, TIOCGWINSZ, &ws) == 0)
			io.rows = ws.ws_row, io.cols = ws.ws_col;
		if (isatty(0) && tcgetattr(0, &saved) == 0) {
			raw = saved;
			cfmakeraw(&raw);
			raw_mode = tcsetattr(0, TCSANOW, &raw) == 0;
		}
	}
	/* Signals we receive are the process's; SIGWINCH resizes it. */
	sigemptyset(&fwd);
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGSEGV &&
		    s != SIGBUS && s != SIGFPE && s != SIGILL && s != SIGPIPE &&
		    s != SIGTSTP && s != SIGTTIN && s != SIGTTOU && s != SIGCONT) {
			/* A shell's background job ignores SIGINT: take it back. */
			signal(s, SIG_DFL);
			sigaddset(&fwd, s);
		}
	sigprocmask(SIG_BLOCK, &fwd, NULL);
	io.sigfd = signalfd(-1, &fwd, SFD_CLOEXEC);
	if (vmc_proc_create(c, &pm, &io, &id, err, sizeof err) < 0)
		goto fail;
	if (vmc_run(c, id, &io, &ex, &start_errno, err, sizeof err) < 0) {
		if (start_errno && strstr(err, ": exec "))
			rc = start_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
		goto fail;
	}
	rc = ex.code;
	if (ex.oom)
		warnf("%s: killed by the OOM killer (memory limit)", ctr);
	goto out;
fail:
	if (raw_mode)
		tcsetattr(0, TCSANOW, &saved), raw_mode = 0;
	warnf("%s", err);
out:
	if (raw_mode)
		tcsetattr(0, TCSANOW, &saved);
	vmc_close(c);
	proto_free(&pm);
	proto_free(&cm);
	if (io.sigfd >= 0)
		close(io.sigfd);
	return rc;
}
