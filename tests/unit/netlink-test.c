/* netlink-test.c: lib/netlink against a fake kernel on a socketpair,
 * printing TAP. The replies are queued before each call (its sequence
 * number is nl.seq + 1), then the request it sent is read back and checked.
 * Most replies here are hostile: bad lengths, truncation, wrong seq. */
#include "err.h"
#include "netlink.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/veth.h>
#include "tap.h"


static struct nl nl;
static int kfd;			/* the fake kernel's end */
static unsigned char req[NL_RECV_MAX] __attribute__((aligned(4)));
static ssize_t reqlen;

static void setup(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair:");
	nl_open_fd(&nl, sv[0]);
	kfd = sv[1];
}

static void teardown(void)
{
	nl_close(&nl);
	if (kfd >= 0)
		close(kfd);
	kfd = -1;
}

static void kernel_send(const void *buf, size_t len)
{
	if (send(kfd, buf, len, 0) != (ssize_t)len)
		die("fake kernel: send:");
}

/* Reads the request the library sent, if any, without blocking. */
static const struct nlmsghdr *kernel_recv(void)
{
	reqlen = recv(kfd, req, sizeof req, MSG_DONTWAIT);
	return reqlen >= (ssize_t)sizeof(struct nlmsghdr) ? (const struct nlmsghdr *)req : NULL;
}

static uint32_t next_seq(void)
{
	return nl.seq + 1;
}

/* A reply message built with the library's own request builder. */
static void msg(struct nl_req *m, uint16_t type, uint16_t flags, uint32_t seq,
		const void *hdr, size_t hdrlen)
{
	nl_req_init(m, type, 0, hdr, hdrlen);
	nl_req_hdr(m)->nlmsg_flags = flags;
	nl_req_hdr(m)->nlmsg_seq = seq;
}

static void send_msg(struct nl_req *m)
{
	kernel_send(m->b, nl_req_hdr(m)->nlmsg_len);
}

/* NLMSG_ERROR: capped (header only) unless uncapped_len > 0, in which case
 * that many bytes of echoed request follow; then an optional message TLV
 * of msglen bytes (which need not be NUL-terminated). */
static void send_error(uint32_t seq, int err, size_t uncapped_len, const char *m, size_t msglen)
{
	unsigned char b[512] __attribute__((aligned(4)));
	struct nlmsghdr *h = (struct nlmsghdr *)b;
	struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off = NLMSG_HDRLEN + sizeof(int) + sizeof(struct nlmsghdr);
	struct rtattr *a;

	memset(b, 0, sizeof b);
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_seq = seq;
	e->error = err;
	e->msg.nlmsg_len = (uint32_t)(sizeof(struct nlmsghdr) + uncapped_len);
	e->msg.nlmsg_seq = seq;
	if (uncapped_len)
		off += NLMSG_ALIGN(uncapped_len);
	else
		h->nlmsg_flags |= NLM_F_CAPPED;
	if (m) {
		h->nlmsg_flags |= NLM_F_ACK_TLVS;
		a = (struct rtattr *)(b + off);
		a->rta_type = NLMSGERR_ATTR_MSG;
		a->rta_len = (unsigned short)RTA_LENGTH(msglen);
		memcpy(RTA_DATA(a), m, msglen);
		off += RTA_ALIGN(a->rta_len);
	}
	h->nlmsg_len = (uint32_t)off;
	kernel_send(b, off);
}

static void send_ack(uint32_t seq)
{
	send_error(seq, 0, 0, NULL, 0);
}

static void link_msg(struct nl_req *m, uint32_t seq, int ifindex, const char *name, uint32_t mtu)
{
	struct ifinfomsg ifi = { .ifi_index = ifindex, .ifi_flags = IFF_UP };

	msg(m, RTM_NEWLINK, NLM_F_MULTI, seq, &ifi, sizeof ifi);
	nl_put_str(m, IFLA_IFNAME, name);
	nl_put_u32(m, IFLA_MTU, mtu);
}

