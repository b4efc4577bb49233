/* vmexec: runs a process in a container of a running cz VM, with our
 * stdio and exit status (man/vmexec.1). With --create it first makes the
 * container, and the process is its main one; --spec takes both from an
 * OCI runtime-spec config.json, the options overriding it. */
#include "err.h"
#include "proto.h"
#include "spec.h"
#include "vmclient.h"
#include "xalloc.h"

#include <ctype.h>
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
	"               [--memory BYTES] [--pids N]] [--spec CONFIG.JSON] [-- ARGS...]\n"
	"       vmexec SOCKET [-c ID] --delete\n";

/* "nofile=SOFT[:HARD]" or "RLIMIT_NOFILE=..." into the spec. */
static void set_rlimit(struct spec *s, const char *arg)
{
	char *name = xstrdup(arg), *v = strchr(name, '='), *end, *full;
	unsigned long long soft, hard;
	int res;

	if (!v)
		die("--rlimit %s: want RES=SOFT[:HARD]", arg);
	*v++ = '\0';
	full = xasprintf("%s%s", strncasecmp(name, "RLIMIT_", 7) ? "RLIMIT_" : "", name);
	for (char *c = full; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	if ((res = spec_rlimit_res(full)) < 0)
		die("--rlimit %s: unknown resource", name);
	errno = 0;
	soft = strtoull(v, &end, 0);
	hard = *end == ':' ? strtoull(end + 1, &end, 0) : soft;
	if (*end || errno || !*v)
		die("--rlimit %s: want RES=SOFT[:HARD]", arg);
	spec_set_rlimit(s, (uint32_t)res, soft, hard);
	free(full);
	free(name);
}

static unsigned long long number(const char *opt, const char *arg)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (!*arg || *end || errno)
		die("%s %s: not a number", opt, arg);
	return v;
}

