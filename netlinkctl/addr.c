/* addr.c: addr show|add|del, IPv4 and IPv6. show prints each link with
 * its addr_info, as ip -j addr show does. */
#include "err.h"
#include "json.h"
#include "netlinkctl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define FOREVER 0xffffffffu

static const char *scope_name(int scope, char *buf, size_t len)
{
	switch (scope) {
	case RT_SCOPE_UNIVERSE: return "global";
	case RT_SCOPE_SITE: return "site";
	case RT_SCOPE_LINK: return "link";
	case RT_SCOPE_HOST: return "host";
	case RT_SCOPE_NOWHERE: return "nowhere";
	}
	snprintf(buf, len, "%d", scope);
	return buf;
}

/* ip's boolean address flags, in its order; "secondary" is "temporary"
 * for IPv6. */
static const struct {
	uint32_t flag;
	const char *name;
} ifa_names[] = {
	{ IFA_F_SECONDARY, "secondary" }, { IFA_F_TENTATIVE, "tentative" },
	{ IFA_F_DEPRECATED, "deprecated" }, { IFA_F_HOMEADDRESS, "home" },
	{ IFA_F_NODAD, "nodad" }, { IFA_F_OPTIMISTIC, "optimistic" },
	{ IFA_F_DADFAILED, "dadfailed" }, { IFA_F_MANAGETEMPADDR, "mngtmpaddr" },
	{ IFA_F_NOPREFIXROUTE, "noprefixroute" }, { IFA_F_MCAUTOJOIN, "autojoin" },
	{ IFA_F_STABLE_PRIVACY, "stable-privacy" },
};

static const char *flag_name(const struct nl_addr *a, size_t i)
{
	if (ifa_names[i].flag == IFA_F_SECONDARY && a->family == AF_INET6)
		return "temporary";
	return ifa_names[i].name;
}

/* "local" is IFA_LOCAL (or IFA_ADDRESS without it); a different
 * IFA_ADDRESS is the peer. */
static const unsigned char *local_of(const struct nl_addr *a)
{
	return a->has_local ? a->local : a->address;
}

static int has_peer(const struct nl_addr *a)
{
	size_t alen = a->family == AF_INET ? 4 : 16;

	return a->has_local && a->has_address && memcmp(a->local, a->address, alen);
}

static void addr_json(yajl_gen g, const struct nl_addr *a)
{
	char buf[INET6_ADDRSTRLEN], sb[16];
	size_t i;

	j_check(yajl_gen_map_open(g));
	json_gen_kv(g, "family", a->family == AF_INET ? "inet" : "inet6");
	json_gen_kv(g, "local", fmt_inaddr(a->family, local_of(a), buf, sizeof buf));
	if (has_peer(a))
		json_gen_kv(g, "address", fmt_inaddr(a->family, a->address, buf, sizeof buf));
	json_gen_kint(g, "prefixlen", a->plen);
	if (a->has_brd)
		json_gen_kv(g, "broadcast", fmt_inaddr(a->family, a->brd, buf, sizeof buf));
	json_gen_kv(g, "scope", scope_name(a->scope, sb, sizeof sb));
	if (!(a->flags & IFA_F_PERMANENT))
		j_bool(g, "dynamic", 1);
	for (i = 0; i < sizeof ifa_names / sizeof ifa_names[0]; i++)
		if (a->flags & ifa_names[i].flag)
			j_bool(g, flag_name(a, i), 1);
	if (a->label[0])
		json_gen_kv(g, "label", a->label);
	if (a->has_cacheinfo) {
		json_gen_kint(g, "valid_life_time", a->valid);
		json_gen_kint(g, "preferred_life_time", a->preferred);
	}
	j_check(yajl_gen_map_close(g));
}