static void send_done(uint32_t seq, int err)
{
	struct nl_req m;

	msg(&m, NLMSG_DONE, NLM_F_MULTI, seq, &err, sizeof err);
	send_msg(&m);
}

static void test_ack_and_request(void)
{
	const struct nlmsghdr *h;
	const struct ifinfomsg *ifi;

	setup();
	send_ack(next_seq());
	is_int(nl_link_up(&nl, 7), 0, "ack: link up succeeds");
	h = kernel_recv();
	ok(h && h->nlmsg_type == RTM_NEWLINK, "request: RTM_NEWLINK");
	ok(h && (h->nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK)) == (NLM_F_REQUEST | NLM_F_ACK),
	   "request: asks for an ack");
	ok(h && h->nlmsg_seq == nl.seq && (ssize_t)h->nlmsg_len == reqlen,
	   "request: carries its seq and its length");
	ifi = h ? NLMSG_DATA(h) : NULL;
	ok(ifi && ifi->ifi_index == 7 && ifi->ifi_change == IFF_UP && ifi->ifi_flags == IFF_UP,
	   "request: index 7, IFF_UP changed to on");
	teardown();
}

static void test_veth_request(void)
{
	const struct rtattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1], *vd[VETH_INFO_MAX + 1];
	const struct rtattr *pt[IFLA_MAX + 1];
	const struct nlmsghdr *h;
	int good = 0;

	setup();
	send_ack(next_seq());
	is_int(nl_link_add_veth(&nl, "ve0", "ve1"), 0, "veth: created");
	h = kernel_recv();
	if (h && nl_msg_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX) == 0 &&
	    tb[IFLA_LINKINFO] &&
	    nl_attr_parse(nl_attr_data(tb[IFLA_LINKINFO]), nl_attr_len(tb[IFLA_LINKINFO]),
			  li, IFLA_INFO_MAX) == 0 &&
	    li[IFLA_INFO_DATA] &&
	    nl_attr_parse(nl_attr_data(li[IFLA_INFO_DATA]), nl_attr_len(li[IFLA_INFO_DATA]),
			  vd, VETH_INFO_MAX) == 0 &&
	    vd[VETH_INFO_PEER] && nl_attr_len(vd[VETH_INFO_PEER]) >= sizeof(struct ifinfomsg) &&
	    nl_attr_parse((const unsigned char *)nl_attr_data(vd[VETH_INFO_PEER]) +
			  sizeof(struct ifinfomsg),
			  nl_attr_len(vd[VETH_INFO_PEER]) - sizeof(struct ifinfomsg),
			  pt, IFLA_MAX) == 0 &&
	    nl_attr_str(tb[IFLA_IFNAME]) && !strcmp(nl_attr_str(tb[IFLA_IFNAME]), "ve0") &&
	    nl_attr_str(li[IFLA_INFO_KIND]) && !strcmp(nl_attr_str(li[IFLA_INFO_KIND]), "veth") &&
	    nl_attr_str(pt[IFLA_IFNAME]) && !strcmp(nl_attr_str(pt[IFLA_IFNAME]), "ve1"))
		good = 1;
	ok(good, "veth: LINKINFO{KIND veth, DATA{PEER{ifinfomsg, IFNAME ve1}}}");
	ok(h && (h->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) == (NLM_F_CREATE | NLM_F_EXCL),
	   "veth: create, exclusive");
	teardown();
}

