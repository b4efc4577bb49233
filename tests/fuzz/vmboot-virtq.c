/* vmboot-virtq: libFuzzer target for vmboot's split-virtqueue parser
 * (vmboot/virtq.c), the code that reads everything a hostile guest puts
 * in its rings. The input is the queue's geometry followed by the guest
 * memory itself (two regions, as below and above 4 GiB), so descriptor
 * tables, rings, indexes, addresses and lengths are all the fuzzer's.
 * Every chain popped is read and written in full, so ASan catches any
 * iovec that points outside guest memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtq.h"

#define MEM_SIZE 0x4000
#define HIGH_GPA 0x100000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain c;
	static uint8_t scratch[VIRTQ_MAX_CHAIN_BYTES / 1024];
	struct gmem mem;
	struct virtq vq;
	uint8_t *low, *high;
	const char *why;
	size_t n;

	if (size < 26)
		return 0;
	/* Exact-size allocations, so a single byte too far is caught. */
	low = malloc(MEM_SIZE);
	high = malloc(MEM_SIZE);
	memset(low, 0, MEM_SIZE);
	memset(high, 0, MEM_SIZE);
	n = size - 26 < 2 * MEM_SIZE ? size - 26 : 2 * MEM_SIZE;
	memcpy(low, data + 26, n < MEM_SIZE ? n : MEM_SIZE);
	if (n > MEM_SIZE)
		memcpy(high, data + 26 + MEM_SIZE, n - MEM_SIZE);
	mem = (struct gmem){ .r = { { 0, MEM_SIZE, low },
	    { HIGH_GPA, MEM_SIZE, high } }, .nr = 2 };

	virtq_reset(&vq);
	/* A raw size half the time, a valid one otherwise. */
	vq.size = data[0] & 1 ? (uint16_t)(data[1] | data[0] << 8) :
	    1u << (data[1] % 9);
	vq.desc_gpa = get64(data + 2);
	vq.avail_gpa = get64(data + 10);
	vq.used_gpa = get64(data + 18);
	if (virtq_enable(&vq, &mem, &why) == 0) {
		for (int i = 0; i < 2 * VIRTQ_MAX_SIZE; i++) {
			int r = virtq_pop(&vq, &c, &why);

			if (r <= 0)
				break;
			iov_to_buf(c.out, c.nout, 0, scratch, sizeof scratch);
			iov_from_buf(c.in, c.nin, 0, scratch, sizeof scratch);
			if (i & 1)
				virtq_unpop(&vq), virtq_pop(&vq, &c, &why);
			virtq_push(&vq, &c, c.in_len);
			virtq_need_interrupt(&vq);
		}
	}
	free(low);
	free(high);
	return 0;
}
