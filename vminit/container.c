/* container.c: a container's rootfs and namespaces. OP_CTR_CREATE mounts
 * the rootfs disk and makes the cgroup; the main process's first child
 * (PID 1 of new mount, PID, UTS and IPC namespaces) builds /proc, /sys,
 * /dev inside it, moves into it, and stays as the reaper (ctr_shim). */
#include "vminit.h"
#include "fsutil.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ID 64
#define MAX_PATHS 128

struct ctr *ctrs;

/* runtime-spec's defaults (config-linux.md), when the request names none. */
static const char *const default_masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	"/sys/devices/virtual/powercap", NULL
};
static const char *const default_ro[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	NULL
};

struct ctr *ctr_find(const char *id)
{
	for (struct ctr *c = ctrs; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

static int valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > MAX_ID || id[0] == '.')
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_.-") == n;
}

static void ctr_free(struct ctr *c)
{
	for (size_t i = 0; i < c->nmasked; i++)
		free(c->masked[i]);
	for (size_t i = 0; i < c->nropaths; i++)
		free(c->ropaths[i]);
	free(c->masked);
	free(c->ropaths);
	free(c->hostname);
	free(c->id);
	free(c->dir);
	free(c->root);
	free(c);
}

void ctr_destroy(struct ctr *c)
{
	struct ctr **pp;

	for (pp = &ctrs; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	cgroup_destroy(&c->cg);
	ctr_free(c);
}

static void push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

int ctr_create(struct req *r)
{
	struct ctr *c = xcalloc(1, sizeof *c);
	struct cgroup_limits lim = { 0 };
	struct proto_iter it;
	struct proto_attr a;
	const char *id = NULL, *dev = NULL, *fstype = "ext4", *s;
	const char *resolv = NULL, *hosts = NULL;
	int ro = 0, rc = -1, mounted = 0, no_masked = 0, no_ro = 0;
	unsigned long flags;
	char err[ERRLEN];
	struct stat st;

	proto_iter_msg(&it, r->msg, r->h.len);
	while (proto_next(&it, &a) > 0) {
		s = proto_get_str(&a);
		switch (a.type) {
		case A_CTR: id = s; break;
		case A_ROOTFS: dev = s; break;
		case A_FSTYPE: if (s) fstype = s; break;
		case A_READONLY: ro = 1; break;
		case A_NO_MASKED: no_masked = 1; break;
		case A_NO_RO_PATHS: no_ro = 1; break;
		case A_HOSTNAME: if (s) { free(c->hostname); c->hostname = xstrdup(s); } break;
		case A_RESOLV_CONF: resolv = s; break;
		case A_HOSTS: hosts = s; break;
		case A_MEM_LIMIT: proto_get_u64(&a, &lim.mem); break;
		case A_PIDS_LIMIT: proto_get_u64(&a, &lim.pids); break;
		case A_CPU_QUOTA: proto_get_u64(&a, &lim.cpu_quota); break;
		case A_CPU_PERIOD: proto_get_u64(&a, &lim.cpu_period); break;
		case A_MASKED:
			if (s && *s == '/' && c->nmasked < MAX_PATHS)
				push(&c->masked, &c->nmasked, s);
			break;
		case A_RO_PATH:
			if (s && *s == '/' && c->nropaths < MAX_PATHS)
				push(&c->ropaths, &c->nropaths, s);
			break;
		default: break;
		}
	}
	if (!id || !valid_id(id)) {
		req_fail(r, EINVAL, "create: missing or bad container id");
		goto out;
	}
	if (ctr_find(id)) {
		req_fail(r, EEXIST, "create %s: container exists", id);
		goto out;
	}
	if (!dev) {
		req_fail(r, EINVAL, "create %s: no rootfs", id);
		goto out;
	}
	tlog("create %s: %s", id, dev);
	c->id = xstrdup(id);
	c->dir = path_join(run_dir, id);
	c->root = path_join(c->dir, "rootfs");
	if (mkdir_p(c->root, 0755) < 0) {
		req_fail(r, errno, "create %s: mkdir %s: %s", id, c->root, strerror(errno));
		goto out;
	}
	/* A block device is mounted; a directory (tests, 9p) is bound. */
	if (stat(dev, &st) < 0) {
		req_fail(r, errno, "create %s: rootfs %s: %s", id, dev, strerror(errno));
		goto out;
	}
	flags = (ro ? MS_RDONLY : 0) | (S_ISDIR(st.st_mode) ? MS_BIND | MS_REC : 0);
	if (mount(dev, c->root, S_ISDIR(st.st_mode) ? NULL : fstype, flags, NULL) < 0 ||
	    (S_ISDIR(st.st_mode) && ro &&
	     mount(NULL, c->root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)) {
		req_fail(r, errno, "create %s: mount %s on %s: %s", id, dev, c->root,
			 strerror(errno));
		goto out;
	}
	mounted = 1;
	tlog("create %s: rootfs mounted", id);
	if ((resolv && write_file_atomic(path_join(c->dir, "resolv.conf"), resolv,
					 strlen(resolv)) < 0) ||
	    (hosts && write_file_atomic(path_join(c->dir, "hosts"), hosts,
					strlen(hosts)) < 0)) {
		req_fail(r, errno, "create %s: write %s: %s", id,
			 resolv ? "resolv.conf" : "hosts", strerror(errno));
		goto out;
	}
	c->has_resolv = resolv != NULL;
	c->has_hosts = hosts != NULL;
	if (c->nmasked == 0 && !no_masked)
		for (size_t i = 0; default_masked[i]; i++)
			push(&c->masked, &c->nmasked, default_masked[i]);
	if (c->nropaths == 0 && !no_ro)
		for (size_t i = 0; default_ro[i]; i++)
			push(&c->ropaths, &c->nropaths, default_ro[i]);
	if (cgroup_create(&c->cg, id, &lim, err, sizeof err) < 0) {
		req_fail(r, errno ? errno : EIO, "create %s: %s", id, err);
		goto out;
	}
	tlog("create %s: cgroup done", id);
	c->next = ctrs;
	ctrs = c;
	c = NULL;
	rc = 0;
out:
	if (c) {
		if (mounted)
			umount2(c->root, MNT_DETACH);
		cgroup_destroy(&c->cg);
		ctr_free(c);
	}
	return rc;
}

/* --- inside the new namespaces ------------------------------------- */

static int step(int ok, char *err, size_t errlen, const char *what, const char *path)
{
	if (ok >= 0)
		return 0;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int mount_at(const char *root, const char *dst, const char *src,
		    const char *type, unsigned long flags, const char *data,
		    char *err, size_t errlen)
{
	char *p = path_join(root, dst);
	int rc;

	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = step(-1, err, errlen, "mkdir", p);
	else
		rc = step(mount(src, p, type, flags, data), err, errlen, "mount", p);
	free(p);
	return rc;
}

static const struct { const char *name; unsigned maj, min; mode_t mode; } devs[] = {
	{ "null", 1, 3, 0666 }, { "zero", 1, 5, 0666 }, { "full", 1, 7, 0666 },
	{ "random", 1, 8, 0666 }, { "urandom", 1, 9, 0666 }, { "tty", 5, 0, 0666 },
};

/* A tmpfs /dev with the runtime-spec's default devices. mknod is not
 * allowed everywhere (a host's device cgroup): bind the node then. */
static int make_dev(const char *root, char *err, size_t errlen)
{
	static const char *const links[][2] = {
		{ "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
	};
	char *dev = path_join(root, "dev"), *p;
	int rc = -1;

	if (mount_at(root, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
		     "mode=755,size=65536k", err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
		p = path_join(dev, devs[i].name);
		if (mknod(p, S_IFCHR | devs[i].mode, makedev(devs[i].maj, devs[i].min)) < 0) {
			char *host = path_join("/dev", devs[i].name);
			int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
			int r = fd < 0 ? -1 : mount(host, p, NULL, MS_BIND, NULL);
			if (fd >= 0)
				close(fd);
			free(host);
			if (step(r, err, errlen, "make device", p) < 0) {
				free(p);
				goto out;
			}
		} else {
			chmod(p, devs[i].mode);
		}
		free(p);
	}
	if (mount_at(dev, "pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5", err, errlen) < 0 ||
	    mount_at(dev, "shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     "mode=1777,size=65536k", err, errlen) < 0 ||
	    mount_at(dev, "mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     NULL, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		p = path_join(dev, links[i][1]);
		if (step(symlink(links[i][0], p), err, errlen, "symlink", p) < 0) {
			free(p);
			goto out;
		}
		free(p);
	}
	rc = 0;
out:
	free(dev);
	return rc;
}

/* Binds a file from the container's run dir over /etc/NAME. */
static int bind_etc(struct ctr *c, const char *name, char *err, size_t errlen)
{
	char *src = path_join(c->dir, name), *etc = path_join(c->root, "etc"),
	     *dst = path_join(etc, name);
	int fd, rc;

	mkdir(etc, 0755);
	if ((fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) >= 0) {
		close(fd);
	} else if (errno == EROFS && access(dst, F_OK) < 0) {
		/* A read-only rootfs without the file has nowhere to bind
		 * it: the container goes without, as it would with no
		 * network given, rather than not at all. */
		tlog("%s: not in the read-only rootfs: left out", dst);
		rc = 0;
		goto out;
	}
	rc = step(mount(src, dst, NULL, MS_BIND, NULL), err, errlen, "bind", dst);
out:
	free(src);
	free(etc);
	free(dst);
	return rc;
}

/* Into the rootfs: pivot_root, or where the old root is the initramfs
 * (which cannot be pivoted away) MS_MOVE and chroot. */
static int enter_root(const char *root, char *err, size_t errlen)
{
	if (chdir(root) < 0)
		return step(-1, err, errlen, "chdir", root);
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return step(-1, err, errlen, "umount", "old root");
	} else if (errno == EINVAL) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return step(-1, err, errlen, "move mount", root);
		if (chroot(".") < 0)
			return step(-1, err, errlen, "chroot", root);
	} else {
		return step(-1, err, errlen, "pivot_root", root);
	}
	return step(chdir("/"), err, errlen, "chdir", "/");
}

static int mask_paths(struct ctr *c, char *err, size_t errlen)
{
	struct stat st;

	for (size_t i = 0; i < c->nmasked; i++) {
		const char *p = c->masked[i];
		if (stat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) ?
		    mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0") < 0 :
		    mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
			return step(-1, err, errlen, "mask", p);
	}
	for (size_t i = 0; i < c->nropaths; i++) {
		const char *p = c->ropaths[i];
		if (stat(p, &st) < 0)
			continue;
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			return step(-1, err, errlen, "read-only", p);
	}
	return 0;
}

int ctr_setup(struct ctr *c, char *err, size_t errlen)
{
	if (step(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), err, errlen,
		 "make private", "/") < 0 ||
	    mount_at(c->root, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     NULL, err, errlen) < 0 ||
	    mount_at(c->root, "sys", "sysfs", "sysfs",
		     MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, err, errlen) < 0 ||
	    make_dev(c->root, err, errlen) < 0 ||
	    (c->has_resolv && bind_etc(c, "resolv.conf", err, errlen) < 0) ||
	    (c->has_hosts && bind_etc(c, "hosts", err, errlen) < 0))
		return -1;
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
		return step(-1, err, errlen, "sethostname", c->hostname);
	if (enter_root(c->root, err, errlen) < 0 || mask_paths(c, err, errlen) < 0)
		return -1;
	return 0;
}

void ctr_shim(pid_t main, int statusfd, int ctlfd)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	sigset_t all;
	int st, msg[2];
	pid_t pid;

	sigfillset(&all);
	pfd[0].fd = signalfd(-1, &all, SFD_CLOEXEC);
	pfd[0].events = POLLIN;
	pfd[1].fd = ctlfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			if (read(ctlfd, msg, sizeof msg) == (ssize_t)sizeof msg)
				kill(msg[1] ? -main : main, msg[0]);
		} else if (pfd[1].revents) {
			pfd[1].fd = -1;	/* vminit went away: keep reaping */
		}
		if (pfd[0].revents & POLLIN)
			if (read(pfd[0].fd, &si, sizeof si) < 0)
				continue;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			if (pid == main) {
				if (write(statusfd, &st, sizeof st) < 0)
					_exit(127);
				_exit(0);
			}
	}
}

int ctr_open_ns(struct ctr *c, int nsfd[NS_MAX], char *err, size_t errlen)
{
	static const char *const names[NS_MAX] = { "ns/pid", "ns/mnt", "ns/uts",
						   "ns/ipc", "root" };

	for (int i = 0; i < NS_MAX; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/%s", (int)c->shim, names[i]);
		nsfd[i] = open(path, O_RDONLY | O_CLOEXEC | (i == NS_ROOT ? O_PATH : 0));
		if (nsfd[i] < 0)
			return step(-1, err, errlen, "open", path);
	}
	return 0;
}

int ctr_enter(const int nsfd[NS_MAX], char *err, size_t errlen)
{
	if (setns(nsfd[NS_UTS], CLONE_NEWUTS) < 0)
		return step(-1, err, errlen, "setns", "uts");
	if (setns(nsfd[NS_IPC], CLONE_NEWIPC) < 0)
		return step(-1, err, errlen, "setns", "ipc");
	/* The root fd was opened before: after setns(mnt) it still names
	 * the container's root, pivoted or chrooted. */
	if (setns(nsfd[NS_MNT], CLONE_NEWNS) < 0)
		return step(-1, err, errlen, "setns", "mnt");
	if (fchdir(nsfd[NS_ROOT]) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return step(-1, err, errlen, "enter root", "of the container");
	return 0;
}
