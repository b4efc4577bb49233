/* link.c: link show|set|add|del. Field names and flag spellings follow
 * ip -j link show, so the two outputs can be compared. */
#include "err.h"
#include "json.h"
#include "netlinkctl.h"

#include <stdlib.h>
#include <string.h>
#include <linux/if_arp.h>

/* In the order ip(8) prints them. */
static const struct {
	unsigned flag;
	const char *name;
} iff_names[] = {
	{ IFF_LOOPBACK, "LOOPBACK" }, { IFF_BROADCAST, "BROADCAST" },
	{ IFF_POINTOPOINT, "POINTOPOINT" }, { IFF_MULTICAST, "MULTICAST" },
	{ IFF_NOARP, "NOARP" }, { IFF_ALLMULTI, "ALLMULTI" },
	{ IFF_PROMISC, "PROMISC" }, { IFF_MASTER, "MASTER" },
	{ IFF_SLAVE, "SLAVE" }, { IFF_DEBUG, "DEBUG" },
	{ IFF_DYNAMIC, "DYNAMIC" }, { IFF_AUTOMEDIA, "AUTOMEDIA" },
	{ IFF_PORTSEL, "PORTSEL" }, { IFF_NOTRAILERS, "NOTRAILERS" },
	{ IFF_UP, "UP" }, { IFF_LOWER_UP, "LOWER_UP" },
	{ IFF_DORMANT, "DORMANT" }, { IFF_ECHO, "ECHO" },
};

static const char *const operstates[] = {
	"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP",
};

static const char *link_type(unsigned short type, char *buf, size_t len)
{
	switch (type) {
	case ARPHRD_ETHER: return "ether";
	case ARPHRD_LOOPBACK: return "loopback";
	case ARPHRD_NONE: return "none";
	case ARPHRD_VOID: return "void";
	case ARPHRD_TUNNEL: return "ipip";
	case ARPHRD_TUNNEL6: return "tunnel6";
	case ARPHRD_SIT: return "sit";
	case ARPHRD_IPGRE: return "gre";
	}
	snprintf(buf, len, "[%u]", type);
	return buf;
}

static const struct nl_link *find(const struct nl_link *all, size_t n, int ifindex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (all[i].ifindex == ifindex)
			return &all[i];
	return NULL;
}

const char *link_name(const struct nl_link *all, size_t n, int ifindex, char buf[IFNAMSIZ + 8])
{
	const struct nl_link *l = find(all, n, ifindex);

	if (l && l->name[0])
		return l->name;
	snprintf(buf, IFNAMSIZ + 8, "if%d", ifindex);
	return buf;
}

/* "aa:bb:..": each byte takes 3 characters but the first. */
static char *lladdr_str(const unsigned char *a, size_t len, char buf[3 * NL_LLADDR_MAX + 1])
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < len; i++)
		o += (size_t)sprintf(buf + o, i ? ":%02x" : "%02x", a[i]);
	return buf;
}

/* The peer or lower link is down: ip shows M-DOWN. */
static int mdown(const struct nl_link *l, const struct nl_link *all, size_t n)
{
	const struct nl_link *p;

	if (!l->has_link || !l->link || l->has_link_netnsid)
		return 0;
	p = find(all, n, l->link);
	return p && !(p->flags & IFF_UP);
}

static void flags_list(const struct nl_link *l, const struct nl_link *all, size_t n,
		       void (*emit)(void *, const char *), void *arg)
{
	unsigned f = l->flags;
	size_t i;

	if ((f & IFF_UP) && !(f & IFF_RUNNING))
		emit(arg, "NO-CARRIER");
	for (i = 0; i < sizeof iff_names / sizeof iff_names[0]; i++)
		if (f & iff_names[i].flag)
			emit(arg, iff_names[i].name);
	if (mdown(l, all, n))
		emit(arg, "M-DOWN");
}

static void emit_json(void *g, const char *s)
{
	json_gen_str(g, s);
}

struct textflags {
	FILE *f;
	int first;
};

static void emit_text(void *arg, const char *s)
{
	struct textflags *t = arg;

	fprintf(t->f, "%s%s", t->first ? "" : ",", s);
	t->first = 0;
}

static const char *operstate(uint8_t s)
{
	return s < sizeof operstates / sizeof operstates[0] ? operstates[s] : "UNKNOWN";
}

