/* serial.c: the console, an 8250/16550A UART at 0x3f8 on ISA line 4.
 * Output goes straight to the console file; the transmitter is always
 * empty. With --console stdio, stdin is the receiver's input: the device
 * thread reads it into a FIFO only while the port is open (receive
 * interrupt enabled and OUT2, the PC's interrupt gate, raised: Linux
 * sets both when a tty opens it and clears them when the last one closes)
 * and the FIFO has room. So input sent before the guest listens waits in
 * stdin instead of being lost to the driver's FIFO resets, and a guest
 * that stops reading stops vmboot reading. Interrupts are edges through
 * an irqfd: one whenever a condition appears that an 8250's level line
 * would raise for. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "vmboot.h"
#include "xalloc.h"

#define SERIAL_PORT 0x3f8

/* 16550A registers, by offset (DLAB selects the divisor at 0 and 1). */
enum { UART_TX = 0, UART_IER = 1, UART_IIR = 2, UART_LCR = 3, UART_MCR = 4,
	UART_LSR = 5, UART_MSR = 6, UART_SCR = 7 };
#define UART_LCR_DLAB	0x80
#define UART_IER_RDI	0x01
#define UART_IER_THRI	0x02
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_FIFO	0xc0
#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_LSR_DR	0x01
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80
#define RX_FIFO		64	/* the 16550A has 16; more costs nothing */

struct serial {
	pthread_mutex_t lock;
	struct vm *vm;
	int out;		/* console fd, or -1 */
	int in;			/* stdin, or -1: no input (or it ended) */
	bool in_sock;		/* in is a socket: recv, not read */
	bool in_own;		/* in is our non-blocking reopening of stdin */
	int irqfd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;
	bool in_armed;		/* stdin is in the device thread's epoll */
	uint8_t rx[RX_FIFO];
	unsigned rx_head, rx_len;
};

static void pulse(struct serial *s)
{
	uint64_t one = 1;

	if (write(s->irqfd, &one, sizeof one) < 0)
		warnf("serial: interrupt:");
}

static void raise_thri(struct serial *s)
{
	if (!(s->ier & UART_IER_THRI))
		return;
	s->thri_pending = true;
	pulse(s);
}

static void serial_input(void *arg, uint32_t events);

/* Under the lock: the guest has the port open and the FIFO has room. In
 * loopback the receiver hears only the transmitter. */
static bool listening(const struct serial *s)
{
	return s->in >= 0 && (s->ier & UART_IER_RDI) &&
	    (s->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2 &&
	    s->rx_len < RX_FIFO;
}

/* Under the lock: watch stdin (once) while the guest listens. */
static void arm_input(struct serial *s)
{
	if (s->in_armed || !listening(s))
		return;
	if (io_mod(s->vm->io, s->in, EPOLLIN | EPOLLONESHOT, serial_input,
	    s) < 0) {
		s->in = -1;
		return;
	}
	s->in_armed = true;
}

/* Under the lock: bytes into the receiver, an interrupt if enabled. */
static void receive(struct serial *s, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n && s->rx_len < RX_FIFO; i++)
		s->rx[(s->rx_head + s->rx_len++) % RX_FIFO] = buf[i];
	if (n && (s->ier & UART_IER_RDI))
		pulse(s);
}

/* Under the lock: the end of input, or an error: stop watching stdin for
 * good. The guest is not told (an 8250 has no such state). */
static void input_end(struct serial *s)
{
	io_del(s->vm->io, s->in);
	if (s->in_own)
		close(s->in);
	s->in = -1;
}

/* The device thread: stdin is readable (or hung up). The read happens
 * outside the lock, so a vCPU touching the port never waits on stdin; only
 * this thread adds to the FIFO, so the room it saw is still there. */
static void serial_input(void *arg, uint32_t events)
{
	struct serial *s = arg;
	struct pollfd p = { .events = POLLIN };
	uint8_t buf[RX_FIFO];
	size_t room = 0;
	ssize_t n = -1;
	int err;

	(void)events;
	pthread_mutex_lock(&s->lock);
	s->in_armed = false;
	if (listening(s))
		room = RX_FIFO - s->rx_len;
	p.fd = s->in;
	pthread_mutex_unlock(&s->lock);
	if (!room)
		return;		/* re-armed when the guest listens again */
	/* A blocking stdin we could not reopen: a stale event must not
	 * block the device thread. */
	errno = EAGAIN;
	if (s->in_sock)
		n = recv(p.fd, buf, room, MSG_DONTWAIT);
	else if (s->in_own || poll(&p, 1, 0) == 1)
		n = read(p.fd, buf, room);
	err = errno;
	pthread_mutex_lock(&s->lock);
	if (n > 0) {
		receive(s, buf, n);
	} else if (n == 0 || (err != EAGAIN && err != EINTR)) {
		errno = err;
		if (n < 0)
			warnf("console input:");
		debugf("console input ends");
		input_end(s);
	}
	arm_input(s);
	pthread_mutex_unlock(&s->lock);
}

