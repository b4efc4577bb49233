/* proto-decode.c: libFuzzer target for lib/proto's decoder: every byte a
 * vminit peer sends is untrusted (a guest's replies to vmboot, a host's
 * requests to vminit). The input is a stream of messages, read as vminit's
 * server reads them. Beyond "no crash": what proto_validate accepts must
 * iterate cleanly at every depth, and re-encoding it with proto_put must
 * give the same attributes back. */
#include "proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int depth_max;

/* Walks a validated run: reads each attribute with every getter, and
 * re-encodes it into m (nested ones recursively). */
static void walk(const uint8_t *data, size_t len, struct proto_msg *m, int depth)
{
	struct proto_iter it;
	struct proto_attr a;
	uint32_t u32;
	uint64_t u64;
	const char *s;
	int r;

	if (depth > depth_max)
		depth_max = depth;
	proto_iter_init(&it, data, len);
	while ((r = proto_next(&it, &a)) > 0) {
		if (a.data < data || a.data + a.len > data + len)
			abort();	/* an attribute outside its run */
		proto_get_u32(&a, &u32);
		proto_get_u64(&a, &u64);
		if ((s = proto_get_str(&a)) && strlen(s) + 1 != a.len)
			abort();
		if (a.nested) {
			size_t off = proto_nest_start(m, a.type);
			walk(a.data, a.len, m, depth + 1);
			proto_nest_end(m, off);
		} else {
			proto_put(m, a.type, a.data, a.len);
		}
	}
	if (r < 0)
		abort();	/* proto_validate said it was well formed */
}

/* Two runs hold the same attributes, padding aside (a nest may grow by
 * the padding its unpadded last member gets). */
static int same(const uint8_t *x, size_t xl, const uint8_t *y, size_t yl)
{
	struct proto_iter i, j;
	struct proto_attr a, b;
	int r, s;

	proto_iter_init(&i, x, xl);
	proto_iter_init(&j, y, yl);
	for (;;) {
		r = proto_next(&i, &a);
		s = proto_next(&j, &b);
		if (r != s)
			return 0;
		if (r <= 0)
			return 1;
		if (a.type != b.type || a.nested != b.nested ||
		    (!a.nested && a.len != b.len))
			return 0;
		if (a.nested ? !same(a.data, a.len, b.data, b.len)
			     : memcmp(a.data, b.data, a.len) != 0)
			return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_hdr h;
	const char *why;

	while (size >= PROTO_HDR_LEN) {
		struct proto_msg m = { 0 };
		const uint8_t *body;
		size_t blen, n;

		if (proto_hdr_decode(data, size, &h, &why) < 0)
			break;
		if (h.len > size)
			break;	/* the server would wait for the rest */
		body = data + PROTO_HDR_LEN;
		blen = h.len - PROTO_HDR_LEN;
		proto_op_name(h.type);
		if (proto_validate(body, blen) == 0) {
			proto_init(&m, h.type, h.flags, h.id);
			walk(body, blen, &m, 0);
			n = proto_finish(&m);
			if (n == 0 && m.len <= PROTO_MAX_MSG)
				abort();
			if (n && !same(body, blen, m.buf + PROTO_HDR_LEN, n - PROTO_HDR_LEN))
				abort();	/* re-encoding changed it */
			if (n && proto_validate(m.buf + PROTO_HDR_LEN, n - PROTO_HDR_LEN) < 0)
				abort();
			proto_free(&m);
		} else {
			/* A refused run may still be iterated, up to its fault. */
			struct proto_iter it;
			struct proto_attr a;
			proto_iter_msg(&it, data, h.len);
			while (proto_next(&it, &a) > 0)
				proto_get_str(&a);
		}
		data += h.len;
		size -= h.len;
	}
	return 0;
}
