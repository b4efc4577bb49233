/* kvmstats.c: a vCPU's statistics as KVM keeps them (the binary stats
 * fd, Linux 5.14+; Documentation/virt/kvm/api.rst, KVM_GET_STATS_FD).
 * With CZ_DEBUG, or for a guest stopped by force, the exit counters:
 * vmboot sees only the exits that reach userspace; these also count the
 * ones KVM handles itself (in-kernel PIT, PIC, IOAPIC and LAPIC, MSRs,
 * CPUID, halts), which are what a boot under nested virtualization pays
 * for. For the power-off watch (cpu.c), single values read with a pread,
 * without stopping the vCPU. */
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"

#define STATS_LINE 1024
#define STATS_MAX_DESC 4096
#define STATS_MAX_NAME 256

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* The header and the descriptors (each dsz bytes, name NUL-terminated);
 * NULL when the fd does not hold sane ones. */
static uint8_t *read_descs(int fd, struct kvm_stats_header *h, size_t *dsz)
{
	uint8_t *descs;

	if (read_at(fd, h, sizeof *h, 0) < 0 || h->num_desc > STATS_MAX_DESC ||
	    h->name_size == 0 || h->name_size > STATS_MAX_NAME)
		return NULL;
	*dsz = sizeof(struct kvm_stats_desc) + h->name_size;
	descs = malloc(*dsz * h->num_desc);
	if (!descs || read_at(fd, descs, *dsz * h->num_desc,
	    h->desc_offset) < 0) {
		free(descs);
		return NULL;
	}
	for (uint32_t i = 0; i < h->num_desc; i++)
		((struct kvm_stats_desc *)(descs + i * *dsz))->name[h->name_size - 1] = 0;
	return descs;
}

int kvm_stats_open(int vcpu_fd, const char *const *names, int n, off_t *offs)
{
	struct kvm_stats_header h;
	uint8_t *descs;
	size_t dsz;
	int fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);

	for (int j = 0; j < n; j++)
		offs[j] = -1;
	if (fd < 0)
		return -1;
	descs = read_descs(fd, &h, &dsz);
	if (!descs) {
		close(fd);
		return -1;
	}
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsz);

		for (int j = 0; j < n; j++)
			if (d->size == 1 && !strcmp(d->name, names[j]))
				offs[j] = h.data_offset + d->offset;
	}
	free(descs);
	return fd;
}

int kvm_stats_get(int fd, off_t off, uint64_t *v)
{
	return read_at(fd, v, sizeof *v, off);
}

/* fd: the vCPU's stats fd that kvm_stats_open returned (-1 on an older
 * KVM: then only the userspace counts are shown). */
void kvm_stats_show(int fd, int id, bool always)
{
	struct kvm_stats_header h;
	char line[STATS_LINE];
	size_t used = 0, dsz;
	uint8_t *descs;
	__attribute__((format(printf, 1, 2)))
	void (*say)(const char *, ...) = always ? warnf : debugf;

	if ((!always && !getenv("CZ_DEBUG")) || fd < 0)
		return;
	line[0] = 0;
	descs = read_descs(fd, &h, &dsz);
	if (!descs)
		return;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsz);
		uint64_t v;
		int n;

		/* Plain counters only: no histograms, no instant values. */
		if ((d->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE ||
		    d->size != 1 ||
		    read_at(fd, &v, sizeof v, h.data_offset + d->offset) < 0 ||
		    v == 0)
			continue;
		n = snprintf(line + used, sizeof line - used, " %s %llu",
		    d->name, (unsigned long long)v);
		if (n < 0 || (size_t)n >= sizeof line - used)
			break;
		used += n;
	}
	say("cpu%d: KVM counts:%s", id, line);
	free(descs);
}
