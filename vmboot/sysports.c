/* sysports.c: the few ports that are not devices.
 *  0x64     keyboard controller command: 0xfe resets the machine, which
 *           is how the guest reboots (reboot=k); vmboot then exits. A
 *           reset with the BIOS warm-boot flag (0x1234 at 0x472) set is a
 *           panic: vmboot's command line has the kernel reboot warm only
 *           after one (reboot=cold,panic_warm).
 *  0x3f0    boot timer (Firecracker's convention): the guest writes 123
 *           when userspace is reached; vmboot notes the time.
 *  0x3f1    exit status: a guest with port access (iopl) writes its
 *           status byte; vmboot stops and exits with it. vminit reports
 *           over vsock instead, to vm_report_main_status too.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "vmboot.h"

#define I8042_COMMAND	0x64
#define I8042_RESET	0xfe
#define BOOT_TIMER_PORT	0x3f0
#define BOOT_TIMER_MAGIC 123
#define STATUS_PORT	0x3f1
#define BIOS_RESET_FLAG	0x472	/* guest-physical: a 16-bit word */
#define RESET_WARM	0x1234

/* The guest wrote the flag itself; it may lie, but only about itself. */
static enum vm_stop reset_reason(const struct vm *vm)
{
	uint16_t flag;

	if (vm->ram_size < BIOS_RESET_FLAG + sizeof flag)
		return VM_STOP_RESET;
	memcpy(&flag, vm->ram + BIOS_RESET_FLAG, sizeof flag);
	return flag == RESET_WARM ? VM_STOP_PANIC : VM_STOP_RESET;
}

static void i8042_io(void *priv, uint64_t off, uint8_t *data, uint32_t len,
    bool write)
{
	(void)off;
	if (!write) {
		/* Status: output buffer empty, input buffer empty. */
		for (uint32_t i = 0; i < len; i++)
			data[i] = 0;
		return;
	}
	if (data[0] == I8042_RESET)
		vm_set_stop(priv, reset_reason(priv), 0);
}

static void debug_io(void *priv, uint64_t off, uint8_t *data, uint32_t len,
    bool write)
{
	struct vm *vm = priv;

	(void)len;
	if (!write) {
		data[0] = 0;
		return;
	}
	if (off == 0 && data[0] == BOOT_TIMER_MAGIC) {
		double t = now_mono() - vm->t_start;

		if (vm->cfg->boot_time)
			fprintf(stderr, "%s: guest userspace reached after "
			    "%.3f ms\n", progname, t * 1e3);
		vm->t_userspace = t;
		debugf("%.1f ms: boot timer: guest userspace ready", t * 1e3);
	} else if (off == 1) {
		vm_report_main_status(vm, data[0]);
	}
}

static int sysports_setup(struct vm *vm)
{
	pio_register(I8042_COMMAND, 1, i8042_io, vm);
	pio_register(BOOT_TIMER_PORT, 2, debug_io, vm);
	return 0;
}

static struct device_type sysports_type = { .name = "sysports", .prio = 0,
    .setup = sysports_setup };
DEVICE_REGISTER(sysports_type)
