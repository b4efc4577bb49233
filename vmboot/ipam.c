/* ipam.c: the address allocator of --net bridge= (see ipam.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam.h"

/* One lease line: "255.255.255.255 4194304 18446744073709551615\n". */
#define LEASE_LINE_MAX	64

struct lease {
	uint32_t addr;
	pid_t pid;
	unsigned long long start;
};

struct leases {
	int fd;
	struct lease *v;
	size_t n;
};

unsigned long long ipam_pid_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t len;
	int fd, field;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = 0;
	/* The command name may hold spaces and parentheses: fields start
	 * after the last ')'. Field 3 is the state, 22 the start time. */
	if (!(p = strrchr(buf, ')')))
		return 0;
	p++;
	for (field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return 0;
		if (field == 3 && (*p == 'Z' || *p == 'X'))
			return 0;	/* killed, not yet reaped: gone */
		if (field == 22)
			start = strtoull(p, NULL, 10);
		p += strcspn(p, " ");
	}
	return start;
}

static int lease_live(const struct lease *l)
{
	return l->start && ipam_pid_start(l->pid) == l->start;
}

/* Opens and locks the state file, and reads the leases of live
 * processes; malformed lines (a crash mid-write) are dropped. */
static int leases_load(const char *path, struct leases *ls)
{
	struct stat st;
	char *buf = NULL, *line, *next;
	size_t off = 0;
	int e;

	*ls = (struct leases){ .fd = -1 };
	for (;;) {
		struct stat now;

		if ((ls->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
			return -errno;
		while (flock(ls->fd, LOCK_EX) < 0)
			if (errno != EINTR)
				goto fail;
		if (fstat(ls->fd, &st) < 0)
			goto fail;
		/* A release that left the file empty removed it while we
		 * waited for the lock: the lock is on a dead file. */
		if (stat(path, &now) == 0) {
			if (now.st_ino == st.st_ino && now.st_dev == st.st_dev)
				break;
		} else if (errno != ENOENT) {
			goto fail;
		}
		close(ls->fd);
	}
	if (st.st_size > (off_t)IPAM_MAX_LEASES * LEASE_LINE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	if (!(buf = malloc(st.st_size + 1)) ||
	    !(ls->v = calloc(st.st_size / 8 + 1, sizeof *ls->v)))
		goto fail;
	while (off < (size_t)st.st_size) {
		ssize_t r = pread(ls->fd, buf + off, st.st_size - off, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		off += r;
	}
	buf[off] = 0;
	for (line = buf; line && *line; line = next) {
		struct lease l;
		char a[INET_ADDRSTRLEN + 1];
		struct in_addr in;
		int pid, n = 0;

		if ((next = strchr(line, '\n')))
			*next++ = 0;
		if (sscanf(line, "%16s %d %llu%n", a, &pid, &l.start, &n) != 3 ||
		    line[n] || pid <= 0 || inet_pton(AF_INET, a, &in) != 1)
			continue;
		l.addr = ntohl(in.s_addr);
		l.pid = pid;
		if (lease_live(&l))
			ls->v[ls->n++] = l;
	}
	free(buf);
	return 0;
fail:
	e = errno;
	free(buf);
	free(ls->v);
	close(ls->fd);
	ls->fd = -1;
	return -e;
}

/* Writes the leases back in place and unlocks; 0 or -errno. */
static int leases_store(struct leases *ls)
{
	char *buf = malloc(ls->n * LEASE_LINE_MAX + 1);
	size_t i, len = 0, off = 0;
	int r = 0;

	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ls->n; i++) {
		struct in_addr in = { htonl(ls->v[i].addr) };
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &in, a, sizeof a);
		len += snprintf(buf + len, LEASE_LINE_MAX, "%s %d %llu\n", a,
		    (int)ls->v[i].pid, ls->v[i].start);
	}
	while (off < len) {
		ssize_t w = pwrite(ls->fd, buf + off, len - off, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			goto out;
		}
		off += w;
	}
	if (ftruncate(ls->fd, len) < 0)
		r = -errno;
out:
	free(buf);
	return r;
}

static void leases_close(struct leases *ls)
{
	free(ls->v);
	close(ls->fd);	/* and with it the lock */
}

static struct lease *leases_find(struct leases *ls, uint32_t addr)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].addr == addr)
			return &ls->v[i];
	return NULL;
}

