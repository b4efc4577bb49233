/* netlink.c: rtnetlink requests and untrusted reply parsing; see netlink.h.
 * Message layout: netlink(7), rtnetlink(7), and for errors the extended ack
 * of include/uapi/linux/netlink.h (struct nlmsgerr, NLMSGERR_ATTR_*). */
#include "netlink.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/veth.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define TUN_PATH "/dev/net/tun"

/* Bytes a length takes once padded to netlink's 4-byte alignment, without
 * wrapping on hostile 32-bit lengths. */
static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int nl_open(struct nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* Both are best effort: old kernels just give bare errnos. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	nl_open_fd(nl, fd);
	nl->from_kernel = 1;
	return 0;
}

void nl_open_fd(struct nl *nl, int fd)
{
	memset(nl, 0, sizeof *nl);
	nl->fd = fd;
	nl->seq = (uint32_t)time(NULL);
	nl->buf = xmalloc(NL_RECV_MAX);
}

void nl_close(struct nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
	free(nl->buf);
	nl->buf = NULL;
}

void nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags,
		 const void *hdr, size_t hdrlen)
{
	memset(r, 0, sizeof *r);
	nl_req_hdr(r)->nlmsg_type = type;
	nl_req_hdr(r)->nlmsg_flags = NLM_F_REQUEST | flags;
	nl_req_hdr(r)->nlmsg_len = NLMSG_LENGTH(hdrlen);
	if (hdrlen > NL_REQ_MAX - NLMSG_HDRLEN) {
		r->overflow = 1;
		nl_req_hdr(r)->nlmsg_len = NLMSG_HDRLEN;
		return;
	}
	if (hdrlen)
		memcpy(NLMSG_DATA(nl_req_hdr(r)), hdr, hdrlen);
	nl_req_hdr(r)->nlmsg_len = NLMSG_ALIGN(nl_req_hdr(r)->nlmsg_len);
}

struct rtattr *nl_put(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	size_t off = nl_req_hdr(r)->nlmsg_len;
	struct rtattr a = { .rta_type = type };
	unsigned char *p;

	if (r->overflow || len > NL_REQ_MAX || off + RTA_SPACE(len) > NL_REQ_MAX) {
		r->overflow = 1;
		return NULL;
	}
	p = r->b + off;
	a.rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(p, &a, sizeof a);
	if (len)
		memcpy(p + RTA_LENGTH(0), data, len);
	memset(p + RTA_LENGTH(len), 0, RTA_SPACE(len) - RTA_LENGTH(len));
	nl_req_hdr(r)->nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return (struct rtattr *)p;
}

struct rtattr *nl_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	return nl_put(r, type, &v, sizeof v);
}

struct rtattr *nl_put_str(struct nl_req *r, uint16_t type, const char *s)
{
	return nl_put(r, type, s, strlen(s) + 1);
}

struct rtattr *nl_nest(struct nl_req *r, uint16_t type)
{
	return nl_put(r, type, NULL, 0);
}

void nl_nest_end(struct nl_req *r, struct rtattr *nest)
{
	if (!nest || r->overflow)
		return;
	nest->rta_len = (unsigned short)(r->b + nl_req_hdr(r)->nlmsg_len - (unsigned char *)nest);
}

int nl_attr_parse(const void *data, size_t len, const struct rtattr **tb, int max)
{
	const unsigned char *p = data;

	memset(tb, 0, (size_t)(max + 1) * sizeof *tb);
	while (len >= sizeof(struct rtattr)) {
		const struct rtattr *a = (const struct rtattr *)p;
		size_t alen = a->rta_len, step;
		int type = a->rta_type & NLA_TYPE_MASK;

		if (alen < sizeof *a || alen > len)
			return -1;
		if (type <= max)
			tb[type] = a;
		step = align4(alen);
		if (step > len)
			step = len;
		p += step;
		len -= step;
	}
	return len == 0 ? 0 : -1;
}

