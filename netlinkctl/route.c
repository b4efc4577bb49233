/* route.c: route show|add|del in the main table. show prints what ip -j
 * route show does: IPv4 unless -6, cached clones left out. */
#include "err.h"
#include "json.h"
#include "netlinkctl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *proto_name(int p, char *buf, size_t len)
{
	switch (p) {
	case RTPROT_UNSPEC: return "unspec";
	case RTPROT_REDIRECT: return "redirect";
	case RTPROT_KERNEL: return "kernel";
	case RTPROT_BOOT: return "boot";
	case RTPROT_STATIC: return "static";
	case RTPROT_RA: return "ra";
	case RTPROT_DHCP: return "dhcp";
	case RTPROT_BIRD: return "bird";
	case RTPROT_BABEL: return "babel";
	case RTPROT_BGP: return "bgp";
	case RTPROT_OSPF: return "ospf";
	}
	snprintf(buf, len, "%d", p);
	return buf;
}

static const char *scope_name(int s, char *buf, size_t len)
{
	switch (s) {
	case RT_SCOPE_UNIVERSE: return "global";
	case RT_SCOPE_SITE: return "site";
	case RT_SCOPE_LINK: return "link";
	case RT_SCOPE_HOST: return "host";
	case RT_SCOPE_NOWHERE: return "nowhere";
	}
	snprintf(buf, len, "%d", s);
	return buf;
}

static const char *const rtn_names[] = {
	"none", "unicast", "local", "broadcast", "anycast", "multicast",
	"blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve",
};

static const struct {
	unsigned flag;
	const char *name;
} rtnh_names[] = {
	{ RTNH_F_DEAD, "dead" }, { RTNH_F_ONLINK, "onlink" },
	{ RTNH_F_PERVASIVE, "pervasive" }, { RTNH_F_OFFLOAD, "offload" },
	{ RTM_F_NOTIFY, "notify" }, { RTNH_F_LINKDOWN, "linkdown" },
	{ RTNH_F_UNRESOLVED, "unresolved" }, { RTM_F_OFFLOAD, "rt_offload" },
	{ RTM_F_TRAP, "rt_trap" },
};

static const char *pref_name(uint8_t p)
{
	switch (p) {
	case 0: return "medium";
	case 1: return "high";
	case 3: return "low";
	}
	return "unknown";
}

/* "default", "10.0.0.0/24", or a host route without its /32 or /128. */
static const char *dst_str(const struct nl_route *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int max = r->family == AF_INET ? 32 : 128;

	if (r->dst_len == 0)
		return "default";
	fmt_inaddr(r->family, r->dst, a, sizeof a);
	if (r->dst_len == max)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%d", a, r->dst_len);
	return buf;
}

static void route_out(yajl_gen g, const struct nl_route *r, const struct nl_link *links, size_t n)
{
	char db[INET6_ADDRSTRLEN + 8], ab[INET6_ADDRSTRLEN], nb[IFNAMSIZ + 8], sb[16];
	size_t i;

	if (g) {
		j_check(yajl_gen_map_open(g));
		if (r->type != RTN_UNICAST)
			json_gen_kv(g, "type", r->type < (int)(sizeof rtn_names / sizeof *rtn_names)
				    ? rtn_names[r->type] : "unknown");
		json_gen_kv(g, "dst", dst_str(r, db, sizeof db));
		if (r->has_gw)
			json_gen_kv(g, "gateway", fmt_inaddr(r->family, r->gw, ab, sizeof ab));
		if (r->oif)
			json_gen_kv(g, "dev", link_name(links, n, r->oif, nb));
		if (r->protocol != RTPROT_BOOT)
			json_gen_kv(g, "protocol", proto_name(r->protocol, sb, sizeof sb));
		if (r->scope != RT_SCOPE_UNIVERSE)
			json_gen_kv(g, "scope", scope_name(r->scope, sb, sizeof sb));
		if (r->has_prefsrc)
			json_gen_kv(g, "prefsrc", fmt_inaddr(r->family, r->prefsrc, ab, sizeof ab));
		if (r->has_metric)
			json_gen_kint(g, "metric", r->metric);
		j_key(g, "flags");
		j_check(yajl_gen_array_open(g));
		for (i = 0; i < sizeof rtnh_names / sizeof *rtnh_names; i++)
			if (r->flags & rtnh_names[i].flag)
				json_gen_str(g, rtnh_names[i].name);
		j_check(yajl_gen_array_close(g));
		if (r->has_pref)
			json_gen_kv(g, "pref", pref_name(r->pref));
		j_check(yajl_gen_map_close(g));
		return;
	}
	if (r->type != RTN_UNICAST)
		printf("%s ", r->type < (int)(sizeof rtn_names / sizeof *rtn_names)
		       ? rtn_names[r->type] : "unknown");
	printf("%s", dst_str(r, db, sizeof db));
	if (r->has_gw)
		printf(" via %s", fmt_inaddr(r->family, r->gw, ab, sizeof ab));
	if (r->oif)
		printf(" dev %s", link_name(links, n, r->oif, nb));
	if (r->protocol != RTPROT_BOOT)
		printf(" proto %s", proto_name(r->protocol, sb, sizeof sb));
	if (r->scope != RT_SCOPE_UNIVERSE)
		printf(" scope %s", scope_name(r->scope, sb, sizeof sb));
	if (r->has_prefsrc)
		printf(" src %s", fmt_inaddr(r->family, r->prefsrc, ab, sizeof ab));
	if (r->has_metric)
		printf(" metric %u", r->metric);
	for (i = 0; i < sizeof rtnh_names / sizeof *rtnh_names; i++)
		if (r->flags & rtnh_names[i].flag)
			printf(" %s", rtnh_names[i].name);
	if (r->has_pref)
		printf(" pref %s", pref_name(r->pref));
	putchar('\n');
}

