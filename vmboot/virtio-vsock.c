/* virtio-vsock.c: vsock in userspace (virtio 1.1, 5.10 "Socket Device"),
 * exposed on the host as Unix sockets with Firecracker's convention:
 *  - host-initiated: a client connects to SOCKET and sends
 *    "CONNECT <port>\n"; once the guest accepts, it reads "OK <port>\n"
 *    (our host-side port) and then the stream;
 *  - guest-initiated: a guest connection to host port P is connected to
 *    the Unix socket "SOCKET_P"; no listener there means RST.
 * Stream data flows under the virtio credit scheme both ways: we send no
 * more than the guest's buf_alloc allows, and advertise VSOCK_CONN_BUF,
 * the per-connection buffer that holds what the host peer has not read
 * yet. At most VSOCK_MAX_CONNS connections live at once.
 * All of it runs on the device thread under the device's lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "virtio.h"
#include "virtio-vsock.h"
#include "vmboot.h"
#include "xalloc.h"

#define VIRTIO_ID_VSOCK 19
#define VSOCK_QUEUE_SIZE 256
enum { RXQ, TXQ, EVQ };
#define VSOCK_HOST_CID 2
#define VSOCK_GUEST_CID 3
#define VSOCK_MAX_CONNS 64
#define VSOCK_CONN_BUF (256u << 10)
#define VSOCK_MAX_PKT (64u << 10)	/* payload of one packet */
#define VSOCK_LINE_MAX 32		/* "CONNECT 4294967295\n" fits */
#define VSOCK_FIRST_LOCAL_PORT (1u << 30)

/* 5.10.6 Device Operation: the packet header */
struct virtio_vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));
#define VSOCK_TYPE_STREAM 1
enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW,
	OP_CREDIT_UPDATE, OP_CREDIT_REQUEST };
#define SHUTDOWN_RCV 1
#define SHUTDOWN_SEND 2

/* What a connection still owes the guest, highest priority first. */
enum { P_RST = 1, P_REQUEST = 2, P_RESPONSE = 4, P_SHUTDOWN = 8,
	P_CREDIT = 16 };

enum conn_state { C_LINE, C_CONNECTING, C_ESTABLISHED };

struct conn {
	struct vsock *v;
	int fd;
	enum conn_state state;
	uint32_t local_port, peer_port;
	unsigned pending;
	/* host to guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	bool readable, host_eof, sent_eof;
	/* guest to host: a ring of what the host peer has not read yet */
	uint8_t *buf;
	uint32_t head, len, fwd_cnt, fwd_told;
	bool guest_eof, guest_no_rcv, wr_shut;
	char line[VSOCK_LINE_MAX];
	unsigned linelen;
	uint32_t events;
};

struct rst {
	uint32_t local_port, peer_port;
};
#define VSOCK_RST_QUEUE 16

struct vsock {
	struct virtio_dev dev;
	uint64_t guest_cid;	/* the configuration space */
	char *path;
	int listen_fd;
	struct conn *conns[VSOCK_MAX_CONNS];
	unsigned cursor;
	uint32_t next_port;
	struct rst rsts[VSOCK_RST_QUEUE];
	unsigned nrst;
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SIZE + 2];
};

static void conn_io(void *arg, uint32_t events);

static void conn_update_events(struct conn *c)
{
	uint32_t ev = 0;

	if (c->state == C_LINE ||
	    (c->state == C_ESTABLISHED && !c->readable && !c->host_eof &&
	    !c->guest_no_rcv))
		ev |= EPOLLIN;
	if (c->len)
		ev |= EPOLLOUT;
	if (ev != c->events) {
		io_mod(c->v->dev.io, c->fd, ev, conn_io, c);
		c->events = ev;
	}
}

static void conn_free(struct conn *c)
{
	struct vsock *v = c->v;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conns[i] == c)
			v->conns[i] = NULL;
	io_del(v->dev.io, c->fd);
	close(c->fd);
	free(c->buf);
	free(c);
}

static struct conn *conn_new(struct vsock *v, int fd)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c;

		if (v->conns[i])
			continue;
		c = xcalloc(1, sizeof *c);
		c->v = v;
		c->fd = fd;
		c->buf = xmalloc(VSOCK_CONN_BUF);
		c->events = 0;
		if (io_add(v->dev.io, fd, 0, conn_io, c) < 0) {
			free(c->buf);
			free(c);
			return NULL;
		}
		v->conns[i] = c;
		return c;
	}
	return NULL;
}

