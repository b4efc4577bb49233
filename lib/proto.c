/* proto.c: see proto.h. Both sides run on the same machine, but the wire
 * format is little-endian so a capture means the same thing anywhere. */
#include "proto.h"
#include "xalloc.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define NESTED 0x8000u

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }

static void reserve(struct proto_msg *m, size_t n)
{
	m->buf = xgrow(m->buf, &m->cap, m->len + n, 1);
}

void proto_init(struct proto_msg *m, uint16_t type, uint8_t flags, uint32_t id)
{
	m->len = 0;
	reserve(m, 256);
	put32(m->buf, 0);
	m->buf[4] = PROTO_VERSION;
	m->buf[5] = flags;
	put16(m->buf + 6, type);
	put32(m->buf + 8, id);
	m->len = PROTO_HDR_LEN;
}

void proto_put(struct proto_msg *m, uint16_t type, const void *data, size_t len)
{
	size_t total = PROTO_ALIGN(PROTO_ATTR_HDR_LEN + len);

	/* A 16-bit length cannot say more: callers split payloads (see
	 * PROTO_MAX_ATTR); a longer one goes out empty, never corrupt. */
	if (len > PROTO_MAX_ATTR)
		len = 0, total = PROTO_ATTR_HDR_LEN;
	reserve(m, total);
	put16(m->buf + m->len, (uint16_t)(PROTO_ATTR_HDR_LEN + len));
	put16(m->buf + m->len + 2, type);
	if (len)
		memcpy(m->buf + m->len + PROTO_ATTR_HDR_LEN, data, len);
	memset(m->buf + m->len + PROTO_ATTR_HDR_LEN + len, 0,
	       total - PROTO_ATTR_HDR_LEN - len);
	m->len += total;
}

void proto_put_u32(struct proto_msg *m, uint16_t type, uint32_t v)
{
	v = htole32(v);
	proto_put(m, type, &v, 4);
}

void proto_put_u64(struct proto_msg *m, uint16_t type, uint64_t v)
{
	v = htole64(v);
	proto_put(m, type, &v, 8);
}

void proto_put_str(struct proto_msg *m, uint16_t type, const char *s)
{
	proto_put(m, type, s, strlen(s) + 1);
}

void proto_put_flag(struct proto_msg *m, uint16_t type)
{
	proto_put(m, type, NULL, 0);
}

size_t proto_nest_start(struct proto_msg *m, uint16_t type)
{
	size_t off = m->len;

	proto_put(m, type | NESTED, NULL, 0);
	return off;
}

void proto_nest_end(struct proto_msg *m, size_t off)
{
	size_t n = m->len - off;

	put16(m->buf + off, n > 0xffff ? 0 : (uint16_t)n);
}

size_t proto_finish(struct proto_msg *m)
{
	if (m->len > PROTO_MAX_MSG)
		return 0;
	put32(m->buf, (uint32_t)m->len);
	return m->len;
}

void proto_free(struct proto_msg *m)
{
	free(m->buf);
	m->buf = NULL;
	m->len = m->cap = 0;
}

void proto_error(struct proto_msg *m, uint16_t type, uint32_t id, int err,
		 const char *msg)
{
	char buf[PROTO_MAX_ERRMSG + 1];
	size_t n = strnlen(msg, PROTO_MAX_ERRMSG);

	memcpy(buf, msg, n);
	buf[n] = '\0';
	proto_init(m, type, PROTO_F_REPLY | PROTO_F_ERROR, id);
	proto_put_u32(m, A_ERRNO, (uint32_t)err);
	proto_put(m, A_ERRMSG, buf, n + 1);
	proto_finish(m);
}