/* Adds or replaces the lease of addr; the array has room for one more. */
static int leases_put(struct leases *ls, uint32_t addr, pid_t pid)
{
	struct lease *l = leases_find(ls, addr);
	unsigned long long start = ipam_pid_start(pid);

	if (!start)
		return -ESRCH;
	if (!l) {
		if (ls->n >= IPAM_MAX_LEASES)
			return -ENOSPC;
		l = &ls->v[ls->n++];
	}
	*l = (struct lease){ addr, pid, start };
	return 0;
}

int ipam_alloc(const char *path, uint32_t net, int plen, uint32_t self,
    pid_t pid, uint32_t *addr)
{
	struct leases ls;
	uint32_t mask, a, bcast;
	int r;

	if (plen < 1 || plen > 30)
		return -EINVAL;
	mask = ~0u << (32 - plen);
	net &= mask;
	bcast = net | ~mask;
	if ((r = leases_load(path, &ls)) < 0)
		return r;
	r = -ENOSPC;
	for (a = net + 1; a < bcast; a++) {
		if (a == self || leases_find(&ls, a))
			continue;
		if ((r = leases_put(&ls, a, pid)) == 0 &&
		    (r = leases_store(&ls)) == 0)
			*addr = a;
		break;
	}
	leases_close(&ls);
	return r;
}

int ipam_claim(const char *path, uint32_t addr, pid_t pid)
{
	struct leases ls;
	struct lease *l;
	int r;

	if ((r = leases_load(path, &ls)) < 0)
		return r;
	if ((l = leases_find(&ls, addr)) && l->pid != pid)
		r = -EADDRINUSE;
	else if ((r = leases_put(&ls, addr, pid)) == 0)
		r = leases_store(&ls);
	leases_close(&ls);
	return r;
}

int ipam_release(const char *path, uint32_t addr, pid_t pid)
{
	struct leases ls;
	struct lease *l;
	int r;

	if ((r = leases_load(path, &ls)) < 0)
		return r;
	if ((l = leases_find(&ls, addr)) && l->pid == pid)
		*l = ls.v[--ls.n];
	/* No VM left on this subnet: nothing stays behind in /run. Under
	 * the lock, so a waiter sees the file is gone (leases_load). */
	if (ls.n == 0)
		r = unlink(path) < 0 ? -errno : 0;
	else
		r = leases_store(&ls);
	leases_close(&ls);
	return r;
}

static int mkdirs(char *dir)
{
	for (char *p = dir + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			*p = c;
			return -errno;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

int ipam_path(const char *dir, const char *br, uint32_t net, int plen,
    char *path, size_t len)
{
	struct in_addr in;
	char d[PATH_MAX], a[INET_ADDRSTRLEN];

	if (!dir)
		dir = getenv("CZ_IPAM_DIR");
	if (!dir || !*dir)
		dir = IPAM_DIR;
	/* br names a file: a link name, never a path. */
	if (!*br || strlen(br) >= 16 || strchr(br, '/') || !strcmp(br, ".") ||
	    !strcmp(br, "..") || plen < 0 || plen > 32)
		return -EINVAL;
	in.s_addr = htonl(plen ? net & ~0u << (32 - plen) : 0);
	inet_ntop(AF_INET, &in, a, sizeof a);
	if (snprintf(d, sizeof d, "%s", dir) >= (int)sizeof d ||
	    snprintf(path, len, "%s/%s-%s-%d", dir, br, a, plen) >= (int)len)
		return -ENAMETOOLONG;
	return mkdirs(d);
}