int nl_msg_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct rtattr **tb, int max)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);

	if (h->nlmsg_len < NLMSG_HDRLEN + hdrlen)
		return -1;
	if (off >= h->nlmsg_len)
		return nl_attr_parse(NULL, 0, tb, max);
	return nl_attr_parse((const unsigned char *)h + off, h->nlmsg_len - off, tb, max);
}

const void *nl_attr_data(const struct rtattr *a)
{
	return (const unsigned char *)a + RTA_LENGTH(0);
}

size_t nl_attr_len(const struct rtattr *a)
{
	return a->rta_len - RTA_LENGTH(0);
}

int nl_attr_u32(const struct rtattr *a, uint32_t *v)
{
	if (!a || nl_attr_len(a) < sizeof *v)
		return -1;
	memcpy(v, nl_attr_data(a), sizeof *v);
	return 0;
}

int nl_attr_u8(const struct rtattr *a, uint8_t *v)
{
	if (!a || nl_attr_len(a) < 1)
		return -1;
	*v = *(const uint8_t *)nl_attr_data(a);
	return 0;
}

const char *nl_attr_str(const struct rtattr *a)
{
	size_t n;

	if (!a || (n = nl_attr_len(a)) == 0)
		return NULL;
	if (!memchr(nl_attr_data(a), '\0', n))
		return NULL;
	return nl_attr_data(a);
}

/* Keeps the kernel's message, made printable: it goes to a terminal. */
static void set_errmsg(struct nl *nl, const struct rtattr *msg)
{
	const char *s = nl_attr_str(msg);
	size_t i;

	if (!s)
		return;
	for (i = 0; s[i] && i < sizeof nl->errmsg - 1; i++)
		nl->errmsg[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	nl->errmsg[i] = '\0';
}

/* NLMSG_ERROR: 1 for an ack, -errno for an error, -EBADMSG if malformed.
 * The ack TLVs follow the echoed request, whole unless NLM_F_CAPPED. */
static int parse_error(struct nl *nl, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const struct rtattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off;
	int err;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
		return -EBADMSG;
	err = e->error;
	if (err == 0)
		return 1;
	if (err > 0 || err < -4095)
		return -EBADMSG;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return err;
	off = NLMSG_HDRLEN + sizeof(int);
	if (h->nlmsg_flags & NLM_F_CAPPED) {
		off += sizeof(struct nlmsghdr);
	} else {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return err;
		off += align4(e->msg.nlmsg_len);
	}
	if (off > h->nlmsg_len)
		return err;
	if (nl_attr_parse((const unsigned char *)h + off, h->nlmsg_len - off,
			  tb, NLMSGERR_ATTR_MAX) == 0)
		set_errmsg(nl, tb[NLMSGERR_ATTR_MSG]);
	return err;
}

/* NLMSG_DONE of a dump: an int error may follow, with ack TLVs after it. */
static int parse_done(struct nl *nl, const struct nlmsghdr *h)
{
	const struct rtattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_LENGTH(sizeof(int));
	int err;

	if (h->nlmsg_len < off)
		return nl->intr ? -EINTR : 1;
	memcpy(&err, NLMSG_DATA(h), sizeof err);
	if (err > 0 || err < -4095)
		return -EBADMSG;
	if (err == 0)
		return nl->intr ? -EINTR : 1;
	if ((h->nlmsg_flags & NLM_F_ACK_TLVS) && h->nlmsg_len > off &&
	    nl_attr_parse((const unsigned char *)h + off, h->nlmsg_len - off,
			  tb, NLMSGERR_ATTR_MAX) == 0)
		set_errmsg(nl, tb[NLMSGERR_ATTR_MSG]);
	return err;
}

int nl_reply_parse(struct nl *nl, const void *buf, size_t len, uint32_t seq,
		   int dump, nl_cb cb, void *arg)
{
	const unsigned char *p = buf;
	int r;

	while (len > 0) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)p;
		size_t mlen, step;

		if (len < sizeof *h)
			return -EBADMSG;
		mlen = h->nlmsg_len;
		if (mlen < sizeof *h || mlen > len)
			return -EBADMSG;
		step = align4(mlen);
		if (step > len)
			step = len;
		/* A late answer to an earlier request is not ours. */
		if (h->nlmsg_seq != seq)
			goto next;
		switch (h->nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_ERROR:
			return parse_error(nl, h);
		case NLMSG_DONE:
			if (!dump)
				return -EBADMSG;
			return parse_done(nl, h);
		case NLMSG_OVERRUN:
			return -ENOBUFS;
		default:
			if (h->nlmsg_type < NLMSG_MIN_TYPE)
				break;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				nl->intr = 1;
			if (cb && (r = cb(h, arg)) < 0)
				return r;
			/* A plain request answers with one message, then an ack. */
			break;
		}
next:
		p += step;
		len -= step;
	}
	return 0;
}

