/* gmem.h: guest physical memory as host pointers, with every access
 * range-checked. Nothing that comes from the guest is dereferenced
 * without passing through gmem_ptr. */
#ifndef VMBOOT_GMEM_H
#define VMBOOT_GMEM_H

#include <stdint.h>
#include <stddef.h>

#define GMEM_MAX_REGIONS 2

struct gmem_region {
	uint64_t gpa, size;
	uint8_t *hva;
};

struct gmem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	int nr;
};

/* The host address of [gpa, gpa+len) when the whole range lies in one
 * region, else NULL. len 0 is valid inside a region. */
static inline void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->nr; i++) {
		const struct gmem_region *r = &m->r[i];

		if (gpa >= r->gpa && len <= r->size &&
		    gpa - r->gpa <= r->size - len)
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

#endif