static struct conn *conn_find(struct vsock *v, uint32_t local, uint32_t peer)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = v->conns[i];

		if (c && c->state != C_LINE && c->local_port == local &&
		    c->peer_port == peer)
			return c;
	}
	return NULL;
}

static void queue_rst(struct vsock *v, uint32_t local, uint32_t peer)
{
	/* Bounded: a guest flooding bad packets loses some RSTs. */
	if (v->nrst < VSOCK_RST_QUEUE)
		v->rsts[v->nrst++] = (struct rst){ local, peer };
}

/* Credit the guest has left for us to send (5.10.6.3). */
static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Writes buffered guest data to the host peer. */
static void flush_to_host(struct conn *c)
{
	while (c->len) {
		uint32_t chunk = c->len;
		ssize_t w;

		if (c->head + chunk > VSOCK_CONN_BUF)
			chunk = VSOCK_CONN_BUF - c->head;
		w = send(c->fd, c->buf + c->head, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* The host peer is gone: tell the guest. */
			c->len = 0;
			c->pending |= P_RST;
			return;
		}
		c->head = (c->head + w) % VSOCK_CONN_BUF;
		c->len -= w;
		c->fwd_cnt += w;
	}
	if (c->len == 0 && c->guest_eof && !c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	/* Both sides done: the connection ends with an RST (5.10.6.4.4). */
	if (c->len == 0 && c->guest_eof && c->guest_no_rcv)
		c->pending |= P_RST;
	else if (c->fwd_cnt - c->fwd_told >= VSOCK_CONN_BUF / 4)
		c->pending |= P_CREDIT;
}

static void hdr_for(const struct conn *c, struct virtio_vsock_hdr *h,
    uint16_t op, uint32_t len)
{
	*h = (struct virtio_vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = VSOCK_GUEST_CID,
		.src_port = c->local_port, .dst_port = c->peer_port,
		.len = len, .type = VSOCK_TYPE_STREAM, .op = op,
		.buf_alloc = VSOCK_CONN_BUF, .fwd_cnt = c->fwd_cnt,
	};
}

/* Fills the popped rx chain for connection c. Returns the bytes
 * written, 0 when c had nothing to send after all, or -1 when c was
 * freed (after an RST was written: the return is then in *n). */
static int fill_rx(struct vsock *v, struct conn *c, uint32_t *n)
{
	struct virtq_chain *ch = &v->chain;
	struct virtio_vsock_hdr h;
	uint32_t room, want;
	unsigned k;
	ssize_t r;

	*n = sizeof h;
	if (c->pending) {
		unsigned p = c->pending & -c->pending;	/* lowest bit first */

		c->pending &= ~p;
		switch (p) {
		case P_RST: hdr_for(c, &h, OP_RST, 0); break;
		case P_REQUEST: hdr_for(c, &h, OP_REQUEST, 0); break;
		case P_RESPONSE: hdr_for(c, &h, OP_RESPONSE, 0); break;
		case P_SHUTDOWN:
			hdr_for(c, &h, OP_SHUTDOWN, 0);
			h.flags = SHUTDOWN_SEND;
			c->sent_eof = true;
			break;
		default: hdr_for(c, &h, OP_CREDIT_UPDATE, 0); break;
		}
		c->fwd_told = c->fwd_cnt;
		iov_from_buf(ch->in, ch->nin, 0, &h, sizeof h);
		if (p == P_RST) {
			conn_free(c);
			return -1;
		}
		return sizeof h;
	}
	room = ch->in_len - sizeof h;
	want = peer_credit(c);
	if (want > room)
		want = room;
	if (want > VSOCK_MAX_PKT)
		want = VSOCK_MAX_PKT;
	if (!want)
		return 0;
	k = iov_slice(ch->in, ch->nin, sizeof h, want, v->iov);
	r = readv(c->fd, v->iov, k);
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			c->readable = false;
			conn_update_events(c);
			return 0;
		}
		c->pending |= P_RST;
		return 0;
	}
	if (r == 0) {
		c->host_eof = true;
		c->readable = false;
		c->pending |= P_SHUTDOWN;
		conn_update_events(c);
		return 0;
	}
	hdr_for(c, &h, OP_RW, r);
	c->tx_cnt += r;
	c->fwd_told = c->fwd_cnt;
	iov_from_buf(ch->in, ch->nin, 0, &h, sizeof h);
	return sizeof h + r;
}

