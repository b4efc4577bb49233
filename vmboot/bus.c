/* bus.c: who answers a port or an MMIO address. Ranges are registered
 * before the vCPUs start and never change afterwards, so lookups need no
 * lock. */
#include <string.h>

#include "err.h"
#include "vmboot.h"

#define BUS_MAX 64

struct range {
	uint64_t base, len;
	bus_fn *fn;
	void *priv;
};

struct bus {
	struct range r[BUS_MAX];
	int n;
};

static struct bus pio_bus, mmio_bus;

static void add(struct bus *b, uint64_t base, uint64_t len, bus_fn *fn,
    void *priv)
{
	if (b->n == BUS_MAX)
		die("too many devices on the bus");
	b->r[b->n++] = (struct range){ base, len, fn, priv };
}

static int access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len,
    bool write)
{
	for (int i = 0; i < b->n; i++) {
		struct range *r = &b->r[i];

		if (addr >= r->base && addr - r->base < r->len &&
		    len <= r->len - (addr - r->base)) {
			r->fn(r->priv, addr - r->base, data, len, write);
			return 0;
		}
	}
	if (!write)
		memset(data, 0xff, len);
	return -1;
}

void pio_register(uint64_t base, uint64_t len, bus_fn *fn, void *priv)
{
	add(&pio_bus, base, len, fn, priv);
}

void mmio_register(uint64_t base, uint64_t len, bus_fn *fn, void *priv)
{
	add(&mmio_bus, base, len, fn, priv);
}

void mmio_each(bus_fn *fn, void (*each)(void *priv))
{
	for (int i = 0; i < mmio_bus.n; i++)
		if (mmio_bus.r[i].fn == fn)
			each(mmio_bus.r[i].priv);
}

int pio_access(uint64_t port, uint8_t *data, uint32_t len, bool write)
{
	return access(&pio_bus, port, data, len, write);
}

int mmio_access(uint64_t addr, uint8_t *data, uint32_t len, bool write)
{
	return access(&mmio_bus, addr, data, len, write);
}
