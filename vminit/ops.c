/* ops.c: the machine-wide operations: mount, hostname, sysctl, time,
 * write a file, binfmt_misc, DNS and hosts files, stats, shutdown. */
#include "vminit.h"
#include "fsutil.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

/* A path in the machine, or inside a container's rootfs when A_CTR is
 * given; never outside it. */
static char *resolve(struct req *r, const struct args *g, const char *p)
{
	struct ctr *c;

	if (!p || *p != '/') {
		req_fail(r, EINVAL, "%s: need an absolute path", proto_op_name(r->h.type));
		return NULL;
	}
	if (!g->ctr)
		return xstrdup(p);
	if (!(c = ctr_find(g->ctr))) {
		req_fail(r, ENOENT, "%s: no container %s", proto_op_name(r->h.type), g->ctr);
		return NULL;
	}
	if (!path_is_contained(p + 1) && p[1]) {
		req_fail(r, EINVAL, "%s: %s leaves the container", proto_op_name(r->h.type), p);
		return NULL;
	}
	return path_join(c->root, p);
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

static int op_mount(struct req *r, struct args *g)
{
	char *t = resolve(r, g, g->target);
	int rc = 0;

	if (!t)
		return -1;
	if (mkdir_p(t, 0755) < 0 ||
	    mount(g->source ? g->source : "none", t, g->fstype, g->flags, g->data) < 0)
		rc = req_fail(r, errno, "mount %s on %s: %s", g->source ? g->source : "none",
			      t, strerror(errno));
	free(t);
	return rc;
}

static int op_write(struct req *r, struct args *g)
{
	char *p = resolve(r, g, g->path), *dir;
	int rc = 0;

	if (!p)
		return -1;
	dir = xstrdup(p);
	*strrchr(dir, '/') = '\0';
	if ((*dir && mkdir_p(dir, 0755) < 0) ||
	    write_file_atomic(p, g->content ? g->content : "", g->clen) < 0 ||
	    (g->has_mode && chmod(p, g->mode & 07777) < 0))
		rc = req_fail(r, errno, "write %s: %s", p, strerror(errno));
	free(dir);
	free(p);
	return rc;
}

static int op_sysctl(struct req *r, struct args *g)
{
	char *name, *path;
	int rc;

	if (!g->key || !g->value || !path_is_contained(g->key))
		return req_fail(r, EINVAL, "sysctl: need a key and a value");
	name = xstrdup(g->key);
	for (char *c = name; *c; c++)
		if (*c == '.')
			*c = '/';
	path = path_join("/proc/sys", name);
	rc = write_to(r, path, g->value, strlen(g->value), "sysctl");
	free(path);
	free(name);
	return rc;
}

static int op_dns(struct req *r, struct args *g)
{
	char *p, *buf = xstrdup("");
	int rc = 0;

	for (size_t i = 0; i < g->nlist; i++) {
		char *n = xasprintf("%s%s", buf, g->list[i]);
		free(buf);
		buf = n;
	}
	g->path = "/etc/resolv.conf";
	if (!(p = resolve(r, g, g->path)))
		rc = -1;
	else if (write_file_atomic(p, buf, strlen(buf)) < 0)
		rc = req_fail(r, errno, "dns: write %s: %s", p, strerror(errno));
	free(p);
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
	struct timespec ts;
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
		rc = !g.hostname ? req_fail(r, EINVAL, "hostname: none given") :
		     sethostname(g.hostname, strlen(g.hostname)) < 0 ?
		     req_fail(r, errno, "hostname: %s", strerror(errno)) : 0;
		break;
	case OP_SYSCTL:
		rc = op_sysctl(r, &g);
		break;
	case OP_SET_TIME:
		ts.tv_sec = (time_t)(g.time / 1000000000u);
		ts.tv_nsec = (long)(g.time % 1000000000u);
		rc = !g.has_time ? req_fail(r, EINVAL, "time: none given") :
		     clock_settime(CLOCK_REALTIME, &ts) < 0 ?
		     req_fail(r, errno, "time: %s", strerror(errno)) : 0;
		break;
	case OP_BINFMT:
		rc = !g.binfmt ? req_fail(r, EINVAL, "binfmt: no registration") :
		     write_to(r, "/proc/sys/fs/binfmt_misc/register", g.binfmt,
			      strlen(g.binfmt), "binfmt");
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
