/* guestnet.h: the guest's network as vminit configures it, after READY and
 * before the container is created: eth link up, address, default route
 * (OP_NET_LINK, OP_NET_ADDR, OP_NET_ROUTE), and the container's
 * resolv.conf and hosts (A_RESOLV_CONF, A_HOSTS of OP_CTR_CREATE); the
 * guest's eth0 has the MAC mac (virtio-net's config space).
 * Filled by whoever sets up the host side (--net bridge=..., netbridge.c);
 * vm->guest_net is NULL when the guest gets no configuration. */
#ifndef VMBOOT_GUESTNET_H
#define VMBOOT_GUESTNET_H

#include <stddef.h>

struct guest_net {
	char ifname[16];	/* "eth0" */
	char addr[64];		/* "10.0.0.2/24" */
	char gw[64];		/* "" for no default route */
	char dns[4][64];	/* nameservers */
	int ndns;
	char hosts[1024];	/* --add-host entries, "ADDR\tNAME\n" lines */
	char mac[18];		/* "52:54:00:12:34:56", "" to keep the device's */
};

/* The container's /etc/hosts: localhost, hostname (NULL: none) on the
 * guest's address, then g->hosts. 0, or -1 when it does not fit in len.
 * In netbridge.c. */
int guest_net_hosts(const struct guest_net *g, const char *hostname,
    char *buf, size_t len);

#endif