static bool wants_rx(const struct conn *c)
{
	if (c->pending)
		return c->state != C_LINE;
	return c->state == C_ESTABLISHED && c->readable && !c->host_eof &&
	    !c->guest_no_rcv && peer_credit(c) > 0;
}

static struct conn *pick(struct vsock *v)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		unsigned j = (v->cursor + i) % VSOCK_MAX_CONNS;
		struct conn *c = v->conns[j];

		if (c && wants_rx(c)) {
			v->cursor = j + 1;
			return c;
		}
	}
	return NULL;
}

/* Sends what is owed to the guest while it has rx buffers. */
static void rx_pump(struct vsock *v)
{
	struct virtq *vq = &v->dev.vq[RXQ];
	struct virtq_chain *ch = &v->chain;
	const char *why;
	bool used = false;

	if (!virtio_live(&v->dev) || !vq->ready)
		return;
	for (;;) {
		struct conn *c = v->nrst ? NULL : pick(v);
		uint32_t n;
		int r;

		if (!c && !v->nrst)
			break;
		r = virtq_pop(vq, ch, &why);
		if (r == 0)
			break;
		if (r < 0 || ch->out_len || ch->in_len < sizeof(struct virtio_vsock_hdr)) {
			virtio_fail(&v->dev, r < 0 ? why :
			    "rx buffer not writable or shorter than a header");
			return;
		}
		if (!c) {
			struct virtio_vsock_hdr h = {
				.src_cid = VSOCK_HOST_CID, .dst_cid = VSOCK_GUEST_CID,
				.src_port = v->rsts[0].local_port,
				.dst_port = v->rsts[0].peer_port,
				.type = VSOCK_TYPE_STREAM, .op = OP_RST,
			};
			memmove(v->rsts, v->rsts + 1, --v->nrst * sizeof v->rsts[0]);
			iov_from_buf(ch->in, ch->nin, 0, &h, sizeof h);
			virtq_push(vq, ch, sizeof h);
			used = true;
			continue;
		}
		r = fill_rx(v, c, &n);
		if (r == 0) {
			virtq_unpop(vq);
			continue;
		}
		virtq_push(vq, ch, r < 0 ? n : (uint32_t)r);
		used = true;
		if (r > 0)
			conn_update_events(c);
	}
	if (used)
		virtio_notify(&v->dev, RXQ);
}

static int connect_host(struct vsock *v, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s_%u", v->path,
	    port) >= sizeof sa.sun_path)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One packet from the guest. Returns -1 when it is malformed. */
