/* netbridge.c: --net bridge=: the VM's tap on a host bridge, and the
 * network configuration its guest gets (see netbridge.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "ipam.h"
#include "netbridge.h"
#include "netlink.h"
#include "vmboot.h"

#define RESOLV_MAX	(64 * 1024)

static int parse_ip4(const char *s, uint32_t *ip)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*ip = ntohl(in.s_addr);
	return 0;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned v[6];
	int n = 0;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &n) != 6 || n != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = v[i];
	/* A guest's own address: unicast and not all zeros. */
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -1;
	return 0;
}

int netbridge_parse(const char *s, struct netbridge_opt *o, char *err,
    size_t errlen)
{
	char buf[512], *tok, *save, *val, *end;
	int first = 1;

	*o = (struct netbridge_opt){ .plen = -1 };
	if (strlen(s) >= sizeof buf) {
		snprintf(err, errlen, "bridge=: option too long");
		return -1;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save), first = 0) {
		if (first) {
			if (strchr(tok, '=') || strchr(tok, '/') ||
			    strlen(tok) >= IFNAMSIZ) {
				snprintf(err, errlen, "bridge=: want a bridge "
				    "name first, not '%s'", tok);
				return -1;
			}
			strcpy(o->bridge, tok);
			continue;
		}
		if (!(val = strchr(tok, '='))) {
			snprintf(err, errlen, "bridge=: '%s': want KEY=VALUE", tok);
			return -1;
		}
		*val++ = 0;
		if (!strcmp(tok, "ip")) {
			char *slash = strchr(val, '/');

			if (slash) {
				*slash++ = 0;
				errno = 0;
				o->plen = strtol(slash, &end, 10);
				if (errno || end == slash || *end || o->plen < 1 ||
				    o->plen > 32)
					goto bad;
			}
			if (parse_ip4(val, &o->ip) < 0)
				goto bad;
			o->has_ip = 1;
		} else if (!strcmp(tok, "gw")) {
			uint32_t gw;

			if (parse_ip4(val, &gw) < 0)
				goto bad;
			snprintf(o->gw, sizeof o->gw, "%s", val);
			o->has_gw = 1;
		} else if (!strcmp(tok, "mac")) {
			if (parse_mac(val, o->mac) < 0)
				goto bad;
			o->has_mac = 1;
		} else if (!strcmp(tok, "dns")) {
			unsigned char a[16];

			if (o->ndns == NETBRIDGE_MAX_DNS) {
				snprintf(err, errlen, "bridge=: at most %d dns=",
				    NETBRIDGE_MAX_DNS);
				return -1;
			}
			if (inet_pton(AF_INET, val, a) != 1 &&
			    inet_pton(AF_INET6, val, a) != 1)
				goto bad;
			snprintf(o->dns[o->ndns++], sizeof o->dns[0], "%s", val);
		} else {
			snprintf(err, errlen, "bridge=: unknown key '%s' (want "
			    "ip, gw, mac or dns)", tok);
			return -1;
		}
	}
	if (!o->bridge[0]) {
		snprintf(err, errlen, "bridge=: want a bridge name");
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bridge=: bad %s: '%s'", tok, val);
	return -1;
}

static int loopback(const char *a)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, a, b) == 1)
		return b[0] == 127 || !(b[0] | b[1] | b[2] | b[3]);
	return inet_pton(AF_INET6, a, b) != 1 ||
	    !memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) ||
	    !memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

int netbridge_resolv(const char *text, char dns[][64], int max)
{
	const char *p = text;
	int n = 0;

	while (*p && n < max) {
		size_t len = strcspn(p, "\n");
		char line[256], a[64];

		if (len < sizeof line) {
			memcpy(line, p, len);
			line[len] = 0;
			/* A zone (fe80::1%eth0) names a host link: skipped,
			 * as loopback is. */
			if (sscanf(line, " nameserver %63s", a) == 1 &&
			    !strchr(a, '%') && !loopback(a))
				snprintf(dns[n++], 64, "%s", a);
		}
		p += len + (p[len] == '\n');
	}
	return n;
}

