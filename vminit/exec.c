/* exec.c: the last steps of every process, in the child, inside the
 * container: stdio or a terminal, rlimits, user, working directory,
 * capabilities, no_new_privs, execve. Each failure names its step. */
#include "vminit.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int fail(char *err, size_t errlen, const char *step)
{
	snprintf(err, errlen, "%s: %s", step, strerror(errno));
	return -1;
}

/* The pty is opened inside the container so its devpts names it; the
 * master goes back to vminit over the start socket. */
static int setup_terminal(struct proc *p, int errsock, char *err, size_t errlen)
{
	struct winsize ws = { .ws_row = (unsigned short)p->spec.rows,
			      .ws_col = (unsigned short)p->spec.cols };
	char cbuf[CMSG_SPACE(sizeof(int))], tag = 'P';
	struct iovec iov = { &tag, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	int unlock = 0, master, slave;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return fail(err, errlen, "open /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return fail(err, errlen, "unlock pty");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return fail(err, errlen, "open pty slave");
	if (ws.ws_row && ws.ws_col)
		ioctl(slave, TIOCSWINSZ, &ws);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof master);
	if (sendmsg(errsock, &mh, MSG_NOSIGNAL) < 0)
		return fail(err, errlen, "send pty master");
	close(master);
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return fail(err, errlen, "set controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return fail(err, errlen, "dup2 pty");
	if (slave > 2)
		close(slave);
	return 0;
}

static int setup_stdio(struct proc *p, char *err, size_t errlen)
{
	int null = -1;

	for (int i = 0; i < STREAM_MAX; i++) {
		int fd = p->stream[i];
		if (fd < 0) {
			if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				return fail(err, errlen, "open /dev/null");
			fd = null;
		}
		if (dup2(fd, i) < 0)
			return fail(err, errlen, "dup2 stdio");
	}
	return 0;
}

static const char *env_get(char **envp, const char *key)
{
	size_t n = strlen(key);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, key, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static void env_default(struct procspec *s, const char *key, const char *val)
{
	if (env_get(s->envp, key))
		return;
	s->envp = xrealloc(s->envp, (s->envc + 2) * sizeof *s->envp);
	s->envp[s->envc++] = xasprintf("%s=%s", key, val);
	s->envp[s->envc] = NULL;
}

/* execvpe with the PATH of the process's own environment. */
static void exec_path(struct procspec *s)
{
	const char *path = env_get(s->envp, "PATH"), *dir;
	int saved = ENOENT;

	if (strchr(s->argv[0], '/')) {
		execve(s->argv[0], s->argv, s->envp);
		return;
	}
	for (dir = path; dir; dir = strchr(dir, ':') ? strchr(dir, ':') + 1 : NULL) {
		size_t n = strcspn(dir, ":");
		char *full = xasprintf("%.*s/%s", (int)n, n ? dir : ".", s->argv[0]);
		execve(full, s->argv, s->envp);
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
		free(full);
	}
	errno = saved;
}

void proc_exec(struct proc *p, int errsock, char *err, size_t errlen)
{
	struct procspec *s = &p->spec;
	struct ids ids = { 0 };
	sigset_t none;

	/* Ignored signals survive exec: whoever started us may have
	 * ignored some (a shell's background job ignores SIGINT). */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0) {
		fail(err, errlen, "setsid");
		return;
	}
	if (s->terminal ? setup_terminal(p, errsock, err, errlen)
			: setup_stdio(p, err, errlen))
		return;
	if (rlimits_apply(s, err, errlen) < 0 ||
	    user_resolve(s, &ids, err, errlen) < 0)
		return;
	env_default(s, "PATH", DEFAULT_PATH);
	env_default(s, "HOME", ids.home ? ids.home : "/");
	if (s->terminal)
		env_default(s, "TERM", "xterm");
	/* The image's WorkingDir may not exist yet: create it, as root. */
	if (mkdir_p(s->cwd, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", s->cwd, strerror(errno));
		return;
	}
	if (s->has_caps && caps_bounding(s, err, errlen) < 0)
		return;
	if (s->has_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		fail(err, errlen, "keep capabilities");
		return;
	}
	if (setgroups(ids.ngroups, ids.groups) < 0) {
		fail(err, errlen, "setgroups");
		return;
	}
	if (setgid(ids.gid) < 0 || setuid(ids.uid) < 0) {
		snprintf(err, errlen, "set user %u:%u: %s", (unsigned)ids.uid,
			 (unsigned)ids.gid, strerror(errno));
		return;
	}
	if (chdir(s->cwd) < 0) {
		snprintf(err, errlen, "chdir %s: %s", s->cwd, strerror(errno));
		return;
	}
	if (s->has_caps && caps_apply(s, err, errlen) < 0)
		return;
	if (s->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fail(err, errlen, "no_new_privs");
		return;
	}
	exec_path(s);
	snprintf(err, errlen, "exec %s: %s", s->argv[0], strerror(errno));
}
