/* netlink-reply.c: libFuzzer target for lib/netlink's reply parser and
 * decoders: every byte of a kernel reply is untrusted. The first byte picks
 * dump or plain exchange; the rest is one datagram, answering seq 1. */
#include "netlink.h"

#include <stdint.h>
#include <string.h>

static unsigned char buf[NL_RECV_MAX] __attribute__((aligned(4)));

static int decode(const struct nlmsghdr *h, void *arg)
{
	struct nl_link l;
	struct nl_addr a;
	struct nl_route r;

	(void)arg;
	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
		nl_link_decode(h, &l);
		break;
	case RTM_NEWADDR:
		nl_addr_decode(h, &a);
		break;
	case RTM_NEWROUTE:
		nl_route_decode(h, &r);
		break;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl nl;

	if (size < 1 || size - 1 > sizeof buf)
		return 0;
	memset(&nl, 0, sizeof nl);
	memcpy(buf, data + 1, size - 1);
	nl_reply_parse(&nl, buf, size - 1, 1, data[0] & 1, decode, NULL);
	if (strlen(nl.errmsg) >= sizeof nl.errmsg)
		__builtin_trap();
	return 0;
}
