/* ops.c: the machine-wide operations: mount, hostname, sysctl, time,
 * write a file, binfmt_misc, DNS and hosts files, stats, shutdown. */
#include "vminit.h"
#include "fsutil.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The attributes an operation may carry, gathered once. */
struct args {
	const char *ctr, *source, *target, *fstype, *data, *key, *value, *path;
	const char *binfmt, *reason, *hostname;
	uint64_t flags, time;
	uint32_t mode;
	int has_time, has_mode, reboot;
	char *content;
	size_t clen;
	char **list;		/* A_NAMESERVER, A_SEARCH as "nameserver X" lines */
	size_t nlist;
};

static void gather(struct req *r, struct args *g)
{
	struct proto_iter it;
	struct proto_attr a;
	const char *s;

	proto_iter_msg(&it, r->msg, r->h.len);
	while (proto_next(&it, &a) > 0) {
		s = proto_get_str(&a);
		switch (a.type) {
		case A_CTR: g->ctr = s; break;
		case A_SOURCE: g->source = s; break;
		case A_TARGET: g->target = s; break;
		case A_FSTYPE: g->fstype = s; break;
		case A_DATA: g->data = s; break;
		case A_KEY: g->key = s; break;
		case A_VALUE: g->value = s; break;
		case A_PATH: g->path = s; break;
		case A_BINFMT: g->binfmt = s; break;
		case A_REASON: g->reason = s; break;
		case A_HOSTNAME: g->hostname = s; break;
		case A_MOUNT_FLAGS: proto_get_u64(&a, &g->flags); break;
		case A_TIME: g->has_time = proto_get_u64(&a, &g->time) == 0; break;
		case A_MODE: g->has_mode = proto_get_u32(&a, &g->mode) == 0; break;
		case A_REBOOT: g->reboot = 1; break;
		case A_CONTENT:	/* repeated: the chunks of one file */
			g->content = xrealloc(g->content, g->clen + a.len + 1);
			memcpy(g->content + g->clen, a.data, a.len);
			g->clen += a.len;
			g->content[g->clen] = '\0';
			break;
		case A_NAMESERVER:
		case A_SEARCH:
			if (!s || strchr(s, '\n'))
				break;
			g->list = xrealloc(g->list, (g->nlist + 1) * sizeof *g->list);
			g->list[g->nlist++] = xasprintf("%s %s\n", a.type == A_SEARCH ?
							"search" : "nameserver", s);
			break;
		default: break;
		}
	}
}

#define BINFMT_DIR "/proc/sys/fs/binfmt_misc"
/* CLOCK_REALTIME past this (KTIME_SEC_MAX, year 2262) is refused. */
#define TIME_MAX_NS 9223372036000000000ull

static struct ctr *need_ctr(struct req *r, const struct args *g)
{
	struct ctr *c = ctr_find(g->ctr);

	if (!c)
		req_fail(r, ENOENT, "%s: no container %s", proto_op_name(r->h.type), g->ctr);
	return c;
}

/* An absolute path from a request: NULL (and the request failed) when it
 * is not one or has a ".." component; else the path with its leading and
 * doubled slashes gone ("" for the root). */
static char *relpath(struct req *r, const char *p)
{
	char *out, *w;

	if (!p || *p != '/') {
		req_fail(r, EINVAL, "%s: need an absolute path", proto_op_name(r->h.type));
		return NULL;
	}
	if (p[strspn(p, "/")] && !path_is_contained(p + strspn(p, "/"))) {
		req_fail(r, EINVAL, "%s: %s leaves the container", proto_op_name(r->h.type), p);
		return NULL;
	}
	out = w = xstrdup(p);
	for (; *p; p++)
		if (*p != '/' || (w > out && w[-1] != '/'))
			*w++ = *p;
	while (w > out && w[-1] == '/')
		w--;
	*w = '\0';
	return out;
}

/* A directory inside a container's rootfs, named as the container sees
 * it: symlinks resolve against the rootfs and ".." stops there
 * (RESOLVE_IN_ROOT), so no name leads out. Missing ones are made. An
 * O_PATH fd, or -1 with errno. */
static int dir_walk(int rootfd, const char *rel);