static int tx_packet(struct vsock *v, const struct virtq_chain *ch,
    const char **why)
{
	struct virtio_vsock_hdr h;
	struct conn *c;
	int fd;

	if (ch->in_len || ch->out_len < sizeof h) {
		*why = "tx packet shorter than a header, or writable";
		return -1;
	}
	iov_to_buf(ch->out, ch->nout, 0, &h, sizeof h);
	if (h.len != ch->out_len - sizeof h || h.len > VSOCK_MAX_PKT) {
		*why = "tx packet length disagrees with its buffers";
		return -1;
	}
	/* Packets not from the guest's CID to ours are dropped (5.10.6.6). */
	if (h.src_cid != v->guest_cid || h.dst_cid != VSOCK_HOST_CID)
		return 0;
	c = conn_find(v, h.dst_port, h.src_port);
	if (h.type != VSOCK_TYPE_STREAM) {
		if (h.op != OP_RST)
			queue_rst(v, h.dst_port, h.src_port);
		return 0;
	}
	if (c) {
		c->peer_buf_alloc = h.buf_alloc;
		c->peer_fwd_cnt = h.fwd_cnt;
	}
	switch (h.op) {
	case OP_REQUEST:
		if (c) {
			c->pending |= P_RST;
			break;
		}
		fd = connect_host(v, h.dst_port);
		if (fd < 0 || !(c = conn_new(v, fd))) {
			if (fd >= 0)
				close(fd);
			queue_rst(v, h.dst_port, h.src_port);
			break;
		}
		c->state = C_ESTABLISHED;
		c->local_port = h.dst_port;
		c->peer_port = h.src_port;
		c->peer_buf_alloc = h.buf_alloc;
		c->peer_fwd_cnt = h.fwd_cnt;
		c->pending |= P_RESPONSE;
		conn_update_events(c);
		break;
	case OP_RESPONSE:
		if (!c || c->state != C_CONNECTING) {
			if (c)
				c->pending |= P_RST;
			else
				queue_rst(v, h.dst_port, h.src_port);
			break;
		}
		c->state = C_ESTABLISHED;
		{
			char ok[32];
			int n = snprintf(ok, sizeof ok, "OK %u\n", c->local_port);

			if (send(c->fd, ok, n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
				c->pending |= P_RST;
		}
		conn_update_events(c);
		break;
	case OP_RW:
		if (!c || c->state != C_ESTABLISHED || c->guest_eof) {
			if (c)
				c->pending |= P_RST;
			else
				queue_rst(v, h.dst_port, h.src_port);
			break;
		}
		/* A guest that ignores our credit loses the connection. */
		if (h.len > VSOCK_CONN_BUF - c->len) {
			c->pending |= P_RST;
			break;
		}
		for (uint32_t off = 0; off < h.len;) {
			uint32_t tail = (c->head + c->len) % VSOCK_CONN_BUF;
			uint32_t chunk = h.len - off;

			if (chunk > VSOCK_CONN_BUF - tail)
				chunk = VSOCK_CONN_BUF - tail;
			iov_to_buf(ch->out, ch->nout, sizeof h + off,
			    c->buf + tail, chunk);
			c->len += chunk;
			off += chunk;
		}
		flush_to_host(c);
		conn_update_events(c);
		break;
	case OP_CREDIT_UPDATE:
		if (!c)
			queue_rst(v, h.dst_port, h.src_port);
		break;
	case OP_CREDIT_REQUEST:
		if (c)
			c->pending |= P_CREDIT;
		else
			queue_rst(v, h.dst_port, h.src_port);
		break;
	case OP_SHUTDOWN:
		if (!c)
			break;
		if (h.flags & SHUTDOWN_SEND)
			c->guest_eof = true;
		if (h.flags & SHUTDOWN_RCV)
			c->guest_no_rcv = true;
		flush_to_host(c);
		conn_update_events(c);
		break;
	case OP_RST:
		if (c) {
			flush_to_host(c);
			conn_free(c);
		}
		break;
	default:
		if (c)
			c->pending |= P_RST;
		else
			queue_rst(v, h.dst_port, h.src_port);
	}
	return 0;
}

static void vsock_kick(struct virtio_dev *dev, unsigned q)
{
	struct vsock *v = dev->priv;
	const char *why;
	bool used = false;
	int r;

	if (q == TXQ) {
		while ((r = virtq_pop(&dev->vq[TXQ], &v->chain, &why)) > 0) {
			if (tx_packet(v, &v->chain, &why) < 0) {
				virtio_fail(dev, why);
				return;
			}
			virtq_push(&dev->vq[TXQ], &v->chain, 0);
			used = true;
		}
		if (r < 0) {
			virtio_fail(dev, why);
			return;
		}
		if (used)
			virtio_notify(dev, TXQ);
	}
	/* The event queue is only filled; we send no events. */
	rx_pump(v);
}

/* "CONNECT <port>\n", read a byte at a time so nothing after the line
 * is consumed. Returns 1 when complete, 0 for more, -1 when bad. */
static int read_line(struct conn *c)
{
	for (;;) {
		char ch;
		ssize_t r = recv(c->fd, &ch, 1, MSG_DONTWAIT);
		unsigned long port;
		char *end;

		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (r == 0 || c->linelen == VSOCK_LINE_MAX - 1)
			return -1;
		if (ch != '\n') {
			c->line[c->linelen++] = ch;
			continue;
		}
		c->line[c->linelen] = 0;
		if (strncmp(c->line, "CONNECT ", 8) || c->line[8] < '0' ||
		    c->line[8] > '9')
			return -1;
		errno = 0;
		port = strtoul(c->line + 8, &end, 10);
		if (errno || *end || port > UINT32_MAX)
			return -1;
		c->peer_port = port;
		return 1;
	}
}

static uint32_t alloc_port(struct vsock *v)
{
	for (;;) {
		uint32_t p = v->next_port++;
		bool used = false;

		if (v->next_port < VSOCK_FIRST_LOCAL_PORT)
			v->next_port = VSOCK_FIRST_LOCAL_PORT;
		for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
			if (v->conns[i] && v->conns[i]->local_port == p)
				used = true;
		if (!used)
			return p;
	}
}

static void conn_io(void *arg, uint32_t events)
{
	struct conn *c = arg;
	struct vsock *v = c->v;
	int r;

	pthread_mutex_lock(&v->dev.lock);
	if (c->state == C_LINE) {
		r = read_line(c);
		if (r < 0) {
			conn_free(c);
			goto out;
		}
		if (r > 0) {
			c->state = C_CONNECTING;
			c->local_port = alloc_port(v);
			c->pending |= P_REQUEST;
		}
		conn_update_events(c);
		rx_pump(v);
		goto out;
	}
	if (events & EPOLLOUT)
		flush_to_host(c);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		c->readable = true;
	conn_update_events(c);
	rx_pump(v);
out:
	pthread_mutex_unlock(&v->dev.lock);
}

static void on_accept(void *arg, uint32_t events)
{
	struct vsock *v = arg;
	int fd;

	(void)events;
	fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	pthread_mutex_lock(&v->dev.lock);
	struct conn *c = conn_new(v, fd);
	if (!c) {
		debugf("vsock: refusing a connection, %d open", VSOCK_MAX_CONNS);
		close(fd);	/* at the limit: refused */
	}
	else {
		c->state = C_LINE;
		conn_update_events(c);
	}
	pthread_mutex_unlock(&v->dev.lock);
}

static void vsock_reset(struct virtio_dev *dev)
{
	struct vsock *v = dev->priv;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conns[i])
			conn_free(v->conns[i]);
	v->nrst = 0;
}

static void vsock_report(struct virtio_dev *dev)
{
	struct vsock *v = dev->priv;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = v->conns[i];

		if (!c)
			continue;
		warnf("vsock %u<->%u: state %d, owed %#x; to the guest: sent %u, "
		    "guest forwarded %u of its %u, readable %d, eof %d/%d; "
		    "from the guest: %u buffered, forwarded %u, told %u, "
		    "eof %d, no-receive %d; polling %#x", c->local_port,
		    c->peer_port, c->state, c->pending, c->tx_cnt,
		    c->peer_fwd_cnt, c->peer_buf_alloc, c->readable,
		    c->host_eof, c->sent_eof, c->len, c->fwd_cnt, c->fwd_told,
		    c->guest_eof, c->guest_no_rcv, c->events);
	}
	if (v->nrst)
		warnf("vsock: %u resets owed", v->nrst);
}