int proto_hdr_decode(const uint8_t *buf, size_t len, struct proto_hdr *h,
		     const char **why)
{
	if (len < PROTO_HDR_LEN) {
		*why = "short header";
		return -1;
	}
	h->len = get32(buf);
	h->version = buf[4];
	h->flags = buf[5];
	h->type = get16(buf + 6);
	h->id = get32(buf + 8);
	if (h->len < PROTO_HDR_LEN || h->len > PROTO_MAX_MSG) {
		*why = "message length out of bounds";
		return -1;
	}
	if (h->version != PROTO_VERSION) {
		*why = "unsupported protocol version";
		return -1;
	}
	return 0;
}

void proto_iter_init(struct proto_iter *it, const void *data, size_t len)
{
	it->p = data;
	it->end = it->p + len;
}

void proto_iter_msg(struct proto_iter *it, const uint8_t *msg, size_t len)
{
	if (len < PROTO_HDR_LEN)
		len = PROTO_HDR_LEN;
	proto_iter_init(it, msg + PROTO_HDR_LEN, len - PROTO_HDR_LEN);
}

int proto_next(struct proto_iter *it, struct proto_attr *a)
{
	size_t left = (size_t)(it->end - it->p);
	uint16_t alen, type;

	if (left == 0)
		return 0;
	if (left < PROTO_ATTR_HDR_LEN)
		return -1;
	alen = get16(it->p);
	type = get16(it->p + 2);
	if (alen < PROTO_ATTR_HDR_LEN || alen > left)
		return -1;
	a->type = type & ~NESTED;
	a->nested = (type & NESTED) != 0;
	a->data = it->p + PROTO_ATTR_HDR_LEN;
	a->len = alen - PROTO_ATTR_HDR_LEN;
	/* The last attribute may omit its padding. */
	it->p += PROTO_ALIGN(alen) < left ? PROTO_ALIGN(alen) : left;
	return 1;
}

static int validate(const void *data, size_t len, int depth)
{
	struct proto_iter it;
	struct proto_attr a;
	int r;

	if (depth > PROTO_MAX_DEPTH)
		return -1;
	proto_iter_init(&it, data, len);
	while ((r = proto_next(&it, &a)) > 0)
		if (a.nested && validate(a.data, a.len, depth + 1) < 0)
			return -1;
	return r;
}

int proto_validate(const void *data, size_t len)
{
	return validate(data, len, 0);
}

int proto_get_u32(const struct proto_attr *a, uint32_t *v)
{
	if (a->len != 4 || a->nested)
		return -1;
	*v = get32(a->data);
	return 0;
}

int proto_get_u64(const struct proto_attr *a, uint64_t *v)
{
	uint64_t x;

	if (a->len != 8 || a->nested)
		return -1;
	memcpy(&x, a->data, 8);
	*v = le64toh(x);
	return 0;
}

const char *proto_get_str(const struct proto_attr *a)
{
	if (a->len == 0 || a->nested || a->data[a->len - 1] != '\0' ||
	    memchr(a->data, '\0', a->len) != a->data + a->len - 1)
		return NULL;
	return (const char *)a->data;
}

static const char *const op_names[OP_MAX] = {
	[OP_HELLO] = "hello", [OP_READY] = "ready",
	[OP_CTR_CREATE] = "create", [OP_PROC_CREATE] = "process",
	[OP_PROC_START] = "start", [OP_KILL] = "kill", [OP_WAIT] = "wait",
	[OP_RESIZE] = "resize", [OP_CLOSE_STDIN] = "close-stdin",
	[OP_MOUNT] = "mount", [OP_NET_LINK] = "link", [OP_NET_ADDR] = "addr",
	[OP_NET_ROUTE] = "route", [OP_DNS] = "dns", [OP_HOSTS] = "hosts",
	[OP_HOSTNAME] = "hostname", [OP_SYSCTL] = "sysctl",
	[OP_SET_TIME] = "time", [OP_WRITE_FILE] = "write",
	[OP_BINFMT] = "binfmt", [OP_STATS] = "stats",
	[OP_SHUTDOWN] = "shutdown", [OP_CTR_DELETE] = "delete",
};

const char *proto_op_name(unsigned op)
{
	return op < OP_MAX && op_names[op] ? op_names[op] : "unknown";
}