static int dir_in_root(int rootfd, const char *rel)
{
	static int no_openat2;
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	char *parent, *name;
	int fd, pfd, saved;

	if (no_openat2)
		return dir_walk(rootfd, rel);
	fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
	if (fd < 0 && errno == ENOSYS) {
		no_openat2 = 1;
		return dir_walk(rootfd, rel);
	}
	if (fd >= 0 || errno != ENOENT)
		return fd;
	parent = xstrdup(rel);
	name = strrchr(parent, '/');
	if (name)
		*name++ = '\0';
	pfd = name ? dir_in_root(rootfd, parent) : rootfd;
	/* mkdirat never follows a last component that is a symlink. */
	fd = pfd < 0 ? -1 : mkdirat(pfd, name ? name : parent, 0755) < 0 &&
	     errno != EEXIST ? -1 :
	     (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
	saved = errno;
	if (pfd >= 0 && pfd != rootfd)
		close(pfd);
	free(parent);
	errno = saved;
	return fd;
}

/* Without openat2 (before Linux 5.6, or valgrind): one component at a
 * time, a symlink anywhere refused (ENOTDIR) rather than followed. */
static int dir_walk(int rootfd, const char *rel)
{
	char *copy = xstrdup(rel), *comp, *save;
	int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3), next, saved;

	for (comp = strtok_r(copy, "/", &save); comp && fd >= 0;
	     comp = strtok_r(NULL, "/", &save)) {
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && (mkdirat(fd, comp, 0755) == 0 ||
						    errno == EEXIST))
			next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		saved = errno;
		close(fd);
		errno = saved;
		fd = next;
	}
	free(copy);
	return fd;
}

static int root_fd(struct req *r, struct ctr *c)
{
	int fd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		req_fail(r, errno, "%s: open %s: %s", proto_op_name(r->h.type), c->root,
			 strerror(errno));
	return fd;
}

/* Replaces a file atomically in a directory fd: a temporary name beside
 * it, never following a symlink, renamed over the old one. */