/* --delete: the container, its processes and mounts gone. */
static int delete_ctr(int argc, char **argv, const char *ctr, int other)
{
	struct proto_msg m = { 0 };
	struct vmc *c;
	char err[1200];
	int rc = 0;

	if (other || argc - optind != 1) {
		warnf("--delete takes SOCKET and -c ID only");
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!(c = vmc_connect(argv[optind], err, sizeof err))) {
		warnf("%s", err);
		return EXIT_VMEXEC;
	}
	proto_init(&m, OP_CTR_DELETE, 0, 0);
	proto_put_str(&m, A_CTR, ctr);
	if (vmc_call(c, &m, NULL, NULL, err, sizeof err) < 0) {
		warnf("%s", err);
		rc = EXIT_VMEXEC;
	}
	proto_free(&m);
	vmc_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	enum { O_RLIMIT = 256, O_CAPS, O_NNP, O_CREATE, O_ROOTFS, O_RO, O_HOST,
	       O_MEM, O_PIDS, O_SPEC, O_DELETE };
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
		{ "spec", required_argument, NULL, O_SPEC },
		{ "delete", no_argument, NULL, O_DELETE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0, 0, 0, 0 }
	};
	/* The options, kept apart until the spec they override is read. */
	struct spec cli, s;
	const char *ctr = "main", *rootfs = NULL, *spec_path = NULL, *addr;
	struct proto_msg pm = { 0 }, cm = { 0 };
	struct vmc_io io = { .fd = { 0, 1, 2 }, .sigfd = -1 };
	struct vmc_exit ex;
	struct vmc *c = NULL;
	struct termios saved, raw;
	int ch, tty = 0, create = 0, raw_mode = 0, del = 0, other = 0;
	int rc = EXIT_VMEXEC, start_errno;
	uint32_t id;
	char err[1200];
	sigset_t fwd;

	setprogname(argv[0]);
	spec_init(&cli);
	spec_init(&s);
	while ((ch = getopt_long(argc, argv, "c:tne:w:u:hV", opts, NULL)) != -1) {
		other |= ch != 'c' && ch != O_DELETE && ch != 'h' && ch != 'V';
		switch (ch) {
		case 'c': ctr = optarg; break;
		case 't': tty = 1; break;
		case 'n': io.fd[0] = -1; break;
		case 'e':
			if (!strchr(optarg, '='))
				die("-e %s: want K=V", optarg);
			spec_setenv(&cli, optarg);
			break;
		case 'w': free(cli.cwd); cli.cwd = xstrdup(optarg); break;
		case 'u': spec_set_user(&cli, optarg); break;
		case O_RLIMIT: set_rlimit(&cli, optarg); break;
		case O_CAPS:
			cli.has_caps = 1;
			cli.caps[SPEC_CAP_BOUNDING] = cli.caps[SPEC_CAP_EFFECTIVE] =
				cli.caps[SPEC_CAP_PERMITTED] = number("--caps", optarg);
			break;
		case O_NNP: cli.nnp = 1; break;
		case O_CREATE: create = 1; break;
		case O_ROOTFS: rootfs = optarg; break;
		case O_RO: cli.readonly = 1; break;
		case O_HOST: free(cli.hostname); cli.hostname = xstrdup(optarg); break;
		case O_MEM: cli.mem = number("--memory", optarg); break;
		case O_PIDS: cli.pids = number("--pids", optarg); break;
		case O_SPEC: spec_path = optarg; create = 1; break;
		case O_DELETE: del = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("vmexec protocol %d\n", PROTO_VERSION); return 0;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (del)
		return delete_ctr(argc, argv, ctr, other);
	if (argc - optind < 1 + !spec_path) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	addr = argv[optind++];
	if (spec_path && spec_load(&s, spec_path, err, sizeof err) < 0) {
		warnf("%s", err);
		goto out;
	}
	/* The command line over the spec. */
	if (argc > optind)
		spec_set_args(&s, argv + optind, (size_t)(argc - optind));
	for (size_t i = 0; i < cli.nenv; i++)
		spec_setenv(&s, cli.env[i]);
	if (cli.cwd)
		free(s.cwd), s.cwd = xstrdup(cli.cwd);
	if (cli.user)
		spec_set_user(&s, cli.user);
	for (size_t i = 0; i < cli.nrlimits; i++)
		spec_set_rlimit(&s, cli.rlimits[i].res, cli.rlimits[i].soft,
				cli.rlimits[i].hard);
	if (cli.has_caps) {
		s.has_caps = 1;
		for (int i = SPEC_CAP_BOUNDING; i <= SPEC_CAP_PERMITTED; i++)
			s.caps[i] = cli.caps[i];
	}
	s.nnp |= cli.nnp;
	s.readonly |= cli.readonly;
	tty |= s.terminal;
	if (cli.hostname)
		free(s.hostname), s.hostname = xstrdup(cli.hostname);
	if (cli.mem)
		s.mem = cli.mem;
	if (cli.pids)
		s.pids = cli.pids;
	/* Host mode shares our filesystem: the bundle's rootfs will do. */
	if (!rootfs)
		rootfs = s.root;
	if (s.nargs == 0 || (create && !rootfs)) {
		warnf("%s", s.nargs == 0 ? "no command: give ARGS or process.args" :
		      "--create needs --rootfs, or a spec with root.path");
		fputs(usage, stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	proto_init(&pm, OP_PROC_CREATE, 0, 0);
	proto_put_str(&pm, A_CTR, ctr);
	spec_proc_attrs(&s, &pm);
	if (!(c = vmc_connect(addr, err, sizeof err)))
		goto fail;
	if (create) {
		proto_init(&cm, OP_CTR_CREATE, 0, 0);
		proto_put_str(&cm, A_CTR, ctr);
		proto_put_str(&cm, A_ROOTFS, rootfs);
		spec_ctr_attrs(&s, &cm);
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
	spec_free(&s);
	spec_free(&cli);
	if (io.sigfd >= 0)
		close(io.sigfd);
	return rc;
}