static void addr_text(const struct nl_addr *a)
{
	char buf[INET6_ADDRSTRLEN], sb[16];
	size_t i;

	printf("    %s %s", a->family == AF_INET ? "inet" : "inet6",
	       fmt_inaddr(a->family, local_of(a), buf, sizeof buf));
	if (has_peer(a))
		printf(" peer %s", fmt_inaddr(a->family, a->address, buf, sizeof buf));
	printf("/%d", a->plen);
	if (a->has_brd)
		printf(" brd %s", fmt_inaddr(a->family, a->brd, buf, sizeof buf));
	printf(" scope %s", scope_name(a->scope, sb, sizeof sb));
	if (!(a->flags & IFA_F_PERMANENT))
		printf(" dynamic");
	for (i = 0; i < sizeof ifa_names / sizeof ifa_names[0]; i++)
		if (a->flags & ifa_names[i].flag)
			printf(" %s", flag_name(a, i));
	if (a->label[0])
		printf(" %s", a->label);
	putchar('\n');
	if (a->has_cacheinfo && (a->valid != FOREVER || a->preferred != FOREVER))
		printf("       valid_lft %usec preferred_lft %usec\n", a->valid, a->preferred);
}

static int addr_show(struct ctx *c, int argc, char **argv)
{
	struct nl_link *links;
	struct nl_addr *addrs;
	size_t nl, na, i, j, count;
	const char *dev = NULL;
	yajl_gen g = NULL;
	int r, found = 0;

	if (argc > 0 && !strcmp(argv[0], "dev"))
		argc--, argv++;
	if (argc > 1)
		usage_error("addr show: too many arguments");
	if (argc == 1)
		dev = argv[0];
	list_links(c, &links, &nl);
	if ((r = nl_addr_list(&c->nl, c->family, &addrs, &na)) < 0)
		fail(c, r);
	if (c->json) {
		g = json_gen_new(0);
		j_check(yajl_gen_array_open(g));
	}
	for (i = 0; i < nl; i++) {
		if (dev && strcmp(links[i].name, dev))
			continue;
		found = 1;
		for (count = 0, j = 0; j < na; j++)
			count += addrs[j].ifindex == links[i].ifindex;
		/* With -4 or -6, as ip: only the links that have some. */
		if (c->family != AF_UNSPEC && !count)
			continue;
		if (g) {
			j_check(yajl_gen_map_open(g));
			link_json(g, &links[i], links, nl);
			j_key(g, "addr_info");
			j_check(yajl_gen_array_open(g));
		} else {
			link_text(stdout, &links[i], links, nl);
		}
		for (j = 0; j < na; j++) {
			if (addrs[j].ifindex != links[i].ifindex)
				continue;
			if (g)
				addr_json(g, &addrs[j]);
			else
				addr_text(&addrs[j]);
		}
		if (g) {
			j_check(yajl_gen_array_close(g));
			j_check(yajl_gen_map_close(g));
		}
	}
	free(links);
	free(addrs);
	if (dev && !found)
		die("%s: no such device", c->what);
	if (g) {
		j_check(yajl_gen_array_close(g));
		j_flush(g);
	}
	return 0;
}

static int addr_modify(struct ctx *c, int add, int argc, char **argv)
{
	unsigned char addr[16];
	const char *dev = NULL, *pfx = NULL;
	int family, plen, idx, r, i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "dev") && i + 1 < argc)
			dev = argv[++i];
		else if (!pfx)
			pfx = argv[i];
		else
			usage_error("addr: %s: unexpected", argv[i]);
	}
	if (!pfx || !dev)
		usage_error("addr %s: ADDR/PLEN dev DEV expected", add ? "add" : "del");
	if (parse_prefix(pfx, &family, addr, &plen) < 0)
		usage_error("addr: %s: not an address with prefix length", pfx);
	if (c->family != AF_UNSPEC && c->family != family)
		usage_error("addr: %s: not of the family asked for", pfx);
	idx = dev_index(c, dev);
	r = add ? nl_addr_add(&c->nl, idx, family, addr, plen)
		: nl_addr_del(&c->nl, idx, family, addr, plen);
	if (r < 0)
		fail(c, r);
	return 0;
}

int cmd_addr(struct ctx *c, int argc, char **argv)
{
	if (argc == 0 || !strcmp(argv[0], "show") || !strcmp(argv[0], "list") ||
	    !strcmp(argv[0], "ls"))
		return addr_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "add"))
		return addr_modify(c, 1, argc - 1, argv + 1);
	if (!strcmp(argv[0], "del") || !strcmp(argv[0], "delete"))
		return addr_modify(c, 0, argc - 1, argv + 1);
	usage_error("addr %s: unknown command", argv[0]);
}