static int write_at(int dfd, const char *name, const char *buf, size_t len,
		    int has_mode, uint32_t mode)
{
	char tmp[64];
	int fd, saved;

	snprintf(tmp, sizeof tmp, ".cz-write.%ld", (long)getpid());
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, buf, len) < 0 || (has_mode && fchmod(fd, mode & 07777) < 0) ||
	    fsync(fd) < 0 || close(fd) < 0 || (fd = -1, renameat(dfd, tmp, dfd, name) < 0)) {
		saved = errno;
		if (fd >= 0)
			close(fd);
		unlinkat(dfd, tmp, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Writes path: in the machine, or with A_CTR inside that container's
 * rootfs and never outside it. */
static int put_file(struct req *r, const struct args *g, const char *path,
		    const char *buf, size_t len)
{
	const char *what = proto_op_name(r->h.type);
	char *rel, *dir, *name;
	struct ctr *c;
	int rootfd = -1, dfd = -1, rc = -1;

	if (!g->ctr) {
		if (!path || *path != '/')
			return req_fail(r, EINVAL, "%s: need an absolute path", what);
		dir = xstrdup(path);
		*strrchr(dir, '/') = '\0';
		if ((*dir && mkdir_p(dir, 0755) < 0) ||
		    write_file_atomic(path, buf, len) < 0 ||
		    (g->has_mode && chmod(path, g->mode & 07777) < 0))
			rc = req_fail(r, errno, "%s %s: %s", what, path, strerror(errno));
		else
			rc = 0;
		free(dir);
		return rc;
	}
	if (!(c = need_ctr(r, g)) || !(rel = relpath(r, path)))
		return -1;
	if (!*rel) {
		free(rel);
		return req_fail(r, EISDIR, "%s %s: the root is not a file", what, path);
	}
	name = strrchr(rel, '/');
	dir = name ? rel : "";
	if (name)
		*name++ = '\0';
	else
		name = rel;
	if ((rootfd = root_fd(r, c)) < 0)
		goto out;
	if ((dfd = dir_in_root(rootfd, dir)) < 0 ||
	    write_at(dfd, name, buf, len, g->has_mode, g->mode) < 0) {
		req_fail(r, errno, "%s %s in %s: %s", what, path, c->id, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (dfd >= 0)
		close(dfd);
	if (rootfd >= 0)
		close(rootfd);
	free(rel);
	return rc;
}

static int write_to(struct req *r, const char *path, const char *buf, size_t len,
		    const char *what)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0 || write_all(fd, buf, len) < 0)
		rc = req_fail(r, errno, "%s: write %s: %s", what, path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Mounts on rel inside the root rootfd, through the directory's fd. */
static int mount_in_root(int rootfd, const char *rel, const struct args *g)
{
	int fd = dir_in_root(rootfd, rel), rc, saved;
	char at[64];

	if (fd < 0)
		return -1;
	snprintf(at, sizeof at, "/proc/self/fd/%d", fd);
	rc = mount(g->source ? g->source : "none", at, g->fstype, g->flags, g->data);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* A running container has its own mount namespace: a child enters it
 * (and the container's root), mounts, and exits with the errno. vminit
 * waits: a mount is a short request. */
static int mount_in_running(struct ctr *c, const char *rel, const struct args *g)
{
	int nsfd[NS_MAX] = { -1, -1, -1, -1, -1 }, st, fd, err = 0;
	char ebuf[ERRLEN];
	pid_t pid;

	if (ctr_open_ns(c, nsfd, ebuf, sizeof ebuf) < 0)
		err = errno;
	else if ((pid = fork()) < 0)
		err = errno;
	else if (pid == 0) {
		/* /proc/self is not ours in the container's proc: mount on
		 * the directory as our working directory instead. */
		if (ctr_enter(nsfd, ebuf, sizeof ebuf) < 0 ||
		    (fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    (fd = dir_in_root(fd, rel)) < 0 || fchdir(fd) < 0 ||
		    mount(g->source ? g->source : "none", ".", g->fstype, g->flags,
			  g->data) < 0)
			_exit(errno & 0xff ? errno & 0xff : EIO);
		_exit(0);
	} else if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		err = EIO;
	} else {
		err = WEXITSTATUS(st);
	}
	for (int i = 0; i < NS_MAX; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	errno = err;
	return err ? -1 : 0;
}

static int op_mount(struct req *r, struct args *g)
{
	const char *src = g->source ? g->source : "none";
	char *rel;
	struct ctr *c;
	int rootfd, rc;

	if (!g->ctr) {
		if (!g->target || *g->target != '/')
			return req_fail(r, EINVAL, "mount: need an absolute path");
		if (mkdir_p(g->target, 0755) < 0 ||
		    mount(src, g->target, g->fstype, g->flags, g->data) < 0)
			return req_fail(r, errno, "mount %s on %s: %s", src, g->target,
					strerror(errno));
		return 0;
	}
	if (!(c = need_ctr(r, g)) || !(rel = relpath(r, g->target)))
		return -1;
	/* Before the start, in our namespace: the container's copies it. */
	if (c->shim)
		rc = mount_in_running(c, rel, g);
	else if ((rootfd = root_fd(r, c)) < 0)
		rc = -2;
	else {
		rc = mount_in_root(rootfd, rel, g);
		close(rootfd);
	}
	if (rc == -1)
		req_fail(r, errno, "mount %s on %s in %s: %s", src, g->target, c->id,
			 strerror(errno));
	free(rel);
	return rc < 0 ? -1 : 0;
}

static int op_write(struct req *r, struct args *g)
{
	return put_file(r, g, g->path, g->content ? g->content : "", g->clen);
}

/* Runs fn in a running container's UTS and IPC namespaces (where the
 * hostname and the IPC sysctls live), or on a container not started yet
 * not at all (1). vminit is single-threaded: it may step in and back. */
static int in_ctr_ns(struct req *r, struct ctr *c, int (*fn)(struct req *, struct args *),
		     struct args *g)
{
	static const char *const ns[] = { "uts", "ipc" };
	static const int type[] = { CLONE_NEWUTS, CLONE_NEWIPC };
	int self[2] = { -1, -1 }, theirs[2] = { -1, -1 }, rc = -1, i;
	char path[64];

	if (!c->shim)
		return 1;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
		self[i] = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)c->shim, ns[i]);
		theirs[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (self[i] < 0 || theirs[i] < 0) {
			req_fail(r, errno, "%s %s: namespace %s: %s", proto_op_name(r->h.type),
				 c->id, ns[i], strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < 2; i++)
		if (setns(theirs[i], type[i]) < 0)
			break;
	if (i == 2)
		rc = fn(r, g);
	else
		req_fail(r, errno, "%s %s: setns %s: %s", proto_op_name(r->h.type), c->id,
			 ns[i], strerror(errno));
	while (i-- > 0)
		if (setns(self[i], type[i]) < 0)
			vminit_shutdown(0, "setns back to our own namespaces failed");
out:
	for (i = 0; i < 2; i++) {
		if (self[i] >= 0) close(self[i]);
		if (theirs[i] >= 0) close(theirs[i]);
	}
	return rc;
}

static int set_hostname(struct req *r, struct args *g)
{
	if (sethostname(g->hostname, strlen(g->hostname)) < 0)
		return req_fail(r, errno, "hostname %s: %s", g->hostname, strerror(errno));
	return 0;
}

static int op_hostname(struct req *r, struct args *g)
{
	struct ctr *c;
	int rc;

	if (!g->hostname)
		return req_fail(r, EINVAL, "hostname: none given");
	if (strlen(g->hostname) > 64)
		return req_fail(r, EINVAL, "hostname %s: longer than 64 bytes", g->hostname);
	if (!g->ctr)
		return set_hostname(r, g);
	if (!(c = need_ctr(r, g)))
		return -1;
	/* Kept for a container that starts later (or again). */
	if ((rc = in_ctr_ns(r, c, set_hostname, g)) >= 0) {
		free(c->hostname);
		c->hostname = xstrdup(g->hostname);
	}
	return rc < 0 ? -1 : 0;
}

static int write_sysctl(struct req *r, struct args *g)
{
	char *name = xstrdup(g->key), *path;
	int rc;

	/* sysctl(8): dots separate, unless the name has slashes ("eth0.1"). */
	if (!strchr(name, '/'))
		for (char *c = name; *c; c++)
			if (*c == '.')
				*c = '/';
	path = path_join("/proc/sys", name);
	rc = write_to(r, path, g->value, strlen(g->value), "sysctl");
	free(path);
	free(name);
	return rc;
}

/* With A_CTR, in the container's UTS and IPC namespaces (kernel.hostname,
 * kernel.shm*, kernel.msg*, fs.mqueue.*); the network namespace is the
 * machine's, shared by the containers. */
static int op_sysctl(struct req *r, struct args *g)
{
	struct ctr *c;

	if (!g->key || !g->value || !path_is_contained(g->key))
		return req_fail(r, EINVAL, "sysctl: need a key and a value");
	if (!g->ctr)
		return write_sysctl(r, g);
	if (!(c = need_ctr(r, g)))
		return -1;
	if (!c->shim)
		return req_fail(r, ESRCH, "sysctl %s: container %s not running", g->key, c->id);
	return in_ctr_ns(r, c, write_sysctl, g);
}

/* binfmt_misc is mounted on first use. It belongs to the user namespace
 * (vminit's, which the containers share); an interpreter a container is to
 * use needs the F flag, opened here, in the machine. */
static int op_binfmt(struct req *r, struct args *g)
{
	if (!g->binfmt || !*g->binfmt)
		return req_fail(r, EINVAL, "binfmt: no registration");
	if (access(BINFMT_DIR "/register", F_OK) < 0 &&
	    mount("binfmt_misc", BINFMT_DIR, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return req_fail(r, errno, "binfmt: mount %s: %s", BINFMT_DIR, strerror(errno));
	return write_to(r, BINFMT_DIR "/register", g->binfmt, strlen(g->binfmt), "binfmt");
}

static int op_time(struct req *r, struct args *g)
{
	struct timespec ts;

	if (!g->has_time)
		return req_fail(r, EINVAL, "time: none given");
	if (g->time == 0 || g->time > TIME_MAX_NS)
		return req_fail(r, EINVAL, "time: %llu ns is out of range",
				(unsigned long long)g->time);
	ts.tv_sec = (time_t)(g->time / 1000000000u);
	ts.tv_nsec = (long)(g->time % 1000000000u);
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return req_fail(r, errno, "time: %s", strerror(errno));
	return 0;
}

static int op_dns(struct req *r, struct args *g)
{
	char *buf = xstrdup("");
	int rc;

	for (size_t i = 0; i < g->nlist; i++) {
		char *n = xasprintf("%s%s", buf, g->list[i]);
		free(buf);
		buf = n;
	}
	rc = put_file(r, g, "/etc/resolv.conf", buf, strlen(buf));
	free(buf);
	return rc;
}

static int op_stats(struct req *r, struct args *g)
{
	struct ctr *c = g->ctr ? ctr_find(g->ctr) : NULL;

	if (!c)
		return req_fail(r, ENOENT, "stats: no container %s", g->ctr ? g->ctr : "named");
	cgroup_stats(&c->cg, &r->reply);
	return 0;
}

int ops_dispatch(struct req *r)
{
	struct args g = { 0 };
	int rc;

	gather(r, &g);
	switch (r->h.type) {
	case OP_MOUNT:
		rc = op_mount(r, &g);
		break;
	case OP_WRITE_FILE:
		rc = op_write(r, &g);
		break;
	case OP_HOSTNAME:
		rc = op_hostname(r, &g);
		break;
	case OP_SYSCTL:
		rc = op_sysctl(r, &g);
		break;
	case OP_SET_TIME:
		rc = op_time(r, &g);
		break;
	case OP_BINFMT:
		rc = op_binfmt(r, &g);
		break;
	case OP_DNS:
		rc = op_dns(r, &g);
		break;
	case OP_HOSTS:
		g.path = "/etc/hosts";
		rc = op_write(r, &g);
		break;
	case OP_STATS:
		rc = op_stats(r, &g);
		break;
	case OP_SHUTDOWN:
		/* Answered first: the host learns it was heard before the
		 * link goes (in host mode vminit simply exits). */
		conn_send_to(conn_serial(r->c), &r->reply);
		vminit_shutdown(g.reboot, g.reason ? g.reason : "requested");
	case OP_NET_LINK:
	case OP_NET_ADDR:
	case OP_NET_ROUTE:
		rc = net_op(r);
		break;
	default:
		rc = req_fail(r, ENOSYS, "unknown operation %u", r->h.type);
		break;
	}
	for (size_t i = 0; i < g.nlist; i++)
		free(g.list[i]);
	free(g.list);
	free(g.content);
	return rc;
}
