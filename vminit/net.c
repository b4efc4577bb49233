/* net.c: NET_LINK, NET_ADDR and NET_ROUTE through rtnetlink (lib/netlink),
 * in vminit's own network namespace, which the containers share. */
#include "vminit.h"
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_ADDRS 16

struct netargs {
	const char *ifname, *gateway;
	const char *addr[MAX_ADDRS];
	size_t naddr;
	uint32_t mtu;
	int up;
};

/* "10.0.0.2/24", "fd00::2/64": family, bytes, prefix (default full). */
static int parse_prefix(const char *s, int *family, unsigned char bin[16], int *plen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long n;

	if (strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')))
		*slash++ = '\0';
	*family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*family, buf, bin) != 1)
		return -1;
	*plen = *family == AF_INET ? 32 : 128;
	if (slash) {
		n = strtol(slash, &end, 10);
		if (!*slash || *end || n < 0 || n > *plen)
			return -1;
		*plen = (int)n;
	}
	return 0;
}

static void gather(struct req *r, struct netargs *g)
{
	struct proto_iter it;
	struct proto_attr a;
	const char *s;

	proto_iter_msg(&it, r->msg, r->h.len);
	while (proto_next(&it, &a) > 0) {
		s = proto_get_str(&a);
		switch (a.type) {
		case A_IFNAME: g->ifname = s; break;
		case A_GATEWAY: g->gateway = s; break;
		case A_ADDR:
			if (s && g->naddr < MAX_ADDRS)
				g->addr[g->naddr++] = s;
			break;
		case A_MTU: proto_get_u32(&a, &g->mtu); break;
		case A_UP: g->up = 1; break;
		default: break;
		}
	}
}

static int nl_fail(struct req *r, struct nl *nl, int rc, const char *what,
		   const char *obj)
{
	return req_fail(r, -rc, "%s %s: %s%s%s", what, obj, strerror(-rc),
			nl->errmsg[0] ? ": " : "", nl->errmsg);
}

static int ifindex(struct req *r, struct nl *nl, const char *name, const char *op)
{
	int i;

	if (!name)
		return req_fail(r, EINVAL, "%s: no interface named", op);
	if ((i = nl_ifindex(nl, name)) < 0)
		return nl_fail(r, nl, i, op, name);
	return i;
}

static int net_link(struct req *r, struct nl *nl, const struct netargs *g)
{
	int i = ifindex(r, nl, g->ifname, "link"), rc;

	if (i < 0)
		return -1;
	if (g->mtu && (rc = nl_link_set_mtu(nl, i, g->mtu)) < 0)
		return nl_fail(r, nl, rc, "link mtu", g->ifname);
	if (g->up && (rc = nl_link_up(nl, i)) < 0)
		return nl_fail(r, nl, rc, "link up", g->ifname);
	return 0;
}

static int net_addr(struct req *r, struct nl *nl, const struct netargs *g)
{
	unsigned char bin[16];
	int i = ifindex(r, nl, g->ifname, "address"), fam, plen, rc;

	if (i < 0)
		return -1;
	if (g->naddr == 0)
		return req_fail(r, EINVAL, "address %s: none given", g->ifname);
	for (size_t k = 0; k < g->naddr; k++) {
		if (parse_prefix(g->addr[k], &fam, bin, &plen) < 0)
			return req_fail(r, EINVAL, "address %s: bad address", g->addr[k]);
		/* Already there is what was asked for. */
		if ((rc = nl_addr_add(nl, i, fam, bin, plen)) < 0 && rc != -EEXIST)
			return nl_fail(r, nl, rc, "address", g->addr[k]);
	}
	return 0;
}

/* A_ADDR the destination (none: default), A_GATEWAY, A_IFNAME. */
static int net_route(struct req *r, struct nl *nl, const struct netargs *g)
{
	struct nl_route rt = { 0 };
	unsigned char gw[16];
	int fam = 0, plen, rc;

	if (!g->gateway && !g->ifname)
		return req_fail(r, EINVAL, "route: needs a gateway or an interface");
	if (g->ifname && (rt.oif = ifindex(r, nl, g->ifname, "route")) < 0)
		return -1;
	if (g->gateway) {
		if (parse_prefix(g->gateway, &fam, gw, &plen) < 0 || strchr(g->gateway, '/'))
			return req_fail(r, EINVAL, "route: bad gateway %s", g->gateway);
		rt.has_gw = 1;
		memcpy(rt.gw, gw, sizeof gw);
	}
	if (g->naddr) {
		int dfam;
		if (parse_prefix(g->addr[0], &dfam, rt.dst, &rt.dst_len) < 0 ||
		    (fam && dfam != fam))
			return req_fail(r, EINVAL, "route: bad destination %s", g->addr[0]);
		fam = dfam;
	}
	rt.family = fam ? fam : AF_INET;
	if ((rc = nl_route_add(nl, &rt)) < 0 && rc != -EEXIST)
		return nl_fail(r, nl, rc, "route", g->naddr ? g->addr[0] : "default");
	return 0;
}

int net_op(struct req *r)
{
	struct netargs g = { 0 };
	struct nl nl;
	int rc;

	gather(r, &g);
	if ((rc = nl_open(&nl)) < 0)
		return req_fail(r, -rc, "netlink: %s", strerror(-rc));
	switch (r->h.type) {
	case OP_NET_LINK: rc = net_link(r, &nl, &g); break;
	case OP_NET_ADDR: rc = net_addr(r, &nl, &g); break;
	default: rc = net_route(r, &nl, &g); break;
	}
	nl_close(&nl);
	return rc;
}
