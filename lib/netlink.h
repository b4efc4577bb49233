/* netlink.h: rtnetlink without iproute2 or libnl. Builds requests, talks to
 * the kernel, and parses its replies as untrusted input (every nlmsg_len and
 * rta_len is bounds-checked, replies of other sequence numbers are skipped).
 * netlinkctl uses it on the host, vminit in the guest: libc and the kernel
 * UAPI only.
 *
 * Functions that talk to the kernel return 0 (or a positive value) on
 * success and -errno on failure; nl->errmsg then holds the kernel's
 * extended ack message, or "" when it gave none. */
#ifndef CZ_NETLINK_H
#define CZ_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* The largest request built here: a veth pair with names is ~100 bytes. */
#define NL_REQ_MAX 1024
/* Receive buffer: the kernel's dump datagrams are at most 32 KiB. */
#define NL_RECV_MAX (64 * 1024)
#define NL_ERRMSG_MAX 256
/* Link-layer addresses: MAX_ADDR_LEN in the kernel. */
#define NL_LLADDR_MAX 32

struct nl {
	int fd;
	uint32_t seq;
	int from_kernel;	/* a real netlink socket: drop non-kernel senders */
	int intr;		/* the dump in progress was interrupted */
	unsigned char *buf;	/* NL_RECV_MAX bytes */
	char errmsg[NL_ERRMSG_MAX];
};

/* Opens a NETLINK_ROUTE socket with extended acks. 0, or -errno. */
int nl_open(struct nl *nl);
/* Uses fd (any datagram socket) as the kernel's end: tests play the kernel
 * on a socketpair. nl_close closes it. */
void nl_open_fd(struct nl *nl, int fd);
void nl_close(struct nl *nl);

/* A request under construction. Appending past NL_REQ_MAX sets overflow,
 * and nl_talk then refuses the request with -EMSGSIZE. */
struct nl_req {
	_Alignas(struct nlmsghdr) unsigned char b[NL_REQ_MAX];
	int overflow;
};

static inline struct nlmsghdr *nl_req_hdr(struct nl_req *r)
{
	return (struct nlmsghdr *)r->b;
}

/* Starts a request of type with flags (NLM_F_REQUEST is added) and the
 * family header hdr of hdrlen bytes (struct ifinfomsg, ifaddrmsg, rtmsg). */
void nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags,
		 const void *hdr, size_t hdrlen);
struct rtattr *nl_put(struct nl_req *r, uint16_t type, const void *data, size_t len);
struct rtattr *nl_put_u32(struct nl_req *r, uint16_t type, uint32_t v);
struct rtattr *nl_put_str(struct nl_req *r, uint16_t type, const char *s);
/* Nested attributes: nl_nest opens one, nl_nest_end sets its length. */
struct rtattr *nl_nest(struct nl_req *r, uint16_t type);
void nl_nest_end(struct nl_req *r, struct rtattr *nest);

/* Called for each data message of a reply; a negative return stops the
 * exchange with that value. */
typedef int (*nl_cb)(const struct nlmsghdr *h, void *arg);

/* Sends r (a dump when it is an RTM_GET* with NLM_F_DUMP, otherwise with
 * NLM_F_ACK) and reads the reply to its end. cb may be NULL. */
int nl_talk(struct nl *nl, struct nl_req *r, nl_cb cb, void *arg);

/* The reply parser, on one received datagram of len bytes (4-byte
 * aligned): 1 when the exchange with sequence number seq is complete, 0
 * when more datagrams are due, or -errno (-EBADMSG: malformed). */
int nl_reply_parse(struct nl *nl, const void *buf, size_t len, uint32_t seq,
		   int dump, nl_cb cb, void *arg);

/* Indexes the attributes in len bytes at data by type into tb[0..max]
 * (later duplicates win, types above max are ignored). 0, or -1 when an
 * attribute's length runs out of bounds. */
int nl_attr_parse(const void *data, size_t len, const struct rtattr **tb, int max);
/* The same for the attributes after the hdrlen-byte family header of h. */
int nl_msg_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct rtattr **tb, int max);
const void *nl_attr_data(const struct rtattr *a);
size_t nl_attr_len(const struct rtattr *a);
/* 0 and *v, or -1 when a is NULL or too short. */
int nl_attr_u32(const struct rtattr *a, uint32_t *v);
int nl_attr_u8(const struct rtattr *a, uint8_t *v);
/* The string in a, or NULL when a is NULL or not NUL-terminated. */
const char *nl_attr_str(const struct rtattr *a);

