/* vm.c: the parts of the VM every device shares: the command line the
 * devices append to, interrupt lines and MMIO windows, the init list of
 * device types, and how the guest's stop is recorded. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void vm_cmdline_append(struct vm *vm, const char *fmt, ...)
{
	size_t n = strlen(vm->cmdline);
	va_list ap;
	int r;

	if (n && n + 1 < sizeof vm->cmdline)
		vm->cmdline[n++] = ' ';
	va_start(ap, fmt);
	r = vsnprintf(vm->cmdline + n, sizeof vm->cmdline - n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof vm->cmdline - n)
		die("kernel command line longer than %d bytes", CMDLINE_MAX - 1);
}

int vm_alloc_irq(struct vm *vm)
{
	if (vm->next_irq > MAX_IRQ)
		return -1;
	return vm->next_irq++;
}

uint64_t vm_alloc_mmio(struct vm *vm)
{
	uint64_t a = vm->next_mmio;

	if (a + MMIO_WINDOW > IOAPIC_ADDR)
		return 0;
	vm->next_mmio += MMIO_WINDOW;
	return a;
}

void vm_set_stop(struct vm *vm, enum vm_stop why, int status)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop == VM_RUNNING) {
		vm->stop = why;
		vm->status = status;
		if (write(vm->stop_efd, &one, sizeof one) < 0)
			warnf("stop:");
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

void vm_report_main_status(struct vm *vm, int status)
{
	vm_set_stop(vm, VM_STOP_STATUS, status & 0xff);
}

static struct device_type *types;

void device_register(struct device_type *t)
{
	struct device_type **p = &types;

	while (*p && (*p)->prio <= t->prio)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

int devices_setup(struct vm *vm)
{
	for (struct device_type *t = types; t; t = t->next)
		if (t->setup(vm) < 0)
			return -1;
	return 0;
}

void devices_teardown(struct vm *vm)
{
	for (struct device_type *t = types; t; t = t->next)
		if (t->teardown)
			t->teardown(vm);
}
