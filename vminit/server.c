/* server.c: control connections. Each reads whole messages (exactly their
 * length, so a stdio connection's raw bytes after its HELLO stay unread),
 * dispatches them, and queues replies without ever blocking PID 1. */
#include "vminit.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A peer that stops reading loses its connection past this much. */
#define MAX_OUT (4u << 20)
#define MAX_CONNS 256

struct conn {
	struct watch w;
	struct conn *next;
	uint64_t serial;
	int hello, dead;
	uint8_t hdr[PROTO_HDR_LEN];
	size_t hlen;
	struct proto_hdr h;
	uint8_t *body;
	size_t blen;
	uint8_t *out;
	size_t outlen, outoff, outcap;
};

static struct conn *conns;
static size_t nconns;
static uint64_t next_serial = 1;
static struct watch listener = { .fd = -1 };

uint64_t conn_serial(const struct conn *c)
{
	return c->serial;
}

static void conn_close(struct conn *c)
{
	struct conn **pp;

	if (c->dead)
		return;
	c->dead = 1;
	for (pp = &conns; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	nconns--;
	ev_del(&c->w);
	if (c->w.fd >= 0)
		close(c->w.fd);
	c->w.fd = -1;
	free(c->body);
	free(c->out);
	ev_free_later(c);
}

static int fcntl_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void conn_flush(struct conn *c)
{
	if (c->dead)
		return;
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->w.fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	ev_mod(&c->w, EPOLLIN | (c->outlen ? EPOLLOUT : 0));
}

static void conn_send(struct conn *c, struct proto_msg *m)
{
	size_t n = proto_finish(m);

	if (c->dead)
		return;
	if (n == 0 || c->outlen + n > MAX_OUT) {
		conn_close(c);
		return;
	}
	c->out = xgrow(c->out, &c->outcap, c->outlen + n, 1);
	memcpy(c->out + c->outlen, m->buf, n);
	c->outlen += n;
	conn_flush(c);
}

static struct conn *conn_by_serial(uint64_t serial)
{
	for (struct conn *c = conns; c; c = c->next)
		if (c->serial == serial)
			return c;
	return NULL;
}

void conn_send_to(uint64_t serial, struct proto_msg *m)
{
	struct conn *c = conn_by_serial(serial);

	if (c)
		conn_send(c, m);
}

void reply_error_to(uint64_t serial, uint16_t type, uint32_t id, int errnum,
		    const char *msg)
{
	struct proto_msg m = { 0 };

	proto_error(&m, type, id, errnum, msg);
	conn_send_to(serial, &m);
	proto_free(&m);
}

int req_fail(struct req *r, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	r->errnum = errnum;
	return -1;
}

static void send_error(struct conn *c, const struct proto_hdr *h, int errnum,
		       const char *msg)
{
	struct proto_msg m = { 0 };

	proto_error(&m, h->type, h->id, errnum, msg);
	conn_send(c, &m);
	proto_free(&m);
}

/* The first message of a connection: control, or a process's stream. */
static int on_hello(struct conn *c, struct req *r)
{
	struct proto_iter it;
	struct proto_attr a;
	uint32_t proc = 0, stream = 0, v;
	int has_proc = 0, has_stream = 0;
	char err[ERRLEN];

	proto_iter_msg(&it, r->msg, r->h.len);
	while (proto_next(&it, &a) > 0) {
		if (a.type == A_PROC && proto_get_u32(&a, &v) == 0)
			proc = v, has_proc = 1;
		else if (a.type == A_STREAM && proto_get_u32(&a, &v) == 0)
			stream = v, has_stream = 1;
	}
	c->hello = 1;
	if (!has_proc)
		return 0;
	if (!has_stream)
		return req_fail(r, EINVAL, "hello: process without stream");
	if (proc_attach(proc, stream, c->w.fd, err, sizeof err) < 0)
		return req_fail(r, errno, "hello: %s", err);
	/* The fd is the process's now; answer on it directly, then forget
	 * the connection without closing it. */
	proto_init(&r->reply, OP_HELLO, PROTO_F_REPLY, r->h.id);
	proto_put_u32(&r->reply, A_VERSION, PROTO_VERSION);
	proto_finish(&r->reply);
	if (send(c->w.fd, r->reply.buf, r->reply.len, MSG_NOSIGNAL) !=
	    (ssize_t)r->reply.len)
		tlog("hello: stream %u of process %u: short reply", stream, proc);
	ev_del(&c->w);
	c->w.fd = -1;
	conn_close(c);
	return 1;
}

static int dispatch(struct req *r)
{
	switch (r->h.type) {
	case OP_CTR_CREATE: return ctr_create(r);
	case OP_CTR_DELETE: return ctr_delete(r);
	case OP_PROC_CREATE: return proc_create(r);
	case OP_PROC_START: return proc_start(r);
	case OP_KILL: return proc_kill(r);
	case OP_WAIT: return proc_wait(r);
	case OP_RESIZE: return proc_resize(r);
	case OP_CLOSE_STDIN: return proc_close_stdin(r);
	default: return ops_dispatch(r);
	}
}

static void on_message(struct conn *c)
{
	struct req r = { .c = c, .h = c->h };
	uint8_t *msg = xmalloc(c->h.len);
	int rc;

	memcpy(msg, c->hdr, PROTO_HDR_LEN);
	memcpy(msg + PROTO_HDR_LEN, c->body, c->h.len - PROTO_HDR_LEN);
	r.msg = msg;
	proto_init(&r.reply, c->h.type, PROTO_F_REPLY, c->h.id);
	if (c->h.flags & PROTO_F_REPLY)
		rc = 1;		/* an answer to our READY: nothing to do */
	else if (proto_validate(msg + PROTO_HDR_LEN, c->h.len - PROTO_HDR_LEN) < 0)
		rc = req_fail(&r, EINVAL, "%s: malformed attributes",
			      proto_op_name(c->h.type));
	else if (c->h.type == OP_HELLO)
		rc = on_hello(c, &r);
	else if (!c->hello)
		rc = req_fail(&r, EPROTO, "%s: expected hello first",
			      proto_op_name(c->h.type));
	else
		rc = dispatch(&r);
	if (rc == 0)
		conn_send(c, &r.reply);
	else if (rc < 0)
		send_error(c, &c->h, r.errnum ? r.errnum : EIO, r.err);
	proto_free(&r.reply);
	free(msg);
}

/* Reads what the current message still lacks; -1 when the conn closed. */
static int conn_read(struct conn *c)
{
	const char *why;
	ssize_t n;

	if (c->hlen < PROTO_HDR_LEN) {
		n = read(c->w.fd, c->hdr + c->hlen, PROTO_HDR_LEN - c->hlen);
		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->hlen += (size_t)n;
		if (c->hlen < PROTO_HDR_LEN)
			return 0;
		if (proto_hdr_decode(c->hdr, c->hlen, &c->h, &why) < 0) {
			/* The stream cannot be resynchronised: say why, drop it. */
			struct proto_hdr h = c->h;
			h.type = h.type < OP_MAX ? h.type : 0;
			send_error(c, &h, EPROTO, why);
			return -1;
		}
		c->body = xrealloc(c->body, c->h.len - PROTO_HDR_LEN);
		c->blen = 0;
	}
	if (c->blen < c->h.len - PROTO_HDR_LEN) {
		n = read(c->w.fd, c->body + c->blen, c->h.len - PROTO_HDR_LEN - c->blen);
		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->blen += (size_t)n;
	}
	if (c->blen == c->h.len - PROTO_HDR_LEN) {
		int fd = c->w.fd;
		c->hlen = 0;
		on_message(c);
		/* The connection may have become a stream, or closed. */
		return fd == c->w.fd && !c->dead ? 1 : -2;
	}
	return 0;
}

static void on_conn(struct watch *w, uint32_t events)
{
	struct conn *c = w->owner;
	int r;

	if (events & EPOLLOUT)
		conn_flush(c);
	if (c->dead)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		/* A bounded number of messages per wakeup keeps it fair. */
		for (int i = 0; i < 64; i++) {
			r = conn_read(c);
			if (r == -1)
				conn_close(c);
			if (r <= 0 || r == -2)
				break;
		}
	}
}