int nl_talk(struct nl *nl, struct nl_req *r, nl_cb cb, void *arg)
{
	struct nlmsghdr *h = nl_req_hdr(r);
	int dump = (h->nlmsg_type & 3) == 2 &&
		(h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	uint32_t seq;
	int ret;

	nl->errmsg[0] = '\0';
	nl->intr = 0;
	if (r->overflow)
		return -EMSGSIZE;
	if (!dump)
		h->nlmsg_flags |= NLM_F_ACK;
	seq = h->nlmsg_seq = ++nl->seq;
	h->nlmsg_pid = 0;
	while (send(nl->fd, h, h->nlmsg_len, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	do {
		struct sockaddr_nl sa;
		struct iovec iov = { nl->buf, NL_RECV_MAX };
		struct msghdr mh = {
			.msg_name = &sa, .msg_namelen = sizeof sa,
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n;

		memset(&sa, 0, sizeof sa);
		n = recvmsg(nl->fd, &mh, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (nl->from_kernel && (mh.msg_namelen < sizeof sa ||
					sa.nl_family != AF_NETLINK || sa.nl_pid != 0))
			continue;
		ret = nl_reply_parse(nl, nl->buf, (size_t)n, seq, dump, cb, arg);
	} while (ret == 0);
	return ret < 0 ? ret : 0;
}

/* Decoders: the family header must be whole, attributes in bounds. */

static void copy_str(char *dst, size_t cap, const struct rtattr *a)
{
	const char *s = nl_attr_str(a);
	size_t n;

	dst[0] = '\0';
	if (!s)
		return;
	n = strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int nl_link_decode(const struct nlmsghdr *h, struct nl_link *l)
{
	const struct rtattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	uint32_t v;

	memset(l, 0, sizeof *l);
	if (h->nlmsg_type != RTM_NEWLINK || nl_msg_attrs(h, sizeof *ifi, tb, IFLA_MAX) < 0)
		return -EBADMSG;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->type = ifi->ifi_type;
	copy_str(l->name, sizeof l->name, tb[IFLA_IFNAME]);
	nl_attr_u32(tb[IFLA_MTU], &l->mtu);
	nl_attr_u32(tb[IFLA_TXQLEN], &l->txqlen);
	if (nl_attr_u32(tb[IFLA_MASTER], &v) == 0)
		l->master = (int)v;
	if (nl_attr_u32(tb[IFLA_LINK], &v) == 0) {
		l->has_link = 1;
		l->link = (int)v;
	}
	if (nl_attr_u32(tb[IFLA_LINK_NETNSID], &v) == 0) {
		l->has_link_netnsid = 1;
		l->link_netnsid = (int)v;
	}
	nl_attr_u8(tb[IFLA_OPERSTATE], &l->operstate);
	if (tb[IFLA_ADDRESS] && nl_attr_len(tb[IFLA_ADDRESS]) <= NL_LLADDR_MAX) {
		l->addrlen = nl_attr_len(tb[IFLA_ADDRESS]);
		memcpy(l->addr, nl_attr_data(tb[IFLA_ADDRESS]), l->addrlen);
	}
	if (tb[IFLA_BROADCAST] && nl_attr_len(tb[IFLA_BROADCAST]) <= NL_LLADDR_MAX) {
		l->brdlen = nl_attr_len(tb[IFLA_BROADCAST]);
		memcpy(l->brd, nl_attr_data(tb[IFLA_BROADCAST]), l->brdlen);
	}
	if (tb[IFLA_LINKINFO]) {
		if (nl_attr_parse(nl_attr_data(tb[IFLA_LINKINFO]),
				  nl_attr_len(tb[IFLA_LINKINFO]), li, IFLA_INFO_MAX) < 0)
			return -EBADMSG;
		copy_str(l->kind, sizeof l->kind, li[IFLA_INFO_KIND]);
	}
	return 0;
}

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Copies an address attribute of exactly alen bytes; -1 when malformed. */
static int get_inaddr(const struct rtattr *a, size_t alen, unsigned char *dst, int *has)
{
	if (!a)
		return 0;
	if (nl_attr_len(a) != alen)
		return -1;
	memcpy(dst, nl_attr_data(a), alen);
	if (has)
		*has = 1;
	return 0;
}

int nl_addr_decode(const struct nlmsghdr *h, struct nl_addr *a)
{
	const struct rtattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	size_t alen;

	memset(a, 0, sizeof *a);
	if (h->nlmsg_type != RTM_NEWADDR || nl_msg_attrs(h, sizeof *ifa, tb, IFA_MAX) < 0)
		return -EBADMSG;
	a->family = ifa->ifa_family;
	if (!(alen = family_len(a->family)))
		return -EAFNOSUPPORT;
	if (ifa->ifa_prefixlen > alen * 8)
		return -EBADMSG;
	a->ifindex = (int)ifa->ifa_index;
	a->plen = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	nl_attr_u32(tb[IFA_FLAGS], &a->flags);
	if (get_inaddr(tb[IFA_LOCAL], alen, a->local, &a->has_local) < 0 ||
	    get_inaddr(tb[IFA_ADDRESS], alen, a->address, &a->has_address) < 0 ||
	    get_inaddr(tb[IFA_BROADCAST], alen, a->brd, &a->has_brd) < 0)
		return -EBADMSG;
	copy_str(a->label, sizeof a->label, tb[IFA_LABEL]);
	if (tb[IFA_CACHEINFO]) {
		struct ifa_cacheinfo ci;

		if (nl_attr_len(tb[IFA_CACHEINFO]) < sizeof ci)
			return -EBADMSG;
		memcpy(&ci, nl_attr_data(tb[IFA_CACHEINFO]), sizeof ci);
		a->has_cacheinfo = 1;
		a->valid = ci.ifa_valid;
		a->preferred = ci.ifa_prefered;
	}
	return 0;
}

int nl_route_decode(const struct nlmsghdr *h, struct nl_route *r)
{
	const struct rtattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm = NLMSG_DATA(h);
	size_t alen;
	uint32_t v;

	memset(r, 0, sizeof *r);
	if (h->nlmsg_type != RTM_NEWROUTE || nl_msg_attrs(h, sizeof *rtm, tb, RTA_MAX) < 0)
		return -EBADMSG;
	r->family = rtm->rtm_family;
	if (!(alen = family_len(r->family)))
		return -EAFNOSUPPORT;
	if (rtm->rtm_dst_len > alen * 8)
		return -EBADMSG;
	r->dst_len = rtm->rtm_dst_len;
	r->table = rtm->rtm_table;
	nl_attr_u32(tb[RTA_TABLE], &r->table);
	r->protocol = rtm->rtm_protocol;
	r->scope = rtm->rtm_scope;
	r->type = rtm->rtm_type;
	r->flags = rtm->rtm_flags;
	if (get_inaddr(tb[RTA_DST], alen, r->dst, NULL) < 0 ||
	    get_inaddr(tb[RTA_GATEWAY], alen, r->gw, &r->has_gw) < 0 ||
	    get_inaddr(tb[RTA_PREFSRC], alen, r->prefsrc, &r->has_prefsrc) < 0)
		return -EBADMSG;
	if (nl_attr_u32(tb[RTA_OIF], &v) == 0)
		r->oif = (int)v;
	if (nl_attr_u32(tb[RTA_PRIORITY], &r->metric) == 0)
		r->has_metric = 1;
	if (nl_attr_u8(tb[RTA_PREF], &r->pref) == 0)
		r->has_pref = 1;
	return 0;
}

/* Growing arrays for the dumps. */
struct list {
	void *v;
	size_t n, cap, size;
};

static void *list_slot(struct list *l)
{
	l->v = xgrow(l->v, &l->cap, l->n + 1, l->size);
	return (unsigned char *)l->v + l->n * l->size;
}

static int link_cb(const struct nlmsghdr *h, void *arg)
{
	struct list *l = arg;
	int r = nl_link_decode(h, list_slot(l));

	if (r < 0)
		return r;
	l->n++;
	return 0;
}

static int addr_cb(const struct nlmsghdr *h, void *arg)
{
	struct list *l = arg;
	int r = nl_addr_decode(h, list_slot(l));

	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	l->n++;
	return 0;
}

static int route_cb(const struct nlmsghdr *h, void *arg)
{
	struct list *l = arg;
	int r = nl_route_decode(h, list_slot(l));

	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	l->n++;
	return 0;
}

static int dump(struct nl *nl, uint16_t type, int family, size_t hdrlen,
		nl_cb cb, size_t size, void **out, size_t *n)
{
	/* Every rtnetlink family header starts with its family byte. */
	unsigned char hdr[sizeof(struct ifinfomsg)] = { 0 };
	struct list l = { NULL, 0, 0, size };
	struct nl_req r;
	int ret;

	hdr[0] = (unsigned char)family;
	nl_req_init(&r, type, NLM_F_DUMP, hdr, hdrlen);
	ret = nl_talk(nl, &r, cb, &l);
	if (ret < 0) {
		free(l.v);
		*out = NULL;
		*n = 0;
		return ret;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

int nl_link_list(struct nl *nl, struct nl_link **out, size_t *n)
{
	return dump(nl, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), link_cb,
		    sizeof **out, (void **)out, n);
}

int nl_addr_list(struct nl *nl, int family, struct nl_addr **out, size_t *n)
{
	return dump(nl, RTM_GETADDR, family, sizeof(struct ifaddrmsg), addr_cb,
		    sizeof **out, (void **)out, n);
}

int nl_route_list(struct nl *nl, int family, struct nl_route **out, size_t *n)
{
	return dump(nl, RTM_GETROUTE, family, sizeof(struct rtmsg), route_cb,
		    sizeof **out, (void **)out, n);
}

/* RTM_GETLINK of one link, by index or by name. */
static int one_link_cb(const struct nlmsghdr *h, void *arg)
{
	return nl_link_decode(h, arg);
}

static int get_link(struct nl *nl, int ifindex, const char *name, struct nl_link *l)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_req r;
	int ret;

	memset(l, 0, sizeof *l);
	if (name && (!*name || strlen(name) >= IFNAMSIZ))
		return -ENODEV;
	nl_req_init(&r, RTM_GETLINK, 0, &ifi, sizeof ifi);
	if (name)
		nl_put_str(&r, IFLA_IFNAME, name);
	nl_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = nl_talk(nl, &r, one_link_cb, l);
	if (ret < 0)
		return ret;
	return l->ifindex > 0 ? 0 : -ENODEV;
}

int nl_ifindex(struct nl *nl, const char *name)
{
	struct nl_link l;
	int r = get_link(nl, 0, name, &l);

	return r < 0 ? r : l.ifindex;
}

int nl_link_get(struct nl *nl, int ifindex, struct nl_link *l)
{
	return get_link(nl, ifindex, NULL, l);
}

void nl_link_change_init(struct nl_link_change *c)
{
	memset(c, 0, sizeof *c);
	c->up = -1;
	c->master = -1;
}

int nl_link_set(struct nl *nl, int ifindex, const struct nl_link_change *c)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_req r;

	if (c->up >= 0) {
		ifi.ifi_change = IFF_UP;
		ifi.ifi_flags = c->up ? IFF_UP : 0;
	}
	nl_req_init(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	if (c->addr)
		nl_put(&r, IFLA_ADDRESS, c->addr, c->addrlen);
	if (c->mtu)
		nl_put_u32(&r, IFLA_MTU, c->mtu);
	if (c->name)
		nl_put_str(&r, IFLA_IFNAME, c->name);
	if (c->master >= 0)
		nl_put_u32(&r, IFLA_MASTER, (uint32_t)c->master);
	return nl_talk(nl, &r, NULL, NULL);
}

int nl_link_up(struct nl *nl, int ifindex)
{
	struct nl_link_change c;

	nl_link_change_init(&c);
	c.up = 1;
	return nl_link_set(nl, ifindex, &c);
}

int nl_link_down(struct nl *nl, int ifindex)
{
	struct nl_link_change c;

	nl_link_change_init(&c);
	c.up = 0;
	return nl_link_set(nl, ifindex, &c);
}

int nl_link_set_mtu(struct nl *nl, int ifindex, uint32_t mtu)
{
	struct nl_link_change c;

	nl_link_change_init(&c);
	c.mtu = mtu;
	return nl_link_set(nl, ifindex, &c);
}

int nl_link_set_master(struct nl *nl, int ifindex, int master)
{
	struct nl_link_change c;

	nl_link_change_init(&c);
	c.master = master;
	return nl_link_set(nl, ifindex, &c);
}

/* RTM_NEWLINK with IFLA_LINKINFO { IFLA_INFO_KIND, [IFLA_INFO_DATA] }. */
static int link_add(struct nl *nl, const char *name, const char *kind, const char *peer)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *info, *data, *pa;
	struct nl_req r;

	nl_req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
	nl_put_str(&r, IFLA_IFNAME, name);
	info = nl_nest(&r, IFLA_LINKINFO);
	nl_put_str(&r, IFLA_INFO_KIND, kind);
	if (peer) {
		/* VETH_INFO_PEER holds a struct ifinfomsg, then its attributes. */
		data = nl_nest(&r, IFLA_INFO_DATA);
		pa = nl_put(&r, VETH_INFO_PEER, &ifi, sizeof ifi);
		nl_put_str(&r, IFLA_IFNAME, peer);
		nl_nest_end(&r, pa);
		nl_nest_end(&r, data);
	}
	nl_nest_end(&r, info);
	return nl_talk(nl, &r, NULL, NULL);
}

int nl_link_add(struct nl *nl, const char *name, const char *kind)
{
	return link_add(nl, name, kind, NULL);
}

int nl_link_add_veth(struct nl *nl, const char *name, const char *peer)
{
	return link_add(nl, name, "veth", peer);
}

int nl_link_del(struct nl *nl, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_req r;

	nl_req_init(&r, RTM_DELLINK, 0, &ifi, sizeof ifi);
	return nl_talk(nl, &r, NULL, NULL);
}

static int addr_modify(struct nl *nl, uint16_t type, uint16_t flags, int ifindex,
		       int family, const void *addr, int plen)
{
	struct ifaddrmsg ifa = {
		.ifa_family = (unsigned char)family,
		.ifa_prefixlen = (unsigned char)plen,
		.ifa_index = (unsigned)ifindex,
	};
	size_t alen = family_len(family);
	struct nl_req r;

	if (!alen)
		return -EAFNOSUPPORT;
	if (plen < 0 || (size_t)plen > alen * 8)
		return -EINVAL;
	/* As ip(8) does: 127.0.0.0/8 is host scope, the rest universe. */
	if (family == AF_INET && ((const unsigned char *)addr)[0] == 127)
		ifa.ifa_scope = RT_SCOPE_HOST;
	nl_req_init(&r, type, flags, &ifa, sizeof ifa);
	nl_put(&r, IFA_LOCAL, addr, alen);
	nl_put(&r, IFA_ADDRESS, addr, alen);
	return nl_talk(nl, &r, NULL, NULL);
}

int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, int plen)
{
	return addr_modify(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex,
			   family, addr, plen);
}

int nl_addr_del(struct nl *nl, int ifindex, int family, const void *addr, int plen)
{
	return addr_modify(nl, RTM_DELADDR, 0, ifindex, family, addr, plen);
}

static int route_modify(struct nl *nl, uint16_t type, uint16_t flags, const struct nl_route *rt)
{
	struct rtmsg rtm = {
		.rtm_family = (unsigned char)rt->family,
		.rtm_dst_len = (unsigned char)rt->dst_len,
		.rtm_table = RT_TABLE_MAIN,
	};
	size_t alen = family_len(rt->family);
	struct nl_req r;

	if (!alen)
		return -EAFNOSUPPORT;
	if (rt->dst_len < 0 || (size_t)rt->dst_len > alen * 8)
		return -EINVAL;
	if (type == RTM_NEWROUTE) {
		rtm.rtm_protocol = RTPROT_BOOT;
		rtm.rtm_type = RTN_UNICAST;
		/* Without a gateway the prefix is on the link, as ip(8) has it. */
		rtm.rtm_scope = rt->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	} else {
		rtm.rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (rt->table && rt->table < 256)
		rtm.rtm_table = (unsigned char)rt->table;
	nl_req_init(&r, type, flags, &rtm, sizeof rtm);
	if (rt->table >= 256)
		nl_put_u32(&r, RTA_TABLE, rt->table);
	if (rt->dst_len > 0)
		nl_put(&r, RTA_DST, rt->dst, alen);
	if (rt->has_gw)
		nl_put(&r, RTA_GATEWAY, rt->gw, alen);
	if (rt->oif > 0)
		nl_put_u32(&r, RTA_OIF, (uint32_t)rt->oif);
	if (rt->has_metric)
		nl_put_u32(&r, RTA_PRIORITY, rt->metric);
	return nl_talk(nl, &r, NULL, NULL);
}

int nl_route_add(struct nl *nl, const struct nl_route *r)
{
	return route_modify(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int nl_route_del(struct nl *nl, const struct nl_route *r)
{
	return route_modify(nl, RTM_DELROUTE, 0, r);
}

int nl_route_add_default(struct nl *nl, int family, const void *gw, int oif)
{
	struct nl_route r;

	memset(&r, 0, sizeof r);
	r.family = family;
	if (!family_len(family))
		return -EAFNOSUPPORT;
	if (gw) {
		r.has_gw = 1;
		memcpy(r.gw, gw, family_len(family));
	}
	r.oif = oif;
	return nl_route_add(nl, &r);
}

int nl_tap_open(const char *name, int vnet_hdr, char ifname[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, e;

	memset(&ifr, 0, sizeof ifr);
	if (name && strlen(name) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (name)
		memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
	if ((fd = open(TUN_PATH, O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (ifname) {
		memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
		ifname[IFNAMSIZ - 1] = '\0';
	}
	return fd;
}

int nl_tap_create(const char *name, long uid)
{
	int fd = nl_tap_open(name, 0, NULL), e;

	if (fd < 0)
		return -1;
	if ((uid >= 0 && ioctl(fd, TUNSETOWNER, (unsigned long)uid) < 0) ||
	    ioctl(fd, TUNSETPERSIST, 1UL) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}
