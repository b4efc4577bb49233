/* netbridge.h: --net bridge=BR[,ip=ADDR/PLEN][,gw=GW][,mac=MAC][,dns=IP]...
 * and --add-host NAME:ADDR.
 * A tap of the VM's own (non-persistent: it goes with vmboot's last fd of
 * it, also after SIGKILL), named cz<pid>-<n>, attached to bridge BR and up;
 * the guest's address (given, or leased by ipam.c from BR's subnet), gateway
 * (default: BR's address), MAC, nameservers and hosts entries go to
 * virtio-net and vminit through vm->guest_net.
 *
 * Set up in three steps, as devices: netbridge (before virtio-net) checks the
 * bridge and fills vm->guest_net; virtio-net creates the tap by name
 * (cfg->tap); netbridge-tap (after it) attaches the tap and brings it up. */
#ifndef VMBOOT_NETBRIDGE_H
#define VMBOOT_NETBRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "guestnet.h"

#define NETBRIDGE_MAX_DNS 4
#define RESOLV_CONF "/etc/resolv.conf"

struct netbridge_opt {
	char bridge[IFNAMSIZ];
	int has_ip, plen;
	uint32_t ip;		/* host byte order */
	int has_gw;
	char gw[64];
	int has_mac;
	unsigned char mac[6];
	int ndns;
	char dns[NETBRIDGE_MAX_DNS][64];
};

/* Parses the text after "bridge=". 0, or -1 with the reason in err. */
int netbridge_parse(const char *s, struct netbridge_opt *o, char *err,
    size_t errlen);
/* The nameservers in resolv.conf text, loopback ones left out (they mean
 * nothing inside the guest): how many were put in dns. */
int netbridge_resolv(const char *text, char dns[][64], int max);

/* For vmboot's option parsing: records the option and returns the name of
 * the tap virtio-net is to create, or NULL after a warning. */
const char *netbridge_option(const char *arg);
/* --add-host NAME:ADDR, for the container's /etc/hosts: 0, or -1 after a
 * warning. */
int netbridge_add_host(const char *arg);
/* After option parsing: 0, or -1 after a warning when --add-host came
 * without --net bridge= and --spec (it would go nowhere). */
int netbridge_options_done(int spec);

#endif
