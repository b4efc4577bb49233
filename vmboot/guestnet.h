/* guestnet.h: the guest's network as vminit configures it, after READY and
 * before the container is created: eth link up, address, default route
 * (OP_NET_LINK, OP_NET_ADDR, OP_NET_ROUTE), and the container's
 * resolv.conf and hosts (A_RESOLV_CONF, A_HOSTS of OP_CTR_CREATE).
 * Filled by whoever sets up the host side (--net bridge=..., netbridge.c);
 * vm->guest_net is NULL when the guest gets no configuration. */
#ifndef VMBOOT_GUESTNET_H
#define VMBOOT_GUESTNET_H

struct guest_net {
	char ifname[16];	/* "eth0" */
	char addr[64];		/* "10.0.0.2/24" */
	char gw[64];		/* "" for no default route */
	char dns[4][64];	/* nameservers */
	int ndns;
	char hosts[1024];	/* the container's /etc/hosts, "" for none */
	char mac[18];		/* "52:54:00:12:34:56", "" to keep the device's */
};

#endif