static void test_route_request(void)
{
	const struct rtattr *tb[RTA_MAX + 1];
	const struct nlmsghdr *h;
	const struct rtmsg *rtm;
	unsigned char gw[4] = { 10, 0, 0, 1 };
	uint32_t oif = 0;

	setup();
	send_ack(next_seq());
	is_int(nl_route_add_default(&nl, AF_INET, gw, 3), 0, "route: default added");
	h = kernel_recv();
	rtm = h ? NLMSG_DATA(h) : NULL;
	ok(h && h->nlmsg_type == RTM_NEWROUTE && rtm->rtm_dst_len == 0 &&
	   rtm->rtm_table == RT_TABLE_MAIN && rtm->rtm_protocol == RTPROT_BOOT &&
	   rtm->rtm_type == RTN_UNICAST, "route: main table, boot, unicast, /0");
	ok(h && nl_msg_attrs(h, sizeof *rtm, tb, RTA_MAX) == 0 && !tb[RTA_DST] &&
	   tb[RTA_GATEWAY] && nl_attr_len(tb[RTA_GATEWAY]) == 4 &&
	   !memcmp(nl_attr_data(tb[RTA_GATEWAY]), gw, 4) &&
	   nl_attr_u32(tb[RTA_OIF], &oif) == 0 && oif == 3, "route: gateway and oif, no dst");
	teardown();
}

static void test_errors(void)
{
	char big[300];

	setup();
	send_error(next_seq(), -EINVAL, 0, "Invalid prefix", sizeof "Invalid prefix");
	is_int(nl_link_up(&nl, 1), -EINVAL, "ext ack (capped): the errno");
	is_str(nl.errmsg, "Invalid prefix", "ext ack (capped): the kernel's message");

	send_error(next_seq(), -EEXIST, 40, "File exists here", sizeof "File exists here");
	is_int(nl_link_up(&nl, 1), -EEXIST, "ext ack (request echoed): the errno");
	is_str(nl.errmsg, "File exists here", "ext ack (request echoed): message after the echo");

	send_error(next_seq(), -EPERM, 0, NULL, 0);
	is_int(nl_link_up(&nl, 1), -EPERM, "bare error: the errno");
	is_str(nl.errmsg, "", "bare error: no message");

	send_error(next_seq(), -EINVAL, 0, "unterminated", 12);
	is_int(nl_link_up(&nl, 1), -EINVAL, "unterminated message: still the errno");
	is_str(nl.errmsg, "", "unterminated message: dropped");

	send_error(next_seq(), -EINVAL, 0, "bad\033[2Jname\n", sizeof "bad\033[2Jname\n");
	nl_link_up(&nl, 1);
	is_str(nl.errmsg, "bad?[2Jname?", "control characters in the message are replaced");

	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = '\0';
	send_error(next_seq(), -EINVAL, 0, big, sizeof big);
	nl_link_up(&nl, 1);
	is_int((long)strlen(nl.errmsg), NL_ERRMSG_MAX - 1, "a long message is cut to the buffer");

	/* The echoed request claims to be longer than the error message. */
	{
		unsigned char b[64] __attribute__((aligned(4)));
		struct nlmsghdr *h = (struct nlmsghdr *)b;
		struct nlmsgerr *e = NLMSG_DATA(h);

		memset(b, 0, sizeof b);
		h->nlmsg_len = NLMSG_LENGTH(sizeof *e);
		h->nlmsg_type = NLMSG_ERROR;
		h->nlmsg_flags = NLM_F_ACK_TLVS;
		h->nlmsg_seq = next_seq();
		e->error = -ENOENT;
		e->msg.nlmsg_len = 0xfffffff0u;
		kernel_send(b, h->nlmsg_len);
	}
	is_int(nl_link_up(&nl, 1), -ENOENT, "echoed length out of bounds: errno, no crash");
	teardown();
}

static void test_seq(void)
{
	setup();
	send_error(next_seq() - 1, -EPERM, 0, "stale", sizeof "stale");
	send_error(next_seq() + 5, -EPERM, 0, "future", sizeof "future");
	send_ack(next_seq());
	is_int(nl_link_up(&nl, 1), 0, "wrong seq: skipped, the right ack counts");
	is_str(nl.errmsg, "", "wrong seq: its message is not taken");

	send_error(next_seq() - 1, -EPERM, 0, NULL, 0);
	shutdown(kfd, SHUT_WR);
	is_int(nl_link_up(&nl, 1), -ECONNRESET, "wrong seq then closed: no hang, -ECONNRESET");
	teardown();
}

