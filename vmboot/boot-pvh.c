/* boot-pvh.c: an uncompressed ELF vmlinux started through its PVH entry
 * point (the Xen ELF note PHYS32_ENTRY), with an hvm_start_info.
 * Every header field is checked against the file and guest memory. */
#include <elf.h>
#include <string.h>

#include "err.h"
#include "vmboot.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578

/* xen/include/public/arch-x86/hvm/start_info.h, version 1 */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static bool in_file(size_t klen, uint64_t off, uint64_t len)
{
	return off <= klen && len <= klen - off;
}

/* The file ranges of the sections that take bytes in memory (SHF_ALLOC,
 * not NOBITS). n is 0 where the file has no usable section headers (or
 * more sections than this): every byte of a segment is then loaded. */
#define SECTIONS_MAX 64
struct sections {
	size_t n;
	struct { uint64_t off, len; } r[SECTIONS_MAX];
};

static void find_sections(const uint8_t *k, size_t klen, struct sections *s)
{
	const Elf64_Ehdr *eh = (const void *)k;

	s->n = 0;
	if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(klen, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
		return;
	for (int i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr sh;

		memcpy(&sh, k + eh->e_shoff + i * sizeof sh, sizeof sh);
		if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_type == SHT_NOBITS ||
		    !sh.sh_size)
			continue;
		if (s->n == SECTIONS_MAX || !in_file(klen, sh.sh_offset, sh.sh_size)) {
			s->n = 0;
			return;
		}
		s->r[s->n].off = sh.sh_offset;
		s->r[s->n++].len = sh.sh_size;
	}
}

/* Whether file bytes [a, b) are padding: in no section, and zero. */
static bool padding(const struct kernel_file *kf, const struct sections *s,
    uint64_t a, uint64_t b)
{
	if (!s->n)
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (s->r[i].off < b && a < s->r[i].off + s->r[i].len)
			return false;
	return kf->map[a] == 0 && !memcmp(kf->map + a, kf->map + a + 1, b - a - 1);
}

/* A PT_LOAD segment into guest memory at dst, but for its pages of
 * padding, which fresh guest memory already holds as zeros. The cz
 * kernel aligns .rodata to 2 MiB after .text: ~2 MiB of zeros that the
 * guest frees and poisons at the end of its boot. Mapped from the file,
 * each of those pages would cost a nested fault and a copy-on-write of a
 * page of zeros (0.15 s of the boot in the test host). */
static uint64_t load_segment(struct vm *vm, struct kernel_file *kf,
    const struct sections *s, const Elf64_Phdr *ph, uint8_t *dst)
{
	uint64_t o = ph->p_offset, end = o + ph->p_filesz, from = o, pg;
	uint64_t skipped = 0;

	for (pg = o & ~(uint64_t)(PAGE - 1); pg < end; pg += PAGE) {
		uint64_t a = pg > o ? pg : o;
		uint64_t b = pg + PAGE < end ? pg + PAGE : end;

		if (!padding(kf, s, a, b))
			continue;
		if (a > from)
			kernel_copy(vm, kf, dst + (from - o), from, a - from);
		skipped += b - a;
		from = b;
	}
	if (end > from)
		kernel_copy(vm, kf, dst + (from - o), from, end - from);
	return skipped;
}

static int find_entry(const uint8_t *k, size_t klen, const Elf64_Phdr *ph,
    uint64_t *entry)
{
	uint64_t off = ph->p_offset, end = ph->p_offset + ph->p_filesz;

	while (off + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr n;
		uint64_t name, desc;

		memcpy(&n, k + off, sizeof n);
		name = off + sizeof n;
		desc = name + ((n.n_namesz + 3) & ~3ULL);
		off = desc + ((n.n_descsz + 3) & ~3ULL);
		if (off > end || !in_file(klen, desc, n.n_descsz))
			return -1;
		if (n.n_type != XEN_ELFNOTE_PHYS32_ENTRY || n.n_namesz != 4 ||
		    memcmp(k + name, "Xen", 4))
			continue;
		*entry = 0;
		if (n.n_descsz == 4 || n.n_descsz == 8)
			memcpy(entry, k + desc, n.n_descsz);
		return *entry ? 0 : -1;
	}
	return -1;
}

int boot_pvh_load(struct vm *vm, struct kernel_file *kf,
    struct boot_regs *br)
{
	const uint8_t *k = kf->map;
	size_t klen = kf->len;
	const Elf64_Ehdr *eh = (const void *)k;
	uint64_t entry = 0;
	bool found = false;
	struct sections secs;
	uint64_t padding_bytes = 0;

	if (klen < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return 0;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(klen, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		die("%s: not an x86-64 ELF kernel", vm->cfg->kernel);
	find_sections(k, klen, &secs);
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		void *dst;

		memcpy(&ph, k + eh->e_phoff + i * sizeof ph, sizeof ph);
		if (!in_file(klen, ph.p_offset, ph.p_filesz))
			die("%s: segment %d outside the file", vm->cfg->kernel, i);
		if (ph.p_type == PT_NOTE && !found)
			found = find_entry(k, klen, &ph, &entry) == 0;
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz ||
		    !(dst = gmem_ptr(&vm->mem, ph.p_paddr, ph.p_memsz)))
			die("%s: segment %d does not fit in guest memory at 0x%llx",
			    vm->cfg->kernel, i, (unsigned long long)ph.p_paddr);
		/* Fresh guest memory is already zero past p_filesz. */
		padding_bytes += load_segment(vm, kf, &secs, &ph, dst);
	}
	if (!found)
		die("%s: ELF kernel without a PVH entry point "
		    "(build with CONFIG_PVH=y, or use the bzImage)", vm->cfg->kernel);
	debugf("%s: %llu KiB of padding left to fresh memory", vm->cfg->kernel,
	    (unsigned long long)(padding_bytes >> 10));
	br->pvh = true;
	br->entry = entry;
	br->arg = BOOT_INFO_ADDR;
	return 1;
}

void boot_pvh_finish(struct vm *vm, const struct boot_image *bi,
    struct boot_regs *br)
{
	struct hvm_start_info *si = gmem_ptr(&vm->mem, BOOT_INFO_ADDR, sizeof *si);
	struct hvm_modlist_entry *mod = gmem_ptr(&vm->mem, BOOT_MEMMAP_ADDR,
	    sizeof *mod);
	struct hvm_memmap_table_entry *mm;
	struct e820_entry_le e[8];
	char *cl = gmem_ptr(&vm->mem, BOOT_CMDLINE_ADDR, CMDLINE_MAX);
	int n = e820_build(vm, e, 8);

	mm = gmem_ptr(&vm->mem, BOOT_MEMMAP_ADDR + sizeof *mod, n * sizeof *mm);
	if (!si || !mod || !mm || !cl)
		die("guest memory too small for the boot information");
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ e[i].addr, e[i].size,
		    e[i].type, 0 };
	memcpy(cl, vm->cmdline, strlen(vm->cmdline) + 1);
	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC, .version = 1,
		.cmdline_paddr = BOOT_CMDLINE_ADDR,
		.memmap_paddr = BOOT_MEMMAP_ADDR + sizeof *mod,
		.memmap_entries = n,
	};
	if (bi->initrd_size) {
		*mod = (struct hvm_modlist_entry){ bi->initrd_addr,
		    bi->initrd_size, 0, 0 };
		si->nr_modules = 1;
		si->modlist_paddr = BOOT_MEMMAP_ADDR;
	}
	(void)br;
}
