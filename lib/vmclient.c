/* vmclient.c: see vmclient.h. */
#include "vmclient.h"
#include "fsutil.h"
#include "xalloc.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

struct vmc {
	int fd;
	char *addr;
	uint32_t next_id;
};

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One whole message; -1 with err on EOF or a bad header. */
static int read_msg(int fd, uint8_t **msg, struct proto_hdr *h, char *err, size_t errlen)
{
	uint8_t hdr[PROTO_HDR_LEN];
	const char *why;

	if (read_full(fd, hdr, sizeof hdr) < 0) {
		snprintf(err, errlen, "vminit: read: %s", strerror(errno));
		return -1;
	}
	if (proto_hdr_decode(hdr, sizeof hdr, h, &why) < 0) {
		snprintf(err, errlen, "vminit: %s", why);
		errno = EPROTO;
		return -1;
	}
	*msg = xmalloc(h->len);
	memcpy(*msg, hdr, sizeof hdr);
	if (read_full(fd, *msg + PROTO_HDR_LEN, h->len - PROTO_HDR_LEN) < 0) {
		snprintf(err, errlen, "vminit: read: %s", strerror(errno));
		free(*msg);
		return -1;
	}
	return 0;
}

/* An error reply to errno and err. */
static int reply_error(const uint8_t *msg, const struct proto_hdr *h, char *err,
		       size_t errlen)
{
	struct proto_iter it;
	struct proto_attr a;
	uint32_t e = EIO;
	const char *s = "failed";

	proto_iter_msg(&it, msg, h->len);
	while (proto_next(&it, &a) > 0) {
		if (a.type == A_ERRNO)
			proto_get_u32(&a, &e);
		else if (a.type == A_ERRMSG && proto_get_str(&a))
			s = proto_get_str(&a);
	}
	snprintf(err, errlen, "vminit: %s", s);
	errno = (int)e;
	return -1;
}

static int send_msg(int fd, struct proto_msg *m, char *err, size_t errlen)
{
	size_t n = proto_finish(m);

	if (n == 0) {
		snprintf(err, errlen, "message too large");
		errno = EMSGSIZE;
		return -1;
	}
	while (n > 0) {
		ssize_t w = send(fd, m->buf + m->len - n, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "vminit: send: %s", strerror(errno));
			return -1;
		}
		n -= (size_t)w;
	}
	return 0;
}

static void set_id(struct proto_msg *m, uint32_t id)
{
	uint32_t le = htole32(id);

	memcpy(m->buf + 8, &le, 4);
}