static const struct virtio_ops vsock_ops = {
	.device_id = VIRTIO_ID_VSOCK,
	.nqueues = 3,
	.kick = vsock_kick,
	.reset = vsock_reset,
	.report = vsock_report,
};

struct virtio_dev *vsock_new(const char *path, const struct gmem *mem,
    struct io *io)
{
	struct vsock *v = xcalloc(1, sizeof *v);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	v->path = xstrdup(path);
	v->guest_cid = VSOCK_GUEST_CID;
	v->next_port = VSOCK_FIRST_LOCAL_PORT;
	/* Room for "_4294967295" after the path, for guest connections. */
	if (strlen(path) + 11 >= sizeof sa.sun_path) {
		warnf("%s: socket path too long", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	/* A socket left by an earlier run is replaced; anything else not. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (v->listen_fd < 0 ||
	    bind(v->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(v->listen_fd, 16) < 0) {
		warnf("%s:", path);
		return NULL;
	}
	if (virtio_dev_init(&v->dev, "virtio-vsock", &vsock_ops, v, 0,
	    VSOCK_QUEUE_SIZE, mem, io) < 0 ||
	    io_add(io, v->listen_fd, EPOLLIN, on_accept, v) < 0)
		return NULL;
	v->dev.config = (const uint8_t *)&v->guest_cid;
	v->dev.config_len = sizeof v->guest_cid;
	return &v->dev;
}

void vsock_close(struct virtio_dev *dev)
{
	struct vsock *v = dev->priv;

	unlink(v->path);
}

static struct virtio_dev *the_vsock;

static int vsock_setup(struct vm *vm)
{
	if (!vm->cfg->vsock)
		return 0;
	the_vsock = vsock_new(vm->cfg->vsock, &vm->mem, vm->io);
	return the_vsock ? virtio_mmio_attach(vm, the_vsock) : -1;
}

static void vsock_teardown(struct vm *vm)
{
	(void)vm;
	if (the_vsock)
		vsock_close(the_vsock);
}

static struct device_type vsock_type = { .name = "virtio-vsock", .prio = 40,
    .setup = vsock_setup, .teardown = vsock_teardown };
DEVICE_REGISTER(vsock_type)