static void test_malformed(void)
{
	unsigned char b[64] __attribute__((aligned(4)));
	struct nlmsghdr *h = (struct nlmsghdr *)b;
	struct nl_req m;
	int err = 1;

	setup();
	memset(b, 0, sizeof b);
	h->nlmsg_len = 200;
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_seq = next_seq();
	kernel_send(b, 36);
	is_int(nl_link_up(&nl, 1), -EBADMSG, "nlmsg_len past the datagram: EBADMSG");

	h->nlmsg_len = 8;
	h->nlmsg_seq = next_seq();
	kernel_send(b, 36);
	is_int(nl_link_up(&nl, 1), -EBADMSG, "nlmsg_len below a header: EBADMSG");

	h->nlmsg_seq = next_seq();
	kernel_send(b, 10);
	is_int(nl_link_up(&nl, 1), -EBADMSG, "datagram shorter than a header: EBADMSG");

	h->nlmsg_len = NLMSG_HDRLEN + 2;
	h->nlmsg_seq = next_seq();
	kernel_send(b, h->nlmsg_len);
	is_int(nl_link_up(&nl, 1), -EBADMSG, "NLMSG_ERROR without its nlmsgerr: EBADMSG");

	msg(&m, NLMSG_ERROR, 0, next_seq(), &err, sizeof err);
	nl_req_hdr(&m)->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
	send_msg(&m);
	is_int(nl_link_up(&nl, 1), -EBADMSG, "positive error number: EBADMSG");

	/* A good ack, then 8 bytes of trailing junk in the same datagram. */
	memset(b, 0, sizeof b);
	h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
	h->nlmsg_type = NLMSG_NOOP;
	h->nlmsg_seq = next_seq();
	kernel_send(b, h->nlmsg_len + 8);
	is_int(nl_link_up(&nl, 1), -EBADMSG, "trailing partial header: EBADMSG");

	send_done(next_seq(), 0);
	is_int(nl_link_up(&nl, 1), -EBADMSG, "NLMSG_DONE answering a non-dump: EBADMSG");

	msg(&m, NLMSG_OVERRUN, 0, next_seq(), NULL, 0);
	send_msg(&m);
	is_int(nl_link_up(&nl, 1), -ENOBUFS, "NLMSG_OVERRUN: ENOBUFS");
	teardown();
}