static int dial(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	const char *path = addr;
	int fd, hybrid = 1;
	char line[64];
	size_t n = 0;

	if (strncmp(addr, "unix:", 5) == 0)
		path = addr + 5, hybrid = 0;
	else if (strncmp(addr, "vsock:", 6) == 0)
		path = addr + 6;
	if (strlen(path) >= sizeof un.sun_path) {
		snprintf(err, errlen, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(un.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof un) < 0) {
		snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!hybrid)
		return fd;
	/* Firecracker's host-initiated vsock: a text handshake first. */
	snprintf(line, sizeof line, "CONNECT %u\n", PROTO_VSOCK_PORT);
	if (write_all(fd, line, strlen(line)) < 0)
		goto io;
	while (n < sizeof line - 1) {
		if (read_full(fd, line + n, 1) < 0)
			goto io;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (strncmp(line, "OK ", 3) != 0) {
		snprintf(err, errlen, "connect %s: vsock port %u refused", path,
			 PROTO_VSOCK_PORT);
		errno = ECONNREFUSED;
		goto fail;
	}
	return fd;
io:
	snprintf(err, errlen, "connect %s: vsock handshake: %s", path, strerror(errno));
fail:
	if (fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return -1;
}

int vmc_open(const char *addr, uint32_t proc, int stream, char *err, size_t errlen)
{
	struct proto_msg m = { 0 };
	struct proto_hdr h;
	uint8_t *reply = NULL;
	int fd = dial(addr, err, errlen);

	if (fd < 0)
		return -1;
	proto_init(&m, OP_HELLO, 0, 1);
	proto_put_u32(&m, A_VERSION, PROTO_VERSION);
	if (stream >= 0) {
		proto_put_u32(&m, A_PROC, proc);
		proto_put_u32(&m, A_STREAM, (uint32_t)stream);
	}
	if (send_msg(fd, &m, err, errlen) < 0 || read_msg(fd, &reply, &h, err, errlen) < 0)
		goto fail;
	if (h.flags & PROTO_F_ERROR) {
		reply_error(reply, &h, err, errlen);
		goto fail;
	}
	proto_free(&m);
	free(reply);
	return fd;
fail:
	proto_free(&m);
	free(reply);
	close(fd);
	return -1;
}

struct vmc *vmc_connect(const char *addr, char *err, size_t errlen)
{
	int fd = vmc_open(addr, 0, -1, err, errlen);
	struct vmc *c;

	if (fd < 0)
		return NULL;
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->addr = xstrdup(addr);
	c->next_id = 2;
	return c;
}

struct vmc *vmc_adopt(int fd, const char *addr, char *err, size_t errlen)
{
	struct proto_hdr h;
	uint8_t *msg;
	struct vmc *c;

	if (read_msg(fd, &msg, &h, err, errlen) < 0)
		return NULL;
	free(msg);
	if (h.type != OP_READY) {
		snprintf(err, errlen, "vminit: expected ready, got %s", proto_op_name(h.type));
		errno = EPROTO;
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->addr = xstrdup(addr);
	c->next_id = 1;
	return c;
}

void vmc_close(struct vmc *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->addr);
	free(c);
}

int vmc_fd(const struct vmc *c)
{
	return c->fd;
}

int vmc_send(struct vmc *c, struct proto_msg *req, char *err, size_t errlen)
{
	set_id(req, c->next_id++);
	return send_msg(c->fd, req, err, errlen);
}

int vmc_call(struct vmc *c, struct proto_msg *req, uint8_t **reply, size_t *rlen,
	     char *err, size_t errlen)
{
	uint32_t id = c->next_id;
	struct proto_hdr h;
	uint8_t *msg;

	if (vmc_send(c, req, err, errlen) < 0)
		return -1;
	for (;;) {
		if (read_msg(c->fd, &msg, &h, err, errlen) < 0)
			return -1;
		if ((h.flags & PROTO_F_REPLY) && h.id == id)
			break;
		free(msg);	/* a late reply to something sent earlier */
	}
	if (h.flags & PROTO_F_ERROR) {
		reply_error(msg, &h, err, errlen);
		free(msg);
		return -1;
	}
	if (reply)
		*reply = msg, *rlen = h.len;
	else
		free(msg);
	return 0;
}

static uint32_t reply_u32(const uint8_t *msg, uint16_t type)
{
	struct proto_iter it;
	struct proto_attr a;
	uint32_t v = 0, len;

	memcpy(&len, msg, 4);
	proto_iter_msg(&it, msg, le32toh(len));
	while (proto_next(&it, &a) > 0)
		if (a.type == type)
			proto_get_u32(&a, &v);
	return v;
}

int vmc_proc_create(struct vmc *c, struct proto_msg *req, const struct vmc_io *io,
		    uint32_t *id, char *err, size_t errlen)
{
	uint32_t mask = 0;
	uint8_t *reply;
	size_t rlen;

	for (int i = 0; i < STREAM_MAX; i++)
		if (io->fd[i] >= 0 && !(io->terminal && i == STREAM_STDERR))
			mask |= 1u << i;
	proto_put_u32(req, A_STDIO, mask);
	if (io->terminal) {
		proto_put_flag(req, A_TERMINAL);
		proto_put_u32(req, A_ROWS, io->rows);
		proto_put_u32(req, A_COLS, io->cols);
	}
	if (vmc_call(c, req, &reply, &rlen, err, errlen) < 0)
		return -1;
	*id = reply_u32(reply, A_PROC);
	free(reply);
	return 0;
}

int vmc_kill(struct vmc *c, uint32_t id, int sig, int pgroup, char *err, size_t errlen)
{
	struct proto_msg m = { 0 };
	int rc;

	proto_init(&m, OP_KILL, 0, 0);
	proto_put_u32(&m, A_PROC, id);
	proto_put_u32(&m, A_SIGNAL, (uint32_t)sig);
	if (pgroup)
		proto_put_flag(&m, A_PGROUP);
	rc = vmc_send(c, &m, err, errlen);
	proto_free(&m);
	return rc;
}

int vmc_resize(struct vmc *c, uint32_t id, uint32_t rows, uint32_t cols,
	       char *err, size_t errlen)
{
	struct proto_msg m = { 0 };
	int rc;

	proto_init(&m, OP_RESIZE, 0, 0);
	proto_put_u32(&m, A_PROC, id);
	proto_put_u32(&m, A_ROWS, rows);
	proto_put_u32(&m, A_COLS, cols);
	rc = vmc_send(c, &m, err, errlen);
	proto_free(&m);
	return rc;
}

static void exit_of(const uint8_t *msg, size_t len, struct vmc_exit *ex)
{
	struct proto_iter it;
	struct proto_attr a;
	uint32_t v;

	memset(ex, 0, sizeof *ex);
	proto_iter_msg(&it, msg, len);
	while (proto_next(&it, &a) > 0) {
		if (a.type == A_EXIT_CODE && proto_get_u32(&a, &v) == 0)
			ex->code = (int)v;
		else if (a.type == A_EXIT_SIGNAL && proto_get_u32(&a, &v) == 0)
			ex->signal = (int)v;
		else if (a.type == A_CORE)
			ex->core = 1;
		else if (a.type == A_OOM)
			ex->oom = 1;
		else if (a.type == A_EXIT_TIME)
			proto_get_u64(&a, &ex->time_ns);
	}
}

/* Bytes towards a non-blocking socket, buffered so neither side waits
 * on the other (stdin into a process that is busy writing stdout). */
struct pump {
	int from, to;
	char buf[65536];
	size_t off, len;
	int eof;
};

int vmc_run(struct vmc *c, uint32_t id, const struct vmc_io *io,
	    struct vmc_exit *ex, int *start_errno, char *err, size_t errlen)
{
	int conn[STREAM_MAX] = { -1, -1, -1 }, rc = -1, done = 0;
	uint32_t wait_id;
	struct proto_msg m = { 0 };
	struct pump in = { .from = -1, .to = -1 };
	char buf[65536];

	*start_errno = 0;
	for (int i = 0; i < STREAM_MAX; i++) {
		if (io->fd[i] < 0 || (io->terminal && i == STREAM_STDERR))
			continue;
		if ((conn[i] = vmc_open(c->addr, id, i, err, errlen)) < 0)
			goto out;
	}
	proto_init(&m, OP_PROC_START, 0, 0);
	proto_put_u32(&m, A_PROC, id);
	if (vmc_call(c, &m, NULL, NULL, err, errlen) < 0) {
		*start_errno = errno;
		goto out;
	}
	proto_init(&m, OP_WAIT, 0, 0);
	proto_put_u32(&m, A_PROC, id);
	wait_id = c->next_id;
	if (vmc_send(c, &m, err, errlen) < 0)
		goto out;
	if (conn[STREAM_STDIN] >= 0) {
		in.from = io->fd[STREAM_STDIN];
		in.to = conn[STREAM_STDIN];
		fcntl(in.to, F_SETFL, fcntl(in.to, F_GETFL) | O_NONBLOCK);
	}
	/* Done when the exit status is in and both outputs have ended. */
	while (!done || conn[STREAM_STDOUT] >= 0 || conn[STREAM_STDERR] >= 0) {
		struct pollfd p[6];
		int np = 0, ictl = -1, iin = -1, iout = -1, isig = -1, iconn[3] = { -1, -1, -1 };
		if (!done)
			p[ictl = np++] = (struct pollfd){ c->fd, POLLIN, 0 };
		if (in.from >= 0 && in.len == 0 && !in.eof)
			p[iin = np++] = (struct pollfd){ in.from, POLLIN, 0 };
		if (in.len > 0)
			p[iout = np++] = (struct pollfd){ in.to, POLLOUT, 0 };
		for (int i = STREAM_STDOUT; i < STREAM_MAX; i++)
			if (conn[i] >= 0)
				p[iconn[i] = np++] = (struct pollfd){ conn[i], POLLIN, 0 };
		if (io->sigfd >= 0 && !done)
			p[isig = np++] = (struct pollfd){ io->sigfd, POLLIN, 0 };
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		if (ictl >= 0 && p[ictl].revents) {
			struct proto_hdr h;
			uint8_t *msg;
			if (read_msg(c->fd, &msg, &h, err, errlen) < 0)
				goto out;
			if ((h.flags & PROTO_F_REPLY) && h.id == wait_id) {
				if (h.flags & PROTO_F_ERROR) {
					reply_error(msg, &h, err, errlen);
					free(msg);
					goto out;
				}
				exit_of(msg, h.len, ex);
				done = 1;
			}
			free(msg);
		}
		if (isig >= 0 && p[isig].revents) {
			struct signalfd_siginfo si;
			struct winsize ws;
			if (read(io->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGWINCH) {
					if (io->terminal && ioctl(io->fd[STREAM_STDOUT], TIOCGWINSZ, &ws) == 0)
						vmc_resize(c, id, ws.ws_row, ws.ws_col, err, errlen);
				} else {
					vmc_kill(c, id, (int)si.ssi_signo, io->pgroup, err, errlen);
				}
			}
		}
		if (iin >= 0 && p[iin].revents) {
			ssize_t n = read(in.from, in.buf, sizeof in.buf);
			if (n <= 0) {
				in.eof = 1;
				shutdown(in.to, SHUT_WR);
			} else {
				in.len = (size_t)n, in.off = 0;
			}
		}
		if ((iout >= 0 && p[iout].revents) || (iin >= 0 && in.len > 0)) {
			ssize_t n = send(in.to, in.buf + in.off, in.len - in.off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				in.off += (size_t)n;
				if (in.off == in.len)
					in.off = in.len = 0;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* The process stopped reading: drop its input. */
				in.eof = 1, in.len = 0;
			}
		}
		for (int i = STREAM_STDOUT; i < STREAM_MAX; i++) {
			ssize_t n;
			if (iconn[i] < 0 || !p[iconn[i]].revents)
				continue;
			n = read(conn[i], buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(conn[i]);
				conn[i] = -1;
			} else if (write_all(io->fd[i], buf, (size_t)n) < 0) {
				/* Our reader is gone; keep draining so it ends. */
				;
			}
		}
	}
	rc = 0;
out:
	proto_free(&m);
	for (int i = 0; i < STREAM_MAX; i++)
		if (conn[i] >= 0)
			close(conn[i]);
	return rc;
}
