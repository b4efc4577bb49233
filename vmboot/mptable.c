/* mptable.c: an Intel MultiProcessor Specification 1.4 table, so a
 * kernel without ACPI finds every CPU, the IOAPIC, and the ISA interrupt
 * routing (each ISA line to the same IOAPIC pin, as KVM wires them). */
#include <string.h>

#include "err.h"
#include "vmboot.h"

/* MP spec 4.1: MP Floating Pointer Structure */
struct mpf_intel {
	char signature[4];	/* "_MP_" */
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature1, feature2, feature3, feature4, feature5;
} __attribute__((packed));

/* MP spec 4.2: MP Configuration Table Header */
struct mpc_table {
	char signature[4];	/* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

/* MP spec 4.3: entries */
struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
} __attribute__((packed));
struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));
struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));
struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
#define CPU_ENABLED	1
#define CPU_BOOTPROCESSOR 2
#define APIC_VERSION	0x14
#define IOAPIC_VERSION	0x11
#define MP_APIC_ALL	0xff
#define MPTABLE_MAX	4096

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return -s;
}

void mptable_write(struct vm *vm)
{
	uint8_t *base = gmem_ptr(&vm->mem, MPTABLE_ADDR, MPTABLE_MAX);
	struct mpf_intel *mpf = (void *)base;
	struct mpc_table *mpc = (void *)(base + sizeof *mpf);
	uint8_t *p = (uint8_t *)(mpc + 1);
	int ioapic_id = vm->ncpus, count = 0;

	if (!base)
		die("guest memory too small for the MP table");
	memset(base, 0, MPTABLE_MAX);
	for (int i = 0; i < vm->ncpus; i++) {
		struct mpc_cpu c = {
			.type = MP_PROCESSOR, .apicid = i, .apicver = APIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
			.cpufeature = 0x600, .featureflag = 0x201, /* FPU, APIC */
		};
		memcpy(p, &c, sizeof c);
		p += sizeof c;
		count++;
	}
	struct mpc_bus bus = { .type = MP_BUS, .busid = 0 };
	memcpy(bus.bustype, "ISA   ", 6);
	memcpy(p, &bus, sizeof bus);
	p += sizeof bus;
	count++;
	struct mpc_ioapic io = { .type = MP_IOAPIC, .apicid = ioapic_id,
	    .apicver = IOAPIC_VERSION, .flags = 1, .apicaddr = IOAPIC_ADDR };
	memcpy(p, &io, sizeof io);
	p += sizeof io;
	count++;
	for (int irq = 0; irq <= MAX_IRQ; irq++) {
		struct mpc_intsrc s = { .type = MP_INTSRC, .irqtype = MP_INT,
		    .srcbus = 0, .srcbusirq = irq, .dstapic = ioapic_id,
		    .dstirq = irq };
		memcpy(p, &s, sizeof s);
		p += sizeof s;
		count++;
	}
	struct mpc_intsrc l0 = { .type = MP_LINTSRC, .irqtype = MP_EXTINT,
	    .dstapic = MP_APIC_ALL, .dstirq = 0 };
	struct mpc_intsrc l1 = { .type = MP_LINTSRC, .irqtype = MP_NMI,
	    .dstapic = MP_APIC_ALL, .dstirq = 1 };
	memcpy(p, &l0, sizeof l0);
	p += sizeof l0;
	memcpy(p, &l1, sizeof l1);
	p += sizeof l1;
	count += 2;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec = 4;
	memcpy(mpc->oem, "CZ      ", 8);
	memcpy(mpc->productid, "VMBOOT      ", 12);
	mpc->oemcount = count;
	mpc->lapic = LAPIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = MPTABLE_ADDR + sizeof *mpf;
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof *mpf);
}