static int route_show(struct ctx *c, int argc, char **argv)
{
	struct nl_link *links;
	struct nl_route *routes;
	size_t nl, nr, i;
	yajl_gen g = NULL;
	int r, family = c->family == AF_UNSPEC ? AF_INET : c->family;

	(void)argv;
	if (argc > 0)
		usage_error("route show: too many arguments");
	list_links(c, &links, &nl);
	if ((r = nl_route_list(&c->nl, family, &routes, &nr)) < 0)
		fail(c, r);
	if (c->json) {
		g = json_gen_new(0);
		j_check(yajl_gen_array_open(g));
	}
	for (i = 0; i < nr; i++) {
		if (routes[i].table != RT_TABLE_MAIN || routes[i].family != family ||
		    (routes[i].flags & RTM_F_CLONED))
			continue;
		route_out(g, &routes[i], links, nl);
	}
	free(links);
	free(routes);
	if (g) {
		j_check(yajl_gen_array_close(g));
		j_flush(g);
	}
	return 0;
}

static int route_modify(struct ctx *c, int add, int argc, char **argv)
{
	struct nl_route rt;
	const char *dev = NULL;
	int i, r, gw_family = AF_UNSPEC, plen, is_default = 0;

	memset(&rt, 0, sizeof rt);
	if (argc < 1)
		usage_error("route: PREFIX expected");
	if (!strcmp(argv[0], "default")) {
		is_default = 1;
	} else if (parse_prefix(argv[0], &rt.family, rt.dst, &rt.dst_len) < 0) {
		usage_error("route: %s: not a prefix", argv[0]);
	}
	for (i = 1; i < argc; i += 2) {	/* key value pairs */
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage_error("route: %s: unknown or missing its value", k);
		if (!strcmp(k, "via")) {
			if (parse_prefix(v, &gw_family, rt.gw, &plen) < 0 || strchr(v, '/'))
				usage_error("route: via %s: not an address", v);
			rt.has_gw = 1;
		} else if (!strcmp(k, "dev")) {
			dev = v;
		} else if (!strcmp(k, "metric") || !strcmp(k, "preference") ||
			   !strcmp(k, "priority")) {
			if (parse_u32(v, &rt.metric) < 0)
				usage_error("route: metric %s: not a number", v);
			rt.has_metric = 1;
		} else {
			usage_error("route: %s: unknown", k);
		}
	}
	if (is_default)
		rt.family = gw_family != AF_UNSPEC ? gw_family
			: c->family != AF_UNSPEC ? c->family : AF_INET;
	if (rt.has_gw && gw_family != rt.family)
		usage_error("route: %s and its gateway are of different families", argv[0]);
	if (c->family != AF_UNSPEC && c->family != rt.family)
		usage_error("route: %s: not of the family asked for", argv[0]);
	if (dev)
		rt.oif = dev_index(c, dev);
	r = add ? nl_route_add(&c->nl, &rt) : nl_route_del(&c->nl, &rt);
	if (r < 0)
		fail(c, r);
	return 0;
}

int cmd_route(struct ctx *c, int argc, char **argv)
{
	if (argc == 0 || !strcmp(argv[0], "show") || !strcmp(argv[0], "list") ||
	    !strcmp(argv[0], "ls"))
		return route_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "add"))
		return route_modify(c, 1, argc - 1, argv + 1);
	if (!strcmp(argv[0], "del") || !strcmp(argv[0], "delete"))
		return route_modify(c, 0, argc - 1, argv + 1);
	usage_error("route %s: unknown command", argv[0]);
}
