/* process.c: a process's life: described (OP_PROC_CREATE), its streams
 * attached (HELLO on each stream connection), started (OP_PROC_START,
 * answered when it has exec'd or failed), signalled, waited for.
 * In pipe mode the stream connections themselves are the process's fds
 * 0, 1, 2; with a terminal vminit relays them to the pty master. */
#include "vminit.h"
#include "err.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_ARGS 4096

struct proc *procs;
static uint32_t next_id = 1;

struct proc *proc_find(uint32_t id)
{
	for (struct proc *p = procs; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static void strv_push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

void procspec_free(struct procspec *s)
{
	for (size_t i = 0; i < s->argc; i++)
		free(s->argv[i]);
	for (size_t i = 0; i < s->envc; i++)
		free(s->envp[i]);
	free(s->argv);
	free(s->envp);
	free(s->cwd);
	free(s->user);
	free(s->groups);
	free(s->rlimits);
}

static int parse_rlimit(struct req *r, const struct proto_attr *a, struct rlim *out)
{
	struct proto_iter it;
	struct proto_attr n;
	int have = 0;

	proto_iter_init(&it, a->data, a->len);
	while (proto_next(&it, &n) > 0) {
		if (n.type == A_RLIMIT_RES && proto_get_u32(&n, &out->res) == 0)
			have |= 1;
		else if (n.type == A_RLIMIT_SOFT && proto_get_u64(&n, &out->soft) == 0)
			have |= 2;
		else if (n.type == A_RLIMIT_HARD && proto_get_u64(&n, &out->hard) == 0)
			have |= 4;
	}
	return have == 7 ? 0 : req_fail(r, EINVAL, "process: incomplete rlimit");
}

/* Attributes to a procspec; unknown ones are skipped. */
static int parse_spec(struct req *r, struct procspec *s, const char **ctr)
{
	struct proto_iter it;
	struct proto_attr a;
	const char *str;
	uint32_t v;
	uint64_t *cap;

	proto_iter_msg(&it, r->msg, r->h.len);
	while (proto_next(&it, &a) > 0) {
		str = proto_get_str(&a);
		cap = NULL;
		switch (a.type) {
		case A_CTR: if (!str) goto bad; *ctr = str; break;
		case A_ARG:
			if (!str || s->argc >= MAX_ARGS) goto bad;
			strv_push(&s->argv, &s->argc, str);
			break;
		case A_ENV:
			if (!str || !strchr(str, '=') || s->envc >= MAX_ARGS) goto bad;
			strv_push(&s->envp, &s->envc, str);
			break;
		case A_CWD: if (!str || *str != '/') goto bad; free(s->cwd); s->cwd = xstrdup(str); break;
		case A_USER: if (!str) goto bad; free(s->user); s->user = xstrdup(str); break;
		case A_UID: if (proto_get_u32(&a, &s->uid)) goto bad; s->has_uid = 1; break;
		case A_GID: if (proto_get_u32(&a, &s->gid)) goto bad; break;
		case A_GROUP:
			if (proto_get_u32(&a, &v) || s->ngroups >= 256) goto bad;
			s->groups = xrealloc(s->groups, (s->ngroups + 1) * sizeof *s->groups);
			s->groups[s->ngroups++] = v;
			break;
		case A_RLIMIT:
			if (!a.nested || s->nrlimits >= 64) goto bad;
			s->rlimits = xrealloc(s->rlimits, (s->nrlimits + 1) * sizeof *s->rlimits);
			if (parse_rlimit(r, &a, &s->rlimits[s->nrlimits]) < 0)
				return -1;
			s->nrlimits++;
			break;
		case A_CAP_BOUNDING: cap = &s->cap_bnd; break;
		case A_CAP_EFFECTIVE: cap = &s->cap_eff; break;
		case A_CAP_PERMITTED: cap = &s->cap_prm; break;
		case A_CAP_INHERITABLE: cap = &s->cap_inh; break;
		case A_CAP_AMBIENT: cap = &s->cap_amb; break;
		case A_NO_NEW_PRIVS: s->nnp = 1; break;
		case A_TERMINAL: s->terminal = 1; break;
		case A_ROWS: if (proto_get_u32(&a, &s->rows)) goto bad; break;
		case A_COLS: if (proto_get_u32(&a, &s->cols)) goto bad; break;
		case A_STDIO: if (proto_get_u32(&a, &s->stdio)) goto bad; break;
		default: break;
		}
		if (cap) {
			if (proto_get_u64(&a, cap)) goto bad;
			s->has_caps = 1;
		}
	}
	if (s->argc == 0)
		return req_fail(r, EINVAL, "process: no arguments");
	if (!s->cwd)
		s->cwd = xstrdup("/");
	s->stdio &= s->terminal ? 3 : 7;
	return 0;
bad:
	return req_fail(r, EINVAL, "process: bad attribute %u", a.type);
}

int proc_create(struct req *r)
{
	struct proc *p = xcalloc(1, sizeof *p);
	const char *id = NULL;
	struct ctr *c;

	if (parse_spec(r, &p->spec, &id) < 0)
		goto fail;
	if (!id || !(c = ctr_find(id))) {
		req_fail(r, ENOENT, "process: no container %s", id ? id : "named");
		goto fail;
	}
	if (c->deleting) {
		req_fail(r, ESRCH, "process: container %s is being deleted", id);
		goto fail;
	}
	p->id = next_id++;
	p->ctr = c;
	p->main = c->main == NULL;
	if (p->main)
		c->main = p;
	p->stream[0] = p->stream[1] = p->stream[2] = -1;
	p->master = p->statusfd = p->ctlfd = -1;
	p->errw.fd = -1;
	p->next = procs;
	procs = p;
	proto_put_u32(&r->reply, A_PROC, p->id);
	return 0;
fail:
	procspec_free(&p->spec);
	free(p);
	return -1;
}

int proc_attach(uint32_t id, uint32_t stream, int fd, char *err, size_t errlen)
{
	struct proc *p = proc_find(id);
	int fl;

	if (!p || p->state != P_CREATED) {
		snprintf(err, errlen, "no process %u waiting for its streams", id);
		errno = ENOENT;
		return -1;
	}
	if (stream >= STREAM_MAX || !(p->spec.stdio & (1u << stream)) ||
	    p->stream[stream] >= 0) {
		snprintf(err, errlen, "process %u: stream %u not expected", id, stream);
		errno = EINVAL;
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	p->stream[stream] = fd;
	return 0;
}

static void proc_free(struct proc *p)
{
	struct proc **pp;

	for (pp = &procs; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	if (p->ctr->main == p)
		p->ctr->main = NULL, p->ctr->shim = 0;
	for (int i = 0; i < STREAM_MAX; i++)
		if (p->stream[i] >= 0)
			close(p->stream[i]);
	relay_free(p->rin);
	relay_free(p->rout);
	if (p->master >= 0)
		close(p->master);
	procspec_free(&p->spec);
	free(p->waiters);
	ev_free_later(p);
}

/* Removes a process once nothing more can be said about it. */
static void proc_maybe_free(struct proc *p)
{
	if (p->state == P_EXITED && p->start_done && p->waited)
		proc_free(p);
}

/* Started and not yet reaped, or its start not yet answered. */
static int proc_live(const struct proc *p)
{
	return p->state == P_STARTING || p->state == P_RUNNING ||
	       (p->state == P_EXITED && !p->start_done);
}

int proc_ctr_live(const struct ctr *c)
{
	int n = 0;

	for (struct proc *p = procs; p; p = p->next)
		n += p->ctr == c && proc_live(p);
	return n;
}

void proc_ctr_kill(const struct ctr *c)
{
	/* The shim is PID 1 of the container's namespace: its death takes
	 * every process in there with it. */
	for (struct proc *p = procs; p; p = p->next)
		if (p->ctr == c && p->pid > 0 &&
		    (p->state == P_STARTING || p->state == P_RUNNING))
			kill(p->pid, SIGKILL);
}

void proc_ctr_forget(struct ctr *c)
{
	struct proc *p, *next;

	for (p = procs; p; p = next) {
		next = p->next;
		if (p->ctr != c)
			continue;
		for (size_t i = 0; i < p->nwaiters; i++)
			reply_error_to(p->waiters[i].conn, OP_WAIT, p->waiters[i].req,
				       ESRCH, "wait: container deleted");
		proc_free(p);
	}
}

static void exit_attrs(struct proc *p, struct proto_msg *m)
{
	int st = p->wstatus;

	if (WIFSIGNALED(st)) {
		proto_put_u32(m, A_EXIT_CODE, 128u + (uint32_t)WTERMSIG(st));
		proto_put_u32(m, A_EXIT_SIGNAL, (uint32_t)WTERMSIG(st));
		if (WCOREDUMP(st))
			proto_put_flag(m, A_CORE);
	} else {
		proto_put_u32(m, A_EXIT_CODE, (uint32_t)WEXITSTATUS(st));
	}
	if (p->oom)
		proto_put_flag(m, A_OOM);
	proto_put_u64(m, A_EXIT_TIME, p->exit_time);
}

/* --- start --------------------------------------------------------- */

/* "E", the errno as 4 bytes, the message naming the step. */
static void send_err(int sock, const char *msg)
{
	char buf[ERRLEN + 5];
	size_t n = strnlen(msg, ERRLEN);
	int e = errno ? errno : EIO;

	buf[0] = 'E';
	memcpy(buf + 1, &e, 4);
	memcpy(buf + 5, msg, n);
	send(sock, buf, n + 5, MSG_NOSIGNAL);
}

/* The first child: PID 1 of the new namespaces. Sets up the container,
 * forks the main process, and stays as its reaper. */
static _Noreturn void main_child(struct proc *p, int errsock, int statusfd, int ctlfd)
{
	char err[ERRLEN];
	pid_t m;

	if (cgroup_join(&p->ctr->cg, err, sizeof err) < 0 ||
	    ctr_setup(p->ctr, err, sizeof err) < 0)
		goto fail;
	m = fork();
	if (m < 0) {
		snprintf(err, sizeof err, "fork: %s", strerror(errno));
		goto fail;
	}
	if (m == 0) {
		close(statusfd);
		close(ctlfd);
		proc_exec(p, errsock, err, sizeof err);
		goto fail;
	}
	close(errsock);
	for (int i = 0; i < STREAM_MAX; i++)
		if (p->stream[i] >= 0)
			close(p->stream[i]);
	ctr_shim(m, statusfd, ctlfd);
fail:
	send_err(errsock, err);
	_exit(127);
}

/* A further process: enters the running container. */
static _Noreturn void exec_child(struct proc *p, int errsock, const int nsfd[NS_MAX])
{
	char err[ERRLEN];

	if (cgroup_join(&p->ctr->cg, err, sizeof err) == 0 &&
	    ctr_enter(nsfd, err, sizeof err) == 0)
		proc_exec(p, errsock, err, sizeof err);
	send_err(errsock, err);
	_exit(127);
}

static void on_start_msg(struct watch *w, uint32_t events);

int proc_start(struct req *r)
{
	struct proto_iter it;
	struct proto_attr a;
	struct proc *p = NULL;
	uint32_t id;
	int sv[2] = { -1, -1 }, st[2] = { -1, -1 }, ct[2] = { -1, -1 };
	int nsfd[NS_MAX] = { -1, -1, -1, -1, -1 }, selfns = -1, rc = -1;
	char err[ERRLEN];
	pid_t pid;

	proto_iter_msg(&it, r->msg, r->h.len);
	while (proto_next(&it, &a) > 0)
		if (a.type == A_PROC && proto_get_u32(&a, &id) == 0)
			p = proc_find(id);
	if (!p || p->state != P_CREATED)
		return req_fail(r, ENOENT, "start: no such process waiting to start");
	for (int i = 0; i < STREAM_MAX; i++)
		if ((p->spec.stdio & (1u << i)) && p->stream[i] < 0)
			return req_fail(r, ENOTCONN, "start %s/%u: stream %d not connected",
					p->ctr->id, p->id, i);
	if (p->ctr->deleting)
		return req_fail(r, ESRCH, "start %s/%u: container being deleted",
				p->ctr->id, p->id);
	if (!p->main && !p->ctr->shim)
		return req_fail(r, ESRCH, "start %s/%u: container not running",
				p->ctr->id, p->id);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return req_fail(r, errno, "start %s/%u: socketpair: %s", p->ctr->id,
				p->id, strerror(errno));
	p->oom_before = cgroup_oom_kills(&p->ctr->cg);
	tlog("start %s/%u: %s", p->ctr->id, p->id, p->spec.argv[0]);
	if (p->main) {
		if (pipe2(st, O_CLOEXEC) < 0 || pipe2(ct, O_CLOEXEC) < 0) {
			req_fail(r, errno, "start %s/%u: pipe: %s", p->ctr->id, p->id,
				 strerror(errno));
			goto out;
		}
		pid = (pid_t)syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID |
				     CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, 0, 0, 0, 0);
		if (pid == 0) {
			int keep[] = { sv[1], st[1], ct[0], p->stream[0],
				       p->stream[1], p->stream[2] };
			close_except(keep, 6);
			main_child(p, sv[1], st[1], ct[0]);
		}
	} else {
		/* setns(CLONE_NEWPID) applies to our next child only: it is
		 * born in the container and is still ours to wait for. */
		if (ctr_open_ns(p->ctr, nsfd, err, sizeof err) < 0 ||
		    (selfns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0 ||
		    setns(nsfd[NS_PID], CLONE_NEWPID) < 0) {
			req_fail(r, errno, "start %s/%u: %s", p->ctr->id, p->id,
				 selfns < 0 && nsfd[NS_PID] >= 0 ? "open own pid namespace" :
				 err);
			goto out;
		}
		pid = fork();
		if (pid == 0) {
			int keep[] = { sv[1], p->stream[0], p->stream[1], p->stream[2],
				       nsfd[0], nsfd[1], nsfd[2], nsfd[3], nsfd[4] };
			close_except(keep, 9);
			exec_child(p, sv[1], nsfd);
		}
		if (setns(selfns, CLONE_NEWPID) < 0)
			vminit_shutdown(0, "setns back to our pid namespace failed");
	}
	if (pid < 0) {
		req_fail(r, errno, "start %s/%u: clone: %s", p->ctr->id, p->id,
			 strerror(errno));
		goto out;
	}
	p->pid = pid;
	if (p->main) {
		p->ctr->shim = pid;
		p->statusfd = st[0], st[0] = -1;
		p->ctlfd = ct[1], ct[1] = -1;
	}
	/* In pipe mode the process holds its streams now; stdin stays
	 * for OP_CLOSE_STDIN. */
	if (!p->spec.terminal)
		for (int i = STREAM_STDOUT; i < STREAM_MAX; i++)
			if (p->stream[i] >= 0)
				close(p->stream[i]), p->stream[i] = -1;
	p->errw = (struct watch){ .fd = sv[0], .cb = on_start_msg, .owner = p };
	sv[0] = -1;
	ev_add(&p->errw, EPOLLIN);
	p->state = P_STARTING;
	p->start_conn = conn_serial(r->c);
	p->start_req = r->h.id;
	rc = 1;
out:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0) close(sv[i]);
		if (st[i] >= 0) close(st[i]);
		if (ct[i] >= 0) close(ct[i]);
	}
	for (int i = 0; i < NS_MAX; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	if (selfns >= 0)
		close(selfns);
	return rc;
}

static void start_terminal(struct proc *p)
{
	int dup_master = fcntl(p->master, F_DUPFD_CLOEXEC, 3);

	p->rout = relay_new(p->master, p->stream[STREAM_STDOUT], 1);
	p->stream[STREAM_STDOUT] = -1;
	p->master = dup_master;
	if (p->stream[STREAM_STDIN] >= 0) {
		p->rin = relay_new(p->stream[STREAM_STDIN],
				   fcntl(dup_master, F_DUPFD_CLOEXEC, 3), 0);
		p->stream[STREAM_STDIN] = -1;
	}
}

/* The start socket: a pty master (with "P"), an error ("E..."), or EOF
 * once the process has exec'd. */
static void on_start_msg(struct watch *w, uint32_t events)
{
	struct proc *p = w->owner;
	char buf[ERRLEN + 8], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof buf - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm;
	struct proto_msg m = { 0 };
	ssize_t n;

	(void)events;
	n = recvmsg(w->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
				int fd;
				memcpy(&fd, CMSG_DATA(cm), sizeof fd);
				if (p->master < 0 && buf[0] == 'P')
					p->master = fd;
				else
					close(fd);
			}
		if (buf[0] == 'E' && p->errlen == 0 && n >= 5) {
			buf[n] = '\0';
			memcpy(&p->errnum, buf + 1, 4);
			p->errlen = (size_t)snprintf(p->errbuf, sizeof p->errbuf,
						     "start %s/%u: %s", p->ctr->id,
						     p->id, buf + 5);
		}
		return;
	}
	ev_del(w);
	close(w->fd);
	w->fd = -1;
	p->start_done = 1;
	if (p->errlen) {
		tlog("%s", p->errbuf);
		reply_error_to(p->start_conn, OP_PROC_START, p->start_req,
			       p->errnum > 0 ? p->errnum : EIO, p->errbuf);
	} else {
		if (p->spec.terminal && p->master >= 0)
			start_terminal(p);
		tlog("started %s/%u pid %d", p->ctr->id, p->id, (int)p->pid);
		proto_init(&m, OP_PROC_START, PROTO_F_REPLY, p->start_req);
		proto_put_u32(&m, A_PID, (uint32_t)p->pid);
		conn_send_to(p->start_conn, &m);
		proto_free(&m);
	}
	if (p->state == P_STARTING)
		p->state = P_RUNNING;
	proc_maybe_free(p);
}

/* --- after start --------------------------------------------------- */

static struct proc *req_proc(struct req *r, int *sig, int *group, struct winsize *ws)
{
	struct proto_iter it;
	struct proto_attr a;
	struct proc *p = NULL;
	uint32_t v;

	proto_iter_msg(&it, r->msg, r->h.len);
	while (proto_next(&it, &a) > 0) {
		if (a.type == A_PROC && proto_get_u32(&a, &v) == 0)
			p = proc_find(v);
		else if (a.type == A_SIGNAL && sig && proto_get_u32(&a, &v) == 0)
			*sig = (int)v;
		else if (a.type == A_PGROUP && group)
			*group = 1;
		else if (a.type == A_ROWS && ws && proto_get_u32(&a, &v) == 0)
			ws->ws_row = (unsigned short)v;
		else if (a.type == A_COLS && ws && proto_get_u32(&a, &v) == 0)
			ws->ws_col = (unsigned short)v;
	}
	if (!p)
		req_fail(r, ESRCH, "%s: no such process", proto_op_name(r->h.type));
	return p;
}

int proc_kill(struct req *r)
{
	int sig = SIGTERM, group = 0, msg[2];
	struct proc *p = req_proc(r, &sig, &group, NULL);

	if (!p)
		return -1;
	if (sig <= 0 || sig >= 65)
		return req_fail(r, EINVAL, "kill: bad signal %d", sig);
	if (p->state == P_CREATED || p->state == P_EXITED)
		return req_fail(r, ESRCH, "kill %s/%u: not running", p->ctr->id, p->id);
	if (p->main) {
		/* Only the shim knows main's pid in its namespace. */
		msg[0] = sig, msg[1] = group;
		if (write(p->ctlfd, msg, sizeof msg) != (ssize_t)sizeof msg)
			return req_fail(r, errno, "kill %s/%u: %s", p->ctr->id, p->id,
					strerror(errno));
	} else if (kill(group ? -p->pid : p->pid, sig) < 0) {
		return req_fail(r, errno, "kill %s/%u: %s", p->ctr->id, p->id,
				strerror(errno));
	}
	return 0;
}

int proc_wait(struct req *r)
{
	struct proc *p = req_proc(r, NULL, NULL, NULL);

	if (!p)
		return -1;
	if (p->state == P_EXITED) {
		exit_attrs(p, &r->reply);
		p->waited = 1;
		proc_maybe_free(p);
		return 0;
	}
	p->waiters = xgrow(p->waiters, &p->capwaiters, p->nwaiters + 1,
			   sizeof *p->waiters);
	p->waiters[p->nwaiters++] = (struct waiter){ conn_serial(r->c), r->h.id };
	return 1;
}

int proc_resize(struct req *r)
{
	struct winsize ws = { 0 };
	struct proc *p = req_proc(r, NULL, NULL, &ws);

	if (!p)
		return -1;
	if (p->master < 0)
		return req_fail(r, ENOTTY, "resize %s/%u: no terminal", p->ctr->id, p->id);
	if (ioctl(p->master, TIOCSWINSZ, &ws) < 0)
		return req_fail(r, errno, "resize %s/%u: %s", p->ctr->id, p->id,
				strerror(errno));
	return 0;
}

int proc_close_stdin(struct req *r)
{
	struct proc *p = req_proc(r, NULL, NULL, NULL);
	struct termios t;

	if (!p)
		return -1;
	if (p->master >= 0) {
		/* A terminal has no end of input but the EOF character. */
		char eof = 4;
		if (tcgetattr(p->master, &t) == 0)
			eof = (char)t.c_cc[VEOF];
		if (p->rin)
			relay_stop(p->rin);
		if (write(p->master, &eof, 1) < 0)
			return req_fail(r, errno, "close-stdin: %s", strerror(errno));
	} else if (p->stream[STREAM_STDIN] >= 0) {
		shutdown(p->stream[STREAM_STDIN], SHUT_RD);
		close(p->stream[STREAM_STDIN]);
		p->stream[STREAM_STDIN] = -1;
	}
	return 0;
}

int proc_reaped(pid_t pid, int wstatus)
{
	struct proc *p;
	struct proto_msg m = { 0 };
	int st;

	for (p = procs; p && !(p->pid == pid && p->state != P_EXITED); p = p->next)
		;
	if (!p)
		return 0;
	if (p->main) {
		/* The shim wrote main's own status before it exited. */
		if (read(p->statusfd, &st, sizeof st) == (ssize_t)sizeof st)
			wstatus = st;
		close(p->statusfd);
		close(p->ctlfd);
		p->statusfd = p->ctlfd = -1;
		p->ctr->shim = 0;
	}
	p->wstatus = wstatus;
	p->exit_time = now_ns(CLOCK_REALTIME);
	p->oom = WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL &&
		 cgroup_oom_kills(&p->ctr->cg) > p->oom_before;
	p->state = P_EXITED;
	tlog("exit %s/%u: status 0x%x%s", p->ctr->id, p->id, wstatus,
	     p->oom ? " (oom)" : "");
	if (p->stream[STREAM_STDIN] >= 0)
		close(p->stream[STREAM_STDIN]), p->stream[STREAM_STDIN] = -1;
	if (p->rin)
		relay_stop(p->rin);
	for (size_t i = 0; i < p->nwaiters; i++) {
		proto_init(&m, OP_WAIT, PROTO_F_REPLY, p->waiters[i].req);
		exit_attrs(p, &m);
		conn_send_to(p->waiters[i].conn, &m);
		p->waited = 1;
	}
	p->nwaiters = 0;
	proto_free(&m);
	proc_maybe_free(p);
	return 1;
}