static void test_dump(void)
{
	struct nl_link *links = NULL;
	struct nl_req m;
	size_t cnt = 99;
	uint32_t seq;

	setup();
	seq = next_seq();
	link_msg(&m, seq, 1, "lo", 65536);
	send_msg(&m);
	link_msg(&m, seq - 1, 9, "stale", 1);
	send_msg(&m);
	link_msg(&m, seq, 2, "eth0", 1500);
	send_msg(&m);
	send_done(seq, 0);
	is_int(nl_link_list(&nl, &links, &cnt), 0, "dump: succeeds");
	is_int((long)cnt, 2, "dump: two links (the stale one skipped)");
	ok(cnt == 2 && links[0].ifindex == 1 && !strcmp(links[0].name, "lo") &&
	   links[0].mtu == 65536 && links[1].ifindex == 2 && !strcmp(links[1].name, "eth0"),
	   "dump: decoded in order");
	free(links);
	ok(kernel_recv() && (((const struct nlmsghdr *)req)->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP &&
	   !(((const struct nlmsghdr *)req)->nlmsg_flags & NLM_F_ACK), "dump: request has NLM_F_DUMP, no ack");

	/* An attribute whose length runs past its message. */
	seq = next_seq();
	link_msg(&m, seq, 1, "lo", 65536);
	((struct rtattr *)(m.b + NLMSG_LENGTH(sizeof(struct ifinfomsg))))->rta_len = 200;
	send_msg(&m);
	send_done(seq, 0);
	is_int(nl_link_list(&nl, &links, &cnt), -EBADMSG, "dump: rta_len out of bounds: EBADMSG");
	ok(links == NULL && cnt == 0, "dump: nothing handed back on failure");
	recv(nl.fd, req, sizeof req, MSG_DONTWAIT);	/* the unread DONE */

	seq = next_seq();
	link_msg(&m, seq, 1, "lo", 65536);
	((struct rtattr *)(m.b + NLMSG_LENGTH(sizeof(struct ifinfomsg))))->rta_len = 2;
	send_msg(&m);
	is_int(nl_link_list(&nl, &links, &cnt), -EBADMSG, "dump: rta_len below a header: EBADMSG");

	seq = next_seq();
	msg(&m, RTM_NEWLINK, NLM_F_MULTI, seq, "\0\0\0", 3);
	send_msg(&m);
	is_int(nl_link_list(&nl, &links, &cnt), -EBADMSG, "dump: truncated ifinfomsg: EBADMSG");

	seq = next_seq();
	link_msg(&m, seq, 1, "lo", 65536);
	nl_req_hdr(&m)->nlmsg_flags |= NLM_F_DUMP_INTR;
	send_msg(&m);
	send_done(seq, 0);
	is_int(nl_link_list(&nl, &links, &cnt), -EINTR, "dump: interrupted dump is -EINTR");

	seq = next_seq();
	{
		struct nl_req d;
		int e = -EOPNOTSUPP;

		msg(&d, NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS, seq, &e, sizeof e);
		nl_put_str(&d, NLMSGERR_ATTR_MSG, "dump failed");
		send_msg(&d);
	}
	is_int(nl_link_list(&nl, &links, &cnt), -EOPNOTSUPP, "dump: error in NLMSG_DONE");
	is_str(nl.errmsg, "dump failed", "dump: with its ext ack message");
	teardown();
}

static void test_ifindex(void)
{
	struct nl_req m;
	const struct rtattr *tb[IFLA_MAX + 1];
	const struct nlmsghdr *h;

	setup();
	link_msg(&m, next_seq(), 5, "br0", 1500);
	send_msg(&m);
	send_ack(next_seq());
	is_int(nl_ifindex(&nl, "br0"), 5, "ifindex: from the reply");
	h = kernel_recv();
	ok(h && nl_msg_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX) == 0 &&
	   nl_attr_str(tb[IFLA_IFNAME]) && !strcmp(nl_attr_str(tb[IFLA_IFNAME]), "br0"),
	   "ifindex: asked by IFLA_IFNAME");
	send_error(next_seq(), -ENODEV, 0, NULL, 0);
	is_int(nl_ifindex(&nl, "nope"), -ENODEV, "ifindex: ENODEV");
	is_int(nl_ifindex(&nl, "a-name-far-too-long"), -ENODEV, "ifindex: overlong name, no request");
	ok(kernel_recv() && ((const struct nlmsghdr *)req)->nlmsg_seq == nl.seq,
	   "ifindex: only the ENODEV request went out");

	/* The name attribute is not NUL-terminated: decoded as empty. */
	{
		struct ifinfomsg ifi = { .ifi_index = 6 };

		msg(&m, RTM_NEWLINK, 0, next_seq(), &ifi, sizeof ifi);
		nl_put(&m, IFLA_IFNAME, "abcd", 4);
		send_msg(&m);
		send_ack(next_seq());
	}
	{
		struct nl_link l;

		is_int(nl_link_get(&nl, 6, &l), 0, "unterminated IFLA_IFNAME: still decodes");
		is_str(l.name, "", "unterminated IFLA_IFNAME: empty name");
	}
	teardown();
}