/* What the device needs between option parsing and teardown; written by
 * this file alone. */
static struct {
	bool on;
	struct netbridge_opt opt;
	char tap[IFNAMSIZ];
	int br;			/* the bridge's ifindex */
	char ipam[PATH_MAX];	/* the state file of a lease, or "" */
	uint32_t lease;
	struct guest_net guest;
} nb;

const char *netbridge_option(const char *arg)
{
	char err[256];

	if (nb.on) {
		warnf("--net bridge= given twice");
		return NULL;
	}
	if (netbridge_parse(arg, &nb.opt, err, sizeof err) < 0) {
		warnf("--net %s", err);
		return NULL;
	}
	snprintf(nb.tap, sizeof nb.tap, "cz%d-0", (int)getpid());
	nb.on = true;
	return nb.tap;
}

/* A host name as /etc/hosts takes it (RFC 1123 letters, digits, '-',
 * '.', and '_' as in practice). */
static int host_name_ok(const char *s, size_t len)
{
	if (!len || len > 253 || *s == '-' || *s == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-._", s[i]))
			return 0;
	return 1;
}

int netbridge_add_host(const char *arg)
{
	struct guest_net *g = &nb.guest;
	const char *colon = strchr(arg, ':');
	unsigned char bin[16];
	size_t used = strlen(g->hosts);
	int n;

	/* NAME:ADDR at the first colon: an IPv6 address keeps its own. */
	if (!colon || !host_name_ok(arg, colon - arg) ||
	    (inet_pton(AF_INET, colon + 1, bin) != 1 &&
	    inet_pton(AF_INET6, colon + 1, bin) != 1)) {
		warnf("--add-host %s: want NAME:ADDR (a host name, an IPv4 or "
		    "IPv6 address)", arg);
		return -1;
	}
	n = snprintf(g->hosts + used, sizeof g->hosts - used, "%s\t%.*s\n",
	    colon + 1, (int)(colon - arg), arg);
	if (n < 0 || (size_t)n >= sizeof g->hosts - used) {
		g->hosts[used] = 0;
		warnf("--add-host %s: more entries than fit in %zu bytes", arg,
		    sizeof g->hosts);
		return -1;
	}
	return 0;
}

int netbridge_options_done(int spec)
{
	if (nb.guest.hosts[0] && (!nb.on || !spec)) {
		warnf("--add-host goes with --net bridge= and --spec");
		return -1;
	}
	return 0;
}

int guest_net_hosts(const struct guest_net *g, const char *hostname,
    char *buf, size_t len)
{
	size_t alen = strcspn(g->addr, "/");
	int n;

	n = snprintf(buf, len, "127.0.0.1\tlocalhost\n"
	    "::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (n >= 0 && (size_t)n < len && hostname && *hostname && alen)
		n += snprintf(buf + n, len - n, "%.*s\t%s\n", (int)alen, g->addr,
		    hostname);
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "%s", g->hosts);
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

static void ip4_str(uint32_t ip, char *buf, size_t len)
{
	struct in_addr in = { htonl(ip) };

	inet_ntop(AF_INET, &in, buf, len);
}

/* The bridge's first IPv4 address: 1 and *ip, *plen; 0 when it has none. */
static int bridge_addr(struct nl *nl, int br, uint32_t *ip, int *plen)
{
	struct nl_addr *a;
	size_t n, i;
	int r;

	if ((r = nl_addr_list(nl, AF_INET, &a, &n)) < 0)
		return r;
	for (i = 0; i < n; i++)
		if (a[i].ifindex == br && (a[i].has_local || a[i].has_address))
			break;
	if (i < n) {
		uint32_t v;

		memcpy(&v, a[i].has_local ? a[i].local : a[i].address, 4);
		*ip = ntohl(v);
		*plen = a[i].plen;
	}
	free(a);
	return i < n;
}

/* The guest's address: ip= (recorded with the allocator when it lies in
 * the bridge's subnet), or a lease from the bridge's subnet. */
static int guest_addr(const char *br, uint32_t self, int self_plen,
    uint32_t *ip, int *plen)
{
	const struct netbridge_opt *o = &nb.opt;
	uint32_t mask = self_plen ? ~0u << (32 - self_plen) : 0;
	char a[INET_ADDRSTRLEN];
	int r;

	if (o->has_ip) {
		*ip = o->ip;
		*plen = o->plen >= 0 ? o->plen : self_plen;
		if (*plen <= 0) {
			warnf("--net bridge=%s: ip= needs /PLEN: the bridge has "
			    "no IPv4 address", br);
			return -1;
		}
		if (!self_plen || (o->ip & mask) != (self & mask))
			return 0;
		if (o->ip == self || (self_plen < 31 && (o->ip == (self & mask) ||
		    o->ip == (self | ~mask)))) {
			ip4_str(o->ip, a, sizeof a);
			warnf("--net bridge=%s: ip=%s is the bridge's own, network "
			    "or broadcast address", br, a);
			return -1;
		}
	}
	if (!self_plen) {
		warnf("--net bridge=%s: the bridge has no IPv4 address to "
		    "allocate from; give it one (netlinkctl addr add) or use ip=",
		    br);
		return -1;
	}
	if ((r = ipam_path(NULL, br, self, self_plen, nb.ipam,
	    sizeof nb.ipam)) < 0) {
		errno = -r;
		warnf("--net bridge=%s: address state:", br);
		return -1;
	}
	if (o->has_ip) {
		if ((r = ipam_claim(nb.ipam, o->ip, getpid())) < 0) {
			ip4_str(o->ip, a, sizeof a);
			errno = -r;
			if (r == -EADDRINUSE)
				warnf("--net bridge=%s: ip=%s: leased to another "
				    "running VM (see %s)", br, a, nb.ipam);
			else
				warnf("--net bridge=%s: ip=%s: %s:", br, a, nb.ipam);
			nb.ipam[0] = 0;
			return -1;
		}
	} else if ((r = ipam_alloc(nb.ipam, self & mask, self_plen, self,
	    getpid(), ip)) < 0) {
		ip4_str(self & mask, a, sizeof a);
		if (r == -ENOSPC)
			warnf("--net bridge=%s: no free address left in %s/%d "
			    "(every one is leased to a running VM; see %s)", br,
			    a, self_plen, nb.ipam);
		else {
			errno = -r;
			warnf("--net bridge=%s: %s:", br, nb.ipam);
		}
		nb.ipam[0] = 0;
		return -1;
	} else {
		*plen = self_plen;
	}
	nb.lease = *ip;
	return 0;
}

static void guest_fill(uint32_t ip, int plen, uint32_t self, int self_plen)
{
	struct guest_net *g = &nb.guest;
	const struct netbridge_opt *o = &nb.opt;
	char a[INET_ADDRSTRLEN], *text;
	unsigned char mac[6];
	size_t len;

	snprintf(g->ifname, sizeof g->ifname, "eth0");
	ip4_str(ip, a, sizeof a);
	snprintf(g->addr, sizeof g->addr, "%s/%d", a, plen);
	if (o->has_gw)
		snprintf(g->gw, sizeof g->gw, "%s", o->gw);
	else if (self_plen)
		ip4_str(self, g->gw, sizeof g->gw);
	if (o->has_mac) {
		memcpy(mac, o->mac, 6);
	} else {
		/* Locally administered, unicast. */
		if (getrandom(mac, 6, 0) != 6)
			memcpy(mac, "\x02\x63\x7a\x00\x00\x01", 6);
		mac[0] = (mac[0] & 0xfc) | 0x02;
	}
	snprintf(g->mac, sizeof g->mac, "%02x:%02x:%02x:%02x:%02x:%02x",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (o->ndns) {
		memcpy(g->dns, o->dns, sizeof g->dns);
		g->ndns = o->ndns;
	} else if (read_file(RESOLV_CONF, RESOLV_MAX, &text, &len) == 0) {
		g->ndns = netbridge_resolv(text, g->dns, NETBRIDGE_MAX_DNS);
		free(text);
	}
}

/* Before virtio-net (20): the bridge, the guest's address, gateway, MAC
 * and nameservers, so a bad bridge or a full subnet fails before any tap
 * exists, and the device can take the MAC from vm->guest_net. */
static int netbridge_setup(struct vm *vm)
{
	const char *br = nb.opt.bridge;
	struct nl nl;
	struct nl_link l;
	uint32_t self = 0, ip = 0;
	int r, self_plen = 0, plen = 0;

	if (!nb.on)
		return 0;
	if (!vm->cfg->tap || strcmp(vm->cfg->tap, nb.tap)) {
		warnf("--net bridge= and --net tap= exclude each other");
		return -1;
	}
	if ((r = nl_open(&nl)) < 0) {
		errno = -r;
		warnf("netlink:");
		return -1;
	}
	if ((nb.br = nl_ifindex(&nl, br)) < 0 ||
	    (r = nl_link_get(&nl, nb.br, &l)) < 0) {
		errno = nb.br < 0 ? -nb.br : -r;
		warnf("--net bridge=%s:", br);
		goto fail;
	}
	if (strcmp(l.kind, "bridge")) {
		warnf("--net bridge=%s: not a bridge", br);
		goto fail;
	}
	if ((r = bridge_addr(&nl, nb.br, &self, &self_plen)) < 0) {
		errno = -r;
		warnf("--net bridge=%s: its addresses:", br);
		goto fail;
	}
	if (guest_addr(br, self, self_plen, &ip, &plen) < 0)
		goto fail;
	guest_fill(ip, plen, self, self_plen);
	nl_close(&nl);
	debugf("--net bridge=%s: tap %s, guest %s gw %s mac %s", br, nb.tap,
	    nb.guest.addr, nb.guest.gw, nb.guest.mac);
	vm->guest_net = &nb.guest;
	return 0;
fail:
	nl_close(&nl);
	return -1;
}

/* After virtio-net, which created the tap: onto the bridge, up. */
static int netbridge_tap_setup(struct vm *vm)
{
	struct nl nl;
	int tap, r;

	(void)vm;
	if (!nb.on)
		return 0;
	if ((r = nl_open(&nl)) < 0) {
		errno = -r;
		warnf("netlink:");
		return -1;
	}
	if ((tap = nl_ifindex(&nl, nb.tap)) < 0 ||
	    (r = nl_link_set_master(&nl, tap, nb.br)) < 0 ||
	    (r = nl_link_up(&nl, tap)) < 0) {
		errno = tap < 0 ? -tap : -r;
		warnf("--net bridge=%s: tap %s: %s", nb.opt.bridge, nb.tap,
		    nl.errmsg[0] ? nl.errmsg : strerror(errno));
		nl_close(&nl);
		return -1;
	}
	nl_close(&nl);
	return 0;
}

/* The tap would go with vmboot's fds anyway, and the lease would be
 * reclaimed once vmboot is gone: both are given back at once here. */
static void netbridge_teardown(struct vm *vm)
{
	struct nl nl;
	int tap;

	(void)vm;
	if (!nb.on)
		return;
	if (nl_open(&nl) == 0) {
		if ((tap = nl_ifindex(&nl, nb.tap)) > 0)
			nl_link_del(&nl, tap);
		nl_close(&nl);
	}
	if (nb.ipam[0])
		ipam_release(nb.ipam, nb.lease, getpid());
	nb.ipam[0] = 0;
}

static struct device_type netbridge_type = { .name = "netbridge", .prio = 19,
    .setup = netbridge_setup, .teardown = netbridge_teardown };
DEVICE_REGISTER(netbridge_type)
static struct device_type netbridge_tap_type = { .name = "netbridge-tap",
    .prio = 21, .setup = netbridge_tap_setup };
DEVICE_REGISTER(netbridge_tap_type)
