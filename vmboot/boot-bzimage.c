/* boot-bzimage.c: a bzImage started through the 64-bit boot protocol
 * (Documentation/x86/boot.rst): the protected-mode part loaded at 1 MiB,
 * a zero page holding the setup header, e820 map, command line and
 * initramfs, and long mode set up by vmboot (cpu.c). */
#include <string.h>

#include "err.h"
#include "vmboot.h"

/* Offsets in struct boot_params (arch/x86/include/uapi/asm/bootparam.h) */
enum {
	BP_EXT_RAMDISK_IMAGE = 0x0c0, BP_EXT_RAMDISK_SIZE = 0x0c4,
	BP_EXT_CMD_LINE_PTR = 0x0c8, BP_E820_ENTRIES = 0x1e8,
	BP_HDR = 0x1f1, BP_SETUP_SECTS = 0x1f1, BP_BOOT_FLAG = 0x1fe,
	BP_JUMP = 0x200, BP_HEADER = 0x202, BP_VERSION = 0x206,
	BP_TYPE_OF_LOADER = 0x210, BP_LOADFLAGS = 0x211,
	BP_RAMDISK_IMAGE = 0x218, BP_RAMDISK_SIZE = 0x21c,
	BP_HEAP_END_PTR = 0x224, BP_CMD_LINE_PTR = 0x228,
	BP_INITRD_ADDR_MAX = 0x22c, BP_XLOADFLAGS = 0x236,
	BP_E820_TABLE = 0x2d0, BP_E820_MAX = 128, BP_SIZE = 0x1000,
};
#define BZ_LOAD_ADDR	0x100000ULL
#define LOADED_HIGH	0x01
#define CAN_USE_HEAP	0x80
#define XLF_KERNEL_64	0x01
#define LOADER_UNDEFINED 0xff

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

int boot_bzimage_load(struct vm *vm, struct kernel_file *kf,
    struct boot_regs *br)
{
	const uint8_t *k = kf->map;
	size_t klen = kf->len;
	uint8_t *bp = gmem_ptr(&vm->mem, BOOT_INFO_ADDR, BP_SIZE);
	size_t setup, hdr_end;
	uint16_t version;
	void *dst;

	if (klen < 0x270 || memcmp(k + BP_HEADER, "HdrS", 4))
		return 0;
	memcpy(&version, k + BP_VERSION, 2);
	if (version < 0x20c || !(k[BP_XLOADFLAGS] & XLF_KERNEL_64))
		die("%s: bzImage without the 64-bit entry point (boot "
		    "protocol 2.12 or later)", vm->cfg->kernel);
	setup = (k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4) + 1;
	setup *= 512;
	hdr_end = BP_JUMP + 2 + k[BP_JUMP + 1];
	if (setup >= klen || hdr_end > setup || hdr_end > BP_E820_TABLE)
		die("%s: malformed bzImage header", vm->cfg->kernel);
	dst = gmem_ptr(&vm->mem, BZ_LOAD_ADDR, klen - setup);
	if (!bp || !dst)
		die("%s: kernel does not fit in guest memory", vm->cfg->kernel);
	kernel_copy(vm, kf, dst, setup, klen - setup);
	memset(bp, 0, BP_SIZE);
	memcpy(bp + BP_HDR, k + BP_HDR, hdr_end - BP_HDR);
	br->pvh = false;
	br->entry = BZ_LOAD_ADDR + 0x200;	/* startup_64 */
	br->arg = BOOT_INFO_ADDR;
	return 1;
}

void boot_bzimage_finish(struct vm *vm, const struct boot_image *bi,
    struct boot_regs *br)
{
	uint8_t *bp = gmem_ptr(&vm->mem, BOOT_INFO_ADDR, BP_SIZE);
	char *cl = gmem_ptr(&vm->mem, BOOT_CMDLINE_ADDR, CMDLINE_MAX);
	struct e820_entry_le e[8];
	int n = e820_build(vm, e, 8);

	(void)br;
	if (!bp || !cl)
		die("guest memory too small for the boot information");
	memcpy(cl, vm->cmdline, strlen(vm->cmdline) + 1);
	bp[BP_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[BP_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	bp[BP_HEAP_END_PTR] = 0x00;
	bp[BP_HEAP_END_PTR + 1] = 0xfe;		/* 0xfe00 */
	put32(bp + BP_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	put32(bp + BP_EXT_CMD_LINE_PTR, 0);
	put32(bp + BP_RAMDISK_IMAGE, (uint32_t)bi->initrd_addr);
	put32(bp + BP_RAMDISK_SIZE, (uint32_t)bi->initrd_size);
	put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(bi->initrd_addr >> 32));
	put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(bi->initrd_size >> 32));
	bp[BP_E820_ENTRIES] = n;
	memcpy(bp + BP_E820_TABLE, e, n * sizeof e[0]);
}

/* The highest address the kernel accepts for an initramfs. */
uint64_t boot_bzimage_initrd_max(struct vm *vm)
{
	uint8_t *bp = gmem_ptr(&vm->mem, BOOT_INFO_ADDR, BP_SIZE);
	uint32_t max = bp ? get32(bp + BP_INITRD_ADDR_MAX) : 0;

	return max ? max : 0x37ffffff;
}
