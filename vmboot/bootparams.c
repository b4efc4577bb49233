/* bootparams.c: the guest's memory map, shared by the PVH and bzImage
 * boot paths, and where the initramfs goes. */
#include <string.h>
#include <sys/mman.h>

#include "err.h"
#include "vmboot.h"

/* The BIOS areas stay out of the RAM map: 640 KiB of conventional
 * memory, then RAM from 1 MiB; the MP table lives in the hole. */
#define EBDA_START 0x9fc00ULL
#define HIGH_MEM_START 0x100000ULL

int e820_build(const struct vm *vm, struct e820_entry_le *e, int max)
{
	uint64_t low = vm->ram_size < LOW_RAM_END ? vm->ram_size : LOW_RAM_END;
	int n = 0;

	if (max < 4)
		die("e820: table too small");
	e[n++] = (struct e820_entry_le){ 0, EBDA_START, E820_RAM };
	e[n++] = (struct e820_entry_le){ EBDA_START, HIGH_MEM_START - EBDA_START,
	    E820_RESERVED };
	e[n++] = (struct e820_entry_le){ HIGH_MEM_START, low - HIGH_MEM_START,
	    E820_RAM };
	if (vm->ram_size > low)
		e[n++] = (struct e820_entry_le){ HIGH_RAM_START,
		    vm->ram_size - low, E820_RAM };
	return n;
}

void initrd_place(struct vm *vm, const uint8_t *data, size_t len,
    uint64_t max, struct boot_image *bi)
{
	uint64_t top = vm->ram_size < LOW_RAM_END ? vm->ram_size : LOW_RAM_END;
	uint64_t addr;
	void *p;

	if (top > max + 1)
		top = max + 1;
	/* Keep clear of the kernel image, loaded from 1 MiB up. */
	if (len > top || ((top - len) & ~0xfffULL) < 64ULL << 20)
		die("initramfs of %zu bytes does not fit in guest memory "
		    "(use a larger -m)", len);
	addr = (top - len) & ~0xfffULL;
	p = gmem_ptr(&vm->mem, addr, len);
	if (!p)
		die("initramfs: no guest memory at 0x%llx", (unsigned long long)addr);
	madvise(p, len, MADV_POPULATE_WRITE);	/* addr is page-aligned */
	memcpy(p, data, len);
	bi->initrd_addr = addr;
	bi->initrd_size = len;
}