void link_json(yajl_gen g, const struct nl_link *l, const struct nl_link *all, size_t n)
{
	char nb[IFNAMSIZ + 8], tb[16], ab[3 * NL_LLADDR_MAX + 1];

	json_gen_kint(g, "ifindex", l->ifindex);
	if (l->has_link) {
		if (!l->link)
			j_null(g, "link");
		else if (l->has_link_netnsid)
			json_gen_kint(g, "link_index", l->link);
		else
			json_gen_kv(g, "link", link_name(all, n, l->link, nb));
	}
	json_gen_kv(g, "ifname", l->name);
	j_key(g, "flags");
	j_check(yajl_gen_array_open(g));
	flags_list(l, all, n, emit_json, g);
	j_check(yajl_gen_array_close(g));
	json_gen_kint(g, "mtu", l->mtu);
	if (l->master)
		json_gen_kv(g, "master", link_name(all, n, l->master, nb));
	json_gen_kv(g, "operstate", operstate(l->operstate));
	json_gen_kint(g, "txqlen", l->txqlen);
	json_gen_kv(g, "link_type", link_type(l->type, tb, sizeof tb));
	if (l->addrlen)
		json_gen_kv(g, "address", lladdr_str(l->addr, l->addrlen, ab));
	if (l->brdlen)
		json_gen_kv(g, "broadcast", lladdr_str(l->brd, l->brdlen, ab));
	if (l->has_link_netnsid)
		json_gen_kint(g, "link_netnsid", l->link_netnsid);
	if (l->kind[0]) {
		/* ip -d's shape. */
		j_key(g, "linkinfo");
		j_check(yajl_gen_map_open(g));
		json_gen_kv(g, "info_kind", l->kind);
		j_check(yajl_gen_map_close(g));
	}
}

void link_text(FILE *f, const struct nl_link *l, const struct nl_link *all, size_t n)
{
	char nb[IFNAMSIZ + 8], tb[16], ab[3 * NL_LLADDR_MAX + 1];
	struct textflags t = { f, 1 };

	fprintf(f, "%d: %s", l->ifindex, l->name);
	if (l->has_link && l->link && !l->has_link_netnsid)
		fprintf(f, "@%s", link_name(all, n, l->link, nb));
	else if (l->has_link && l->link)
		fprintf(f, "@if%d", l->link);
	fputs(": <", f);
	flags_list(l, all, n, emit_text, &t);
	fprintf(f, "> mtu %u", l->mtu);
	if (l->master)
		fprintf(f, " master %s", link_name(all, n, l->master, nb));
	fprintf(f, " state %s", operstate(l->operstate));
	if (l->kind[0])
		fprintf(f, " type %s", l->kind);
	fprintf(f, "\n    link/%s", link_type(l->type, tb, sizeof tb));
	if (l->addrlen)
		fprintf(f, " %s", lladdr_str(l->addr, l->addrlen, ab));
	if (l->brdlen)
		fprintf(f, " brd %s", lladdr_str(l->brd, l->brdlen, ab));
	fputc('\n', f);
}

void list_links(struct ctx *c, struct nl_link **links, size_t *n)
{
	int r = nl_link_list(&c->nl, links, n);

	if (r < 0)
		fail(c, r);
}

static int link_show(struct ctx *c, int argc, char **argv)
{
	struct nl_link *links;
	size_t n, i;
	const char *dev = NULL;
	yajl_gen g = NULL;
	int found = 0;

	if (argc > 0 && !strcmp(argv[0], "dev"))
		argc--, argv++;
	if (argc > 1)
		usage_error("link show: too many arguments");
	if (argc == 1)
		dev = argv[0];
	list_links(c, &links, &n);
	if (c->json) {
		g = json_gen_new(0);
		j_check(yajl_gen_array_open(g));
	}
	for (i = 0; i < n; i++) {
		if (dev && strcmp(links[i].name, dev))
			continue;
		found = 1;
		if (g) {
			j_check(yajl_gen_map_open(g));
			link_json(g, &links[i], links, n);
			j_check(yajl_gen_map_close(g));
		} else {
			link_text(stdout, &links[i], links, n);
		}
	}
	free(links);
	if (dev && !found)
		die("%s: no such device", c->what);
	if (g) {
		j_check(yajl_gen_array_close(g));
		j_flush(g);
	}
	return 0;
}