static struct conn *conn_new(int fd)
{
	struct conn *c = xcalloc(1, sizeof *c);

	c->w.fd = fd;
	c->w.cb = on_conn;
	c->w.owner = c;
	c->serial = next_serial++;
	c->next = conns;
	conns = c;
	nconns++;
	ev_add(&c->w, EPOLLIN);
	return c;
}

static void on_accept(struct watch *w, uint32_t events)
{
	int fd;

	(void)events;
	while ((fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		if (nconns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		conn_new(fd);
	}
}

static int sockaddr_of(const char *addr, int connecting, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;
		if (strlen(addr + 5) >= sizeof un->sun_path)
			return -1;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, addr + 5);
		*len = sizeof *un;
		return AF_UNIX;
	}
	if (strncmp(addr, "vsock:", 6) == 0) {
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;
		unsigned cid = VMADDR_CID_ANY, port;
		if (connecting ? sscanf(addr + 6, "%u:%u", &cid, &port) != 2
			       : sscanf(addr + 6, "%u", &port) != 1)
			return -1;
		vm->svm_family = AF_VSOCK;
		vm->svm_cid = cid;
		vm->svm_port = port;
		*len = sizeof *vm;
		return AF_VSOCK;
	}
	return -1;
}

int server_listen(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = sockaddr_of(addr, 0, &ss, &len);

	if (fam < 0) {
		snprintf(err, errlen, "listen %s: bad address", addr);
		return -1;
	}
	if (fam == AF_UNIX)
		unlink(addr + 5);
	listener.fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listener.fd < 0 || bind(listener.fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(listener.fd, 64) < 0) {
		snprintf(err, errlen, "listen %s: %s", addr, strerror(errno));
		return -1;
	}
	listener.cb = on_accept;
	return ev_add(&listener, EPOLLIN);
}

int server_connect(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct proto_msg m = { 0 };
	socklen_t len;
	int fam = sockaddr_of(addr, 1, &ss, &len), fd;
	struct conn *c;

	if (fam < 0) {
		snprintf(err, errlen, "connect %s: bad address", addr);
		return -1;
	}
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		snprintf(err, errlen, "connect %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fcntl_nonblock(fd) < 0) {
		snprintf(err, errlen, "connect %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	c = conn_new(fd);
	c->hello = 1;
	proto_init(&m, OP_READY, PROTO_F_EVENT, 0);
	proto_put_u32(&m, A_VERSION, PROTO_VERSION);
	proto_put_u64(&m, A_MONO_NS, now_ns(CLOCK_MONOTONIC));
	conn_send(c, &m);
	proto_free(&m);
	return 0;
}
