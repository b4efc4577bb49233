/* arch.c: foreign architectures, cz's answer to Rosetta (issue 9). A
 * linux/arm64 image runs on this x86_64 host through Debian's
 * qemu-user-static interpreter: vmboot packs it into the guest's
 * initramfs beside vminit, and asks vminit to register it with
 * binfmt_misc with the F flag, so the kernel opens it at registration, in
 * the machine, and a container's own mount namespace never needs to hold
 * it. Why the initramfs and not a disk: F wants a regular file, so a raw
 * disk would be copied into guest memory anyway, and a filesystem image
 * would have to be built and cached; the initramfs is the same copy with
 * no device, temporary file or cache. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "err.h"
#include "vmboot.h"
#include "xalloc.h"

/* Where the interpreters are: Debian's qemu-user-static. */
#define QEMU_DIR	"/usr/bin"
/* Where the interpreter is in the guest's initramfs. */
#define GUEST_DIR	"/cz"

struct guest_arch {
	const char *oci;	/* GOARCH, as image configs and --arch say it */
	const char *uname;	/* uname -m, also taken by --arch */
	/* binfmt_misc's magic and mask, as Debian's /usr/lib/binfmt.d has
	 * them (ELF class, data, machine) */
	const char *magic, *mask;
};

static const struct guest_arch foreign[] = {
	{ "arm64", "aarch64",
	  "\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
	  "\\x00\\x00\\x02\\x00\\xb7\\x00",
	  "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff"
	  "\\xff\\xff\\xfe\\xff\\xff\\xff" },
};
/* What the guest kernel runs itself. */
static const char *const native[] = { "amd64", "x86_64" };

int arch_lookup(const char *name, const struct guest_arch **ga)
{
	*ga = NULL;
	for (size_t i = 0; i < sizeof native / sizeof *native; i++)
		if (!strcmp(name, native[i]))
			return 0;
	for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++)
		if (!strcmp(name, foreign[i].oci) || !strcmp(name, foreign[i].uname)) {
			*ga = &foreign[i];
			return 0;
		}
	return -1;
}

char *arch_prepare(struct vm_config *cfg, const char *name)
{
	const struct guest_arch *ga;
	const char *dir = getenv("CZ_QEMU_DIR");
	struct utsname u;
	struct stat st;
	char *path;

	if (uname(&u) < 0)
		die("uname:");
	if (arch_lookup(name, &ga) < 0)
		die("image is linux/%s and this host is %s: cz runs amd64 and "
		    "arm64 images only", name, u.machine);
	if (!ga)
		return NULL;
	path = xasprintf("%s/qemu-%s-static", dir && *dir ? dir : QEMU_DIR,
	    ga->uname);
	errno = 0;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		die("image is linux/%s and this host is %s: install "
		    "qemu-user-static (%s: %s)", ga->oci, u.machine, path,
		    errno ? strerror(errno) : "not an executable file");
	cfg->interp = path;
	/* Debian's qemu keeps argv[0] (the P flag) only when its own name
	 * ends in "-binfmt-P", as in /usr/libexec/qemu-binfmt. */
	cfg->interp_at = xasprintf(GUEST_DIR "/%s-binfmt-P", ga->uname);
	/* Debian's registration: O hands qemu the open binary, P keeps
	 * argv[0], F opens the interpreter now. */
	return xasprintf(":qemu-%s:M::%s:%s:%s:OPF", ga->uname, ga->magic,
	    ga->mask, cfg->interp_at);
}