static void test_decoders(void)
{
	struct nl_req m;
	struct nl_addr a;
	struct nl_route r;
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 3 };
	struct rtmsg rtm = { .rtm_family = AF_INET6, .rtm_dst_len = 64, .rtm_table = RT_TABLE_MAIN };
	unsigned char v4[4] = { 10, 0, 0, 1 }, v6[16] = { 0xfd };
	uint32_t prio = 256;

	msg(&m, RTM_NEWADDR, 0, 1, &ifa, sizeof ifa);
	nl_put(&m, IFA_LOCAL, v4, 4);
	nl_put_str(&m, IFA_LABEL, "eth0");
	ok(nl_addr_decode(nl_req_hdr(&m), &a) == 0 && a.has_local && !memcmp(a.local, v4, 4) &&
	   a.plen == 24 && a.ifindex == 3 && !strcmp(a.label, "eth0"), "addr: decodes");

	msg(&m, RTM_NEWADDR, 0, 1, &ifa, sizeof ifa);
	nl_put(&m, IFA_LOCAL, v6, 16);
	is_int(nl_addr_decode(nl_req_hdr(&m), &a), -EBADMSG, "addr: 16-byte IPv4 address: EBADMSG");

	ifa.ifa_prefixlen = 33;
	msg(&m, RTM_NEWADDR, 0, 1, &ifa, sizeof ifa);
	is_int(nl_addr_decode(nl_req_hdr(&m), &a), -EBADMSG, "addr: /33: EBADMSG");

	ifa.ifa_family = AF_PACKET;
	msg(&m, RTM_NEWADDR, 0, 1, &ifa, sizeof ifa);
	is_int(nl_addr_decode(nl_req_hdr(&m), &a), -EAFNOSUPPORT, "addr: other family: skipped");

	msg(&m, RTM_NEWROUTE, 0, 1, &rtm, sizeof rtm);
	nl_put(&m, RTA_DST, v6, 16);
	nl_put_u32(&m, RTA_PRIORITY, prio);
	nl_put_u32(&m, RTA_OIF, 2);
	ok(nl_route_decode(nl_req_hdr(&m), &r) == 0 && r.dst_len == 64 && !memcmp(r.dst, v6, 16) &&
	   r.has_metric && r.metric == 256 && r.oif == 2 && !r.has_gw, "route: decodes");

	msg(&m, RTM_NEWROUTE, 0, 1, &rtm, sizeof rtm);
	nl_put(&m, RTA_GATEWAY, v4, 4);
	is_int(nl_route_decode(nl_req_hdr(&m), &r), -EBADMSG, "route: 4-byte IPv6 gateway: EBADMSG");

	msg(&m, RTM_NEWROUTE, 0, 1, &rtm, sizeof rtm);
	nl_put(&m, RTA_PRIORITY, "ab", 2);
	ok(nl_route_decode(nl_req_hdr(&m), &r) == 0 && !r.has_metric, "route: short RTA_PRIORITY ignored");

	msg(&m, RTM_NEWLINK, 0, 1, &rtm, sizeof rtm);
	is_int(nl_route_decode(nl_req_hdr(&m), &r), -EBADMSG, "route: wrong message type: EBADMSG");
}

static void test_overflow(void)
{
	char name[NL_REQ_MAX + 10];
	struct nl_req m;
	struct ifinfomsg ifi = { 0 };

	setup();
	memset(name, 'a', sizeof name);
	name[sizeof name - 1] = '\0';
	is_int(nl_link_add(&nl, "x", name), -EMSGSIZE, "request overflow: EMSGSIZE");
	ok(kernel_recv() == NULL, "request overflow: nothing sent");
	nl_req_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	while (nl_put_u32(&m, IFLA_MTU, 1))
		;
	ok(m.overflow && nl_req_hdr(&m)->nlmsg_len <= NL_REQ_MAX, "builder: stops at NL_REQ_MAX");
	teardown();
}

int main(int argc, char **argv)
{
	(void)argc;
	setprogname(argv[0]);
	test_ack_and_request();
	test_veth_request();
	test_route_request();
	test_errors();
	test_seq();
	test_malformed();
	test_dump();
	test_ifindex();
	test_decoders();
	test_overflow();
	return done_testing();
}