static uint8_t msr(const struct serial *s)
{
	if (!(s->mcr & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	/* Loopback, which the kernel's probe checks: modem outputs feed
	 * the inputs. */
	return (s->mcr & 0x01 ? UART_MSR_DSR : 0) |
	    (s->mcr & 0x02 ? UART_MSR_CTS : 0) |
	    (s->mcr & 0x04 ? UART_MSR_RI : 0) |
	    (s->mcr & 0x08 ? UART_MSR_DCD : 0);
}

static void serial_io(void *priv, uint64_t off, uint8_t *data, uint32_t len,
    bool write)
{
	struct serial *s = priv;
	bool dlab;

	if (len != 1) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&s->lock);
	dlab = s->lcr & UART_LCR_DLAB;
	if (write) {
		uint8_t v = *data;

		switch (off) {
		case UART_TX:
			if (dlab) {
				s->dll = v;
				break;
			}
			if (s->mcr & UART_MCR_LOOP)
				receive(s, &v, 1);
			else if (s->out >= 0 &&
			    write_all(s->out, &v, 1) < 0 && errno != EAGAIN) {
				warnf("console:");
				s->out = -1;
			}
			s->thri_pending = false;
			raise_thri(s);
			break;
		case UART_IER:
			if (dlab) {
				s->dlm = v;
				break;
			}
			s->ier = v & 0x0f;
			if ((s->ier & UART_IER_RDI) && s->rx_len)
				pulse(s);
			raise_thri(s);	/* the transmitter is already empty */
			arm_input(s);
			break;
		case UART_IIR:
			s->fcr = v & ~(UART_FCR_CLEAR_RCVR | 0x04);
			if (v & UART_FCR_CLEAR_RCVR) {
				s->rx_len = 0;
				arm_input(s);
			}
			break;
		case UART_LCR: s->lcr = v; break;
		case UART_MCR:
			s->mcr = v & 0x1f;
			arm_input(s);
			break;
		case UART_SCR: s->scr = v; break;
		}
	} else {
		uint8_t v = 0;

		switch (off) {
		case UART_TX:
			if (dlab) {
				v = s->dll;
			} else if (s->rx_len) {
				v = s->rx[s->rx_head];
				s->rx_head = (s->rx_head + 1) % RX_FIFO;
				s->rx_len--;
				arm_input(s);
			}
			break;
		case UART_IER: v = dlab ? s->dlm : s->ier; break;
		case UART_IIR:
			if (s->rx_len && (s->ier & UART_IER_RDI)) {
				v = UART_IIR_RDI;
			} else if (s->thri_pending && (s->ier & UART_IER_THRI)) {
				v = UART_IIR_THRI;
				s->thri_pending = false;
			} else {
				v = UART_IIR_NO_INT;
			}
			if (s->fcr & UART_FCR_ENABLE)
				v |= UART_IIR_FIFO;
			break;
		case UART_LCR: v = s->lcr; break;
		case UART_MCR: v = s->mcr; break;
		case UART_LSR:
			v = UART_LSR_THRE | UART_LSR_TEMT |
			    (s->rx_len ? UART_LSR_DR : 0);
			break;
		case UART_MSR: v = msr(s); break;
		case UART_SCR: v = s->scr; break;
		}
		*data = v;
	}
	pthread_mutex_unlock(&s->lock);
}

/* stdin, when it is the console's input: --console stdio without --spec
 * (whose process has stdin), a pipe, socket or terminal (what epoll
 * takes), and not a terminal we would be stopped for reading (a
 * background job). stdin's own file is shared with the shell, so it stays
 * blocking: a pipe or terminal is opened again, non-blocking, through
 * /proc; a socket is read with MSG_DONTWAIT. */
static void console_input(struct serial *s, const struct vm *vm)
{
	struct stat st;
	int fd;

	s->in = -1;
	if (strcmp(vm->cfg->console, "stdio") || vm->cfg->spec ||
	    fstat(STDIN_FILENO, &st) < 0)
		return;
	if (S_ISSOCK(st.st_mode)) {
		s->in = STDIN_FILENO;
		s->in_sock = true;
		return;
	}
	if (!S_ISFIFO(st.st_mode) && !(isatty(STDIN_FILENO) &&
	    tcgetpgrp(STDIN_FILENO) == getpgrp()))
		return;
	s->in = STDIN_FILENO;
	fd = open("/proc/self/fd/0", O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd >= 0) {
		s->in = fd;
		s->in_own = true;
	}
}

static int serial_setup(struct vm *vm)
{
	struct serial *s = xcalloc(1, sizeof *s);

	pthread_mutex_init(&s->lock, NULL);
	s->vm = vm;
	s->out = vm->console_fd;
	s->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->irqfd < 0 || kvm_irqfd(vm, SERIAL_IRQ, s->irqfd) < 0) {
		warnf("serial: interrupt:");
		return -1;
	}
	/* Added disarmed (one-shot with no events: a hang-up fires once at
	 * most); arm_input watches it once the guest listens. */
	console_input(s, vm);
	if (s->in >= 0 &&
	    io_add(vm->io, s->in, EPOLLONESHOT, serial_input, s) < 0) {
		if (s->in_own)
			close(s->in);
		s->in = -1;
	}
	pio_register(SERIAL_PORT, 8, serial_io, s);
	vm_cmdline_append(vm, "console=ttyS0");
	return 0;
}

static struct device_type serial_type = { .name = "serial", .prio = 0,
    .setup = serial_setup };
DEVICE_REGISTER(serial_type)
