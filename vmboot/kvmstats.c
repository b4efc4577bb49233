/* kvmstats.c: a vCPU's exit counters as KVM keeps them (the binary
 * stats fd, Linux 5.14+), for -v. vmboot sees only the exits that reach
 * userspace; these also count the ones KVM handles itself (in-kernel
 * PIT, PIC, IOAPIC and LAPIC, MSRs, CPUID, halts), which are what a
 * boot under nested virtualization pays for. */
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "err.h"
#include "vmboot.h"

#define STATS_LINE 1024

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

void kvm_stats_debug(int vcpu_fd, int id)
{
	struct kvm_stats_header h;
	char line[STATS_LINE];
	size_t used = 0, dsz;
	uint8_t *descs = NULL;
	int fd;

	if (!getenv("CZ_DEBUG"))
		return;
	fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return;		/* an older KVM: the userspace counts only */
	line[0] = 0;
	dsz = 0;
	if (read_at(fd, &h, sizeof h, 0) < 0 || h.num_desc > 4096 ||
	    h.name_size > 256)
		goto out;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(dsz * h.num_desc);
	if (!descs || read_at(fd, descs, dsz * h.num_desc, h.desc_offset) < 0)
		goto out;
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
		d->name[h.name_size - 1] = 0;
		n = snprintf(line + used, sizeof line - used, " %s %llu",
		    d->name, (unsigned long long)v);
		if (n < 0 || (size_t)n >= sizeof line - used)
			break;
		used += n;
	}
	debugf("cpu%d: KVM counts:%s", id, line);
out:
	free(descs);
	close(fd);
}