/* Decoded objects. Addresses are in network byte order, 4 or 16 bytes. */
struct nl_link {
	int ifindex;
	unsigned flags;		/* IFF_* */
	unsigned short type;	/* ARPHRD_* */
	char name[IFNAMSIZ];
	char kind[16];		/* IFLA_INFO_KIND, or "" */
	uint32_t mtu;
	int master;		/* 0: none */
	int has_link, has_link_netnsid;
	int link;		/* IFLA_LINK: the peer or lower device */
	int link_netnsid;
	uint8_t operstate;	/* IF_OPER_* */
	unsigned char addr[NL_LLADDR_MAX], brd[NL_LLADDR_MAX];
	size_t addrlen, brdlen;
	uint32_t txqlen;
};

struct nl_addr {
	int family;		/* AF_INET, AF_INET6 */
	int ifindex;
	int plen;
	int scope;
	uint32_t flags;		/* IFA_F_* */
	int has_local, has_address, has_brd;
	unsigned char local[16], address[16], brd[16];
	char label[IFNAMSIZ];
	int has_cacheinfo;
	uint32_t valid, preferred;
};

struct nl_route {
	int family;		/* AF_INET, AF_INET6 */
	int dst_len;		/* 0 with no dst: default */
	unsigned char dst[16];
	int has_gw;
	unsigned char gw[16];
	int oif;		/* 0: none */
	int has_metric;
	uint32_t metric;
	/* Filled by decoding; for nl_route_add, 0 means main/boot/unicast. */
	uint32_t table;
	int protocol, scope, type;
	unsigned flags;		/* rtm_flags */
	int has_prefsrc;
	unsigned char prefsrc[16];
	int has_pref;
	uint8_t pref;
};

/* 0, or -EBADMSG when h is not a well-formed message of its kind. An address
 * or route of a family other than AF_INET and AF_INET6 is -EAFNOSUPPORT. */
int nl_link_decode(const struct nlmsghdr *h, struct nl_link *l);
int nl_addr_decode(const struct nlmsghdr *h, struct nl_addr *a);
int nl_route_decode(const struct nlmsghdr *h, struct nl_route *r);

/* Dumps into a malloc'd array (free it); family AF_UNSPEC for all. Routes
 * of every table come back: filter on table. */
int nl_link_list(struct nl *nl, struct nl_link **out, size_t *n);
int nl_addr_list(struct nl *nl, int family, struct nl_addr **out, size_t *n);
int nl_route_list(struct nl *nl, int family, struct nl_route **out, size_t *n);

/* The index of the link called name (> 0), or -ENODEV. */
int nl_ifindex(struct nl *nl, const char *name);
int nl_link_get(struct nl *nl, int ifindex, struct nl_link *l);

/* Changes to a link, made in one request; fields left at their
 * nl_link_change_init values are not touched. */
struct nl_link_change {
	int up;			/* 1 up, 0 down, -1 keep */
	uint32_t mtu;		/* 0 keep */
	const unsigned char *addr;
	size_t addrlen;
	int master;		/* > 0 attach, 0 detach, -1 keep */
	const char *name;	/* new name, or NULL */
};
void nl_link_change_init(struct nl_link_change *c);
int nl_link_set(struct nl *nl, int ifindex, const struct nl_link_change *c);
/* One call each, for vminit and vmboot. */
int nl_link_up(struct nl *nl, int ifindex);
int nl_link_down(struct nl *nl, int ifindex);
int nl_link_set_mtu(struct nl *nl, int ifindex, uint32_t mtu);
int nl_link_set_master(struct nl *nl, int ifindex, int master);

/* kind: "bridge", "dummy", ...; a veth pair is nl_link_add_veth. */
int nl_link_add(struct nl *nl, const char *name, const char *kind);
int nl_link_add_veth(struct nl *nl, const char *name, const char *peer);
int nl_link_del(struct nl *nl, int ifindex);

/* addr is 4 (AF_INET) or 16 (AF_INET6) bytes. */
int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, int plen);
int nl_addr_del(struct nl *nl, int ifindex, int family, const void *addr, int plen);

/* Uses family, dst_len, dst, has_gw, gw, oif, has_metric, metric, and
 * table (0: main). */
int nl_route_add(struct nl *nl, const struct nl_route *r);
int nl_route_del(struct nl *nl, const struct nl_route *r);
int nl_route_add_default(struct nl *nl, int family, const void *gw, int oif);

/* Taps go through /dev/net/tun, not netlink; these return -1 and errno.
 * nl_tap_open attaches to (or creates, until the fd closes) the tap called
 * name ("" or NULL: the kernel picks tapN), writes its name to ifname when
 * not NULL, and returns the fd: IFF_TAP | IFF_NO_PI, plus IFF_VNET_HDR when
 * vnet_hdr. nl_tap_create makes a persistent tap owned by uid (-1: none). */
int nl_tap_open(const char *name, int vnet_hdr, char ifname[IFNAMSIZ]);
int nl_tap_create(const char *name, long uid);

#endif
