/* io.c: the device thread's event loop: epoll over the devices' file
 * descriptors, one callback each. A handler removed while a round is in
 * flight is only freed after the round. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"
#include "xalloc.h"

#define IO_BATCH 64

struct io_handler {
	int fd;
	io_fn *fn;
	void *arg;
	struct io_handler *next;	/* on the dead list */
};

struct io {
	int epfd, wakefd;
	pthread_t thread;
	bool running, stopping;
	pthread_mutex_t lock;		/* guards the handler list */
	struct io_handler **by_fd;
	size_t nfd;
	struct io_handler *dead;
};

struct io *io_new(void)
{
	struct io *io = xcalloc(1, sizeof *io);

	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	io->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io->epfd < 0 || io->wakefd < 0)
		die("epoll:");
	pthread_mutex_init(&io->lock, NULL);
	if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->wakefd,
	    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = NULL }) < 0)
		die("epoll_ctl:");
	return io;
}

static void reap(struct io *io)
{
	while (io->dead) {
		struct io_handler *h = io->dead;

		io->dead = h->next;
		free(h);
	}
}

void io_free(struct io *io)
{
	for (size_t i = 0; i < io->nfd; i++)
		free(io->by_fd[i]);
	reap(io);
	free(io->by_fd);
	close(io->epfd);
	close(io->wakefd);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

int io_add(struct io *io, int fd, uint32_t events, io_fn *fn, void *arg)
{
	struct io_handler *h = xmalloc(sizeof *h);
	size_t cap = io->nfd;

	*h = (struct io_handler){ fd, fn, arg, NULL };
	pthread_mutex_lock(&io->lock);
	if ((size_t)fd >= io->nfd) {
		io->by_fd = xgrow(io->by_fd, &cap, fd + 1, sizeof *io->by_fd);
		for (size_t i = io->nfd; i < cap; i++)
			io->by_fd[i] = NULL;
		io->nfd = cap;
	}
	io->by_fd[fd] = h;
	pthread_mutex_unlock(&io->lock);
	if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd,
	    &(struct epoll_event){ .events = events, .data.ptr = h }) < 0) {
		warnf("epoll_ctl add %d:", fd);
		pthread_mutex_lock(&io->lock);
		io->by_fd[fd] = NULL;
		pthread_mutex_unlock(&io->lock);
		free(h);
		return -1;
	}
	return 0;
}

int io_mod(struct io *io, int fd, uint32_t events, io_fn *fn, void *arg)
{
	struct io_handler *h = (size_t)fd < io->nfd ? io->by_fd[fd] : NULL;

	if (!h)
		return io_add(io, fd, events, fn, arg);
	h->fn = fn;
	h->arg = arg;
	if (epoll_ctl(io->epfd, EPOLL_CTL_MOD, fd,
	    &(struct epoll_event){ .events = events, .data.ptr = h }) < 0) {
		warnf("epoll_ctl mod %d:", fd);
		return -1;
	}
	return 0;
}

void io_del(struct io *io, int fd)
{
	struct io_handler *h;

	pthread_mutex_lock(&io->lock);
	h = (size_t)fd < io->nfd ? io->by_fd[fd] : NULL;
	if (h) {
		io->by_fd[fd] = NULL;
		h->fn = NULL;
		h->next = io->dead;
		io->dead = h;
	}
	pthread_mutex_unlock(&io->lock);
	if (h)
		epoll_ctl(io->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int io_run_once(struct io *io, int timeout_ms)
{
	struct epoll_event ev[IO_BATCH];
	int n;

	n = epoll_wait(io->epfd, ev, IO_BATCH, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		warnf("epoll_wait:");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct io_handler *h = ev[i].data.ptr;
		uint64_t v;

		if (!h) {
			if (read(io->wakefd, &v, sizeof v) < 0 && errno != EAGAIN)
				warnf("io wake:");
			continue;
		}
		if (h->fn)
			h->fn(h->arg, ev[i].events);
	}
	pthread_mutex_lock(&io->lock);
	reap(io);
	pthread_mutex_unlock(&io->lock);
	return n;
}

static void *io_thread(void *arg)
{
	struct io *io = arg;

	while (!__atomic_load_n(&io->stopping, __ATOMIC_ACQUIRE))
		if (io_run_once(io, -1) < 0)
			break;
	return NULL;
}

void io_start(struct io *io)
{
	int e = pthread_create(&io->thread, NULL, io_thread, io);

	if (e) {
		errno = e;
		die("device thread:");
	}
	io->running = true;
}

void io_stop(struct io *io)
{
	uint64_t one = 1;

	if (!io->running)
		return;
	__atomic_store_n(&io->stopping, true, __ATOMIC_RELEASE);
	if (write(io->wakefd, &one, sizeof one) < 0)
		warnf("io wake:");
	pthread_join(io->thread, NULL);
	io->running = false;
}
