/* delete.c: OP_CTR_DELETE. Every process of the container gets SIGKILL
 * (the shim, PID 1 of its namespace, takes the namespace with it; the
 * cgroup catches anything else); once all are reaped the rootfs and every
 * mount under it are unmounted, the cgroup and the run directory removed,
 * and the id is free again. Each step is idempotent: a delete that failed
 * (a busy mount) can be asked again. */
#include "vminit.h"
#include "fsutil.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

/* Processes stuck past this (uninterruptible sleep) fail the delete. */
#define DELETE_TIMEOUT_NS (10ull * 1000000000u)
#define MOUNTINFO_MAX (4u << 20)

/* A mountinfo field with its octal escapes (\040) undone, in place. */
static char *unescape(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Unmounts root and everything below it in our namespace, the last
 * mounted first. */
static int unmount_tree(const char *root, char *err, size_t errlen)
{
	char *buf, *line, *save, **pts = NULL;
	size_t n = 0, rl = strlen(root);
	int rc = 0;

	if (read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &buf, NULL) < 0) {
		snprintf(err, errlen, "umount: read /proc/self/mountinfo: %s",
			 strerror(errno));
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* id parent major:minor root MOUNTPOINT ... */
		char *f = line;
		for (int i = 0; i < 4 && f; i++)
			f = strchr(f, ' ') ? strchr(f, ' ') + 1 : NULL;
		if (!f)
			continue;
		*strchrnul(f, ' ') = '\0';
		unescape(f);
		if (strncmp(f, root, rl) == 0 && (f[rl] == '\0' || f[rl] == '/')) {
			pts = xrealloc(pts, (n + 1) * sizeof *pts);
			pts[n++] = f;
		}
	}
	while (n > 0 && rc == 0)
		if (umount2(pts[--n], UMOUNT_NOFOLLOW) < 0 && errno != EINVAL) {
			snprintf(err, errlen, "umount %s: %s", pts[n], strerror(errno));
			rc = -1;
		}
	free(pts);
	free(buf);
	return rc;
}

static int remove_at(const char *dir, const char *name, int isdir, char *err,
		     size_t errlen)
{
	char *p = name ? path_join(dir, name) : xstrdup(dir);
	int rc = (isdir ? rmdir(p) : unlink(p)) < 0 && errno != ENOENT;

	if (rc)
		snprintf(err, errlen, "remove %s: %s", p, strerror(errno));
	free(p);
	return rc ? -1 : 0;
}

/* 1: processes still live; 0: gone and removed; -1 with err. */
static int delete_step(struct ctr *c, char *err, size_t errlen)
{
	int live = proc_ctr_live(c);

	if (live || cgroup_populated(&c->cg)) {
		if (now_ns(CLOCK_MONOTONIC) < c->del_deadline) {
			/* Again: a process may have forked meanwhile. */
			proc_ctr_kill(c);
			cgroup_kill(&c->cg);
			return 1;
		}
		snprintf(err, errlen, "kill: %d of its processes still running "
			 "after %llu s", live ? live : cgroup_populated(&c->cg),
			 DELETE_TIMEOUT_NS / 1000000000u);
		errno = EBUSY;
		return -1;
	}
	proc_ctr_forget(c);
	if (unmount_tree(c->root, err, errlen) < 0)
		return -1;
	if (cgroup_remove(&c->cg, err, errlen) < 0)
		/* The last exit may still be leaving the cgroup. */
		return errno == EBUSY &&
		       now_ns(CLOCK_MONOTONIC) < c->del_deadline ? 1 : -1;
	if (remove_at(c->root, NULL, 1, err, errlen) < 0 ||
	    remove_at(c->dir, "resolv.conf", 0, err, errlen) < 0 ||
	    remove_at(c->dir, "hosts", 0, err, errlen) < 0 ||
	    remove_at(c->dir, NULL, 1, err, errlen) < 0)
		return -1;
	return 0;
}

int ctr_delete(struct req *r)
{
	struct proto_iter it;
	struct proto_attr a;
	const char *id = NULL;
	char err[ERRLEN];
	struct ctr *c;
	int rc;

	proto_iter_msg(&it, r->msg, r->h.len);
	while (proto_next(&it, &a) > 0)
		if (a.type == A_CTR)
			id = proto_get_str(&a);
	if (!id)
		return req_fail(r, EINVAL, "delete: no container named");
	if (!(c = ctr_find(id)))
		return req_fail(r, ENOENT, "delete %s: no such container", id);
	if (c->deleting)
		return req_fail(r, EBUSY, "delete %s: already being deleted", id);
	tlog("delete %s", id);
	c->deleting = 1;
	c->del_deadline = now_ns(CLOCK_MONOTONIC) + DELETE_TIMEOUT_NS;
	proc_ctr_kill(c);
	cgroup_kill(&c->cg);
	errno = 0;
	rc = delete_step(c, err, sizeof err);
	if (rc == 1) {
		c->del_conn = conn_serial(r->c);
		c->del_req = r->h.id;
		return 1;
	}
	c->deleting = 0;
	if (rc < 0)
		return req_fail(r, errno ? errno : EIO, "delete %s: %s", id, err);
	tlog("deleted %s", id);
	ctr_destroy(c);
	return 0;
}

int ctr_delete_pending(void)
{
	for (struct ctr *c = ctrs; c; c = c->next)
		if (c->deleting)
			return 1;
	return 0;
}

void ctr_delete_poll(void)
{
	struct proto_msg m = { 0 };
	struct ctr *c, *next;
	char err[ERRLEN], msg[ERRLEN + 80];
	int rc;

	for (c = ctrs; c; c = next) {
		next = c->next;
		if (!c->deleting)
			continue;
		errno = 0;
		if ((rc = delete_step(c, err, sizeof err)) == 1)
			continue;
		c->deleting = 0;
		if (rc < 0) {
			snprintf(msg, sizeof msg, "delete %s: %s", c->id, err);
			tlog("%s", msg);
			reply_error_to(c->del_conn, OP_CTR_DELETE, c->del_req,
				       errno ? errno : EIO, msg);
			continue;
		}
		tlog("deleted %s", c->id);
		proto_init(&m, OP_CTR_DELETE, PROTO_F_REPLY, c->del_req);
		conn_send_to(c->del_conn, &m);
		proto_free(&m);
		ctr_destroy(c);
	}
}