static int parse_mac(const char *s, unsigned char *mac, size_t *len)
{
	size_t n = 0;
	char *end;
	unsigned long b;

	for (;;) {
		if (n == NL_LLADDR_MAX || !((*s >= '0' && *s <= '9') ||
					     (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
			return -1;
		b = strtoul(s, &end, 16);
		if (end - s > 2 || b > 0xff)
			return -1;
		mac[n++] = (unsigned char)b;
		if (!*end)
			break;
		if (*end != ':')
			return -1;
		s = end + 1;
	}
	*len = n;
	return 0;
}

static int check_name(const char *name)
{
	if (!*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' ') ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		usage_error("%s: not a valid interface name", name);
	return 0;
}

static int link_set(struct ctx *c, int argc, char **argv)
{
	struct nl_link_change ch;
	unsigned char mac[NL_LLADDR_MAX];
	const char *dev;
	int idx, r, i;

	if (argc > 0 && !strcmp(argv[0], "dev"))
		argc--, argv++;
	if (argc < 2)
		usage_error("link set: DEV and a change expected");
	dev = argv[0];
	nl_link_change_init(&ch);
	for (i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(k, "up")) {
			ch.up = 1;
		} else if (!strcmp(k, "down")) {
			ch.up = 0;
		} else if (!strcmp(k, "nomaster")) {
			ch.master = 0;
		} else if (!v) {
			usage_error("link set: %s: unknown or missing its value", k);
		} else if (!strcmp(k, "mtu")) {
			if (parse_u32(v, &ch.mtu) < 0 || ch.mtu == 0)
				usage_error("link set: mtu %s: not a valid MTU", v);
			i++;
		} else if (!strcmp(k, "address")) {
			if (parse_mac(v, mac, &ch.addrlen) < 0)
				usage_error("link set: address %s: not a valid address", v);
			ch.addr = mac;
			i++;
		} else if (!strcmp(k, "master")) {
			ch.master = -2;	/* resolved below, after parsing */
			i++;
		} else if (!strcmp(k, "name")) {
			check_name(v);
			ch.name = v;
			i++;
		} else {
			usage_error("link set: %s: unknown", k);
		}
	}
	idx = dev_index(c, dev);
	if (ch.master == -2) {
		for (i = 1; i < argc && strcmp(argv[i], "master"); i++)
			;
		ch.master = dev_index(c, argv[i + 1]);
	}
	if ((r = nl_link_set(&c->nl, idx, &ch)) < 0)
		fail(c, r);
	return 0;
}

static int link_add(struct ctx *c, int argc, char **argv)
{
	const char *name, *kind;
	int r;

	if (argc > 0 && !strcmp(argv[0], "name"))
		argc--, argv++;
	if (argc < 3 || strcmp(argv[1], "type"))
		usage_error("link add: NAME type KIND expected");
	name = argv[0];
	kind = argv[2];
	check_name(name);
	if (!strcmp(kind, "tap"))
		return tap_add(c, name, argc - 3, argv + 3);
	if (!strcmp(kind, "veth")) {
		if (argc != 5 || strcmp(argv[3], "peer"))
			usage_error("link add: veth needs peer NAME");
		check_name(argv[4]);
		r = nl_link_add_veth(&c->nl, name, argv[4]);
	} else {
		if (argc != 3)
			usage_error("link add: %s: unexpected arguments", kind);
		r = nl_link_add(&c->nl, name, kind);
	}
	if (r < 0)
		fail(c, r);
	return 0;
}

static int link_del(struct ctx *c, int argc, char **argv)
{
	int r;

	if (argc > 0 && !strcmp(argv[0], "dev"))
		argc--, argv++;
	if (argc != 1)
		usage_error("link del: DEV expected");
	if ((r = nl_link_del(&c->nl, dev_index(c, argv[0]))) < 0)
		fail(c, r);
	return 0;
}

int cmd_link(struct ctx *c, int argc, char **argv)
{
	if (argc == 0 || !strcmp(argv[0], "show") || !strcmp(argv[0], "list") ||
	    !strcmp(argv[0], "ls"))
		return link_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "set"))
		return link_set(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "add"))
		return link_add(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "del") || !strcmp(argv[0], "delete"))
		return link_del(c, argc - 1, argv + 1);
	usage_error("link %s: unknown command", argv[0]);
}
