/* relay.c: copies bytes from in to out through a small buffer, reading
 * only when the buffer is empty, so a slow peer slows its process rather
 * than PID 1. */
#include "vminit.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct relay {
	struct watch in, out;
	char buf[16384];
	size_t off, len;
	int eof, close_out;
};

static void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void relay_finish(struct relay *r)
{
	ev_del(&r->in);
	close(r->in.fd);
	r->in.fd = -1;
	if (r->close_out) {
		ev_del(&r->out);
		shutdown(r->out.fd, SHUT_WR);
		close(r->out.fd);
		r->out.fd = -1;
	}
}

/* Writes what is buffered; 1 when the buffer is empty. */
static int drain(struct relay *r)
{
	while (r->off < r->len) {
		ssize_t n = write(r->out.fd, r->buf + r->off, r->len - r->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {	/* the reader went away: discard */
			r->off = r->len;
			break;
		}
		r->off += (size_t)n;
	}
	r->off = r->len = 0;
	return 1;
}

static void on_out(struct watch *w, uint32_t events)
{
	struct relay *r = w->owner;

	(void)events;
	if (!drain(r))
		return;
	ev_mod(&r->out, 0);
	if (r->eof)
		relay_finish(r);
	else if (r->in.fd >= 0)
		ev_mod(&r->in, EPOLLIN);
}

static void on_in(struct watch *w, uint32_t events)
{
	struct relay *r = w->owner;
	ssize_t n;

	(void)events;
	n = read(r->in.fd, r->buf, sizeof r->buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {	/* EOF, or EIO from a master whose slave closed */
		r->eof = 1;
		relay_finish(r);
		return;
	}
	r->len = (size_t)n;
	r->off = 0;
	if (!drain(r)) {
		ev_mod(&r->in, 0);
		ev_mod(&r->out, EPOLLOUT);
	}
}

struct relay *relay_new(int in, int out, int close_out_at_eof)
{
	struct relay *r = xcalloc(1, sizeof *r);

	nonblock(in);
	nonblock(out);
	r->in = (struct watch){ .fd = in, .cb = on_in, .owner = r };
	r->out = (struct watch){ .fd = out, .cb = on_out, .owner = r };
	r->close_out = close_out_at_eof;
	ev_add(&r->in, EPOLLIN);
	ev_add(&r->out, 0);
	return r;
}

void relay_stop(struct relay *r)
{
	if (r->in.fd < 0)
		return;
	ev_del(&r->in);
	close(r->in.fd);
	r->in.fd = -1;
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	relay_stop(r);
	if (r->out.fd >= 0) {
		ev_del(&r->out);
		close(r->out.fd);
	}
	ev_free_later(r);
}
