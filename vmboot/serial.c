/* serial.c: the console, an 8250/16550A UART at 0x3f8 on ISA line 4.
 * Output goes straight to the console file; the transmitter is always
 * empty, and its interrupt (when enabled) is raised through an irqfd.
 * There is no input yet: the receiver is always empty. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
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
#define UART_IER_THRI	0x02
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_FIFO	0xc0
#define UART_FCR_ENABLE	0x01
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_MCR_LOOP	0x10
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

struct serial {
	pthread_mutex_t lock;
	struct vm *vm;
	int out;		/* console fd, or -1 */
	int irqfd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;
};

static void raise_thri(struct serial *s)
{
	uint64_t one = 1;

	if (!(s->ier & UART_IER_THRI))
		return;
	s->thri_pending = true;
	if (write(s->irqfd, &one, sizeof one) < 0)
		warnf("serial: interrupt:");
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
			if (s->out >= 0 && !(s->mcr & UART_MCR_LOOP) &&
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
			raise_thri(s);	/* the transmitter is already empty */
			break;
		case UART_IIR: s->fcr = v; break;
		case UART_LCR: s->lcr = v; break;
		case UART_MCR: s->mcr = v; break;
		case UART_SCR: s->scr = v; break;
		}
	} else {
		uint8_t v = 0;

		switch (off) {
		case UART_TX: v = dlab ? s->dll : 0; break;
		case UART_IER: v = dlab ? s->dlm : s->ier; break;
		case UART_IIR:
			if (s->thri_pending && (s->ier & UART_IER_THRI)) {
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
		case UART_LSR: v = UART_LSR_THRE | UART_LSR_TEMT; break;
		case UART_MSR: v = msr(s); break;
		case UART_SCR: v = s->scr; break;
		}
		*data = v;
	}
	pthread_mutex_unlock(&s->lock);
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
	pio_register(SERIAL_PORT, 8, serial_io, s);
	vm_cmdline_append(vm, "console=ttyS0");
	return 0;
}

static struct device_type serial_type = { .name = "serial", .prio = 0,
    .setup = serial_setup };
DEVICE_REGISTER(serial_type)
