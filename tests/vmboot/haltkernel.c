/* haltkernel.c: the smallest ELF that vmboot loads as a PVH kernel: its
 * code and the Xen PHYS32_ENTRY note. Its guest only halts, so a test
 * can get past loading to what comes after (the KVM speed verdict)
 * without a real kernel. Build: cc -static -nostdlib -no-pie. */

/* namesz, descsz, type (18: PHYS32_ENTRY), "Xen", the entry address. */
__asm__(".pushsection .note.pvh, \"a\", @note\n"
	".balign 4\n"
	".long 4, 8, 18\n"
	".asciz \"Xen\"\n"
	".balign 4\n"
	".quad _start\n"
	".popsection");

void _start(void);

void _start(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}
