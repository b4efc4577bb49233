#!/bin/sh
# bridge-setup.sh: a host bridge for cz VMs, made with netlinkctl only.
# Each VM gets a tap on the bridge and its own address on the bridge's
# subnet, so no port forwarding is needed.
#
#   bridge-setup.sh up [BRIDGE [ADDR/PLEN]]   bridge (default cz0, 10.88.0.1/24), up
#   bridge-setup.sh tap NAME [BRIDGE [USER]]  a persistent tap on the bridge, up
#   bridge-setup.sh down [BRIDGE]             delete the bridge (its taps stay)
#   bridge-setup.sh nat [BRIDGE [OUTIF]]      print nft rules for egress NAT
#
# With the bridge up, vmboot makes each VM's tap itself and leases it the
# next free address of the bridge's subnet (state in /run/cz/ipam/BRIDGE-NET-PLEN);
# the tap goes when the VM ends, even after kill -9:
#   bridge-setup.sh up cz0 10.88.0.1/24
#   vmboot -k vmlinux -d rootfs.ext4 --spec config.json --net bridge=cz0
#   vmboot ... --net bridge=cz0,ip=10.88.0.10/24,dns=192.0.2.53  # fixed address
# The guest's gateway is the bridge's address; its nameservers are the
# host's (loopback ones left out) unless dns= is given. `tap` below is for
# running a VM as a user: a persistent tap the user may open
# (vmboot --net tap=NAME), with its address set up in the guest by hand.
#
# Set NETLINKCTL to the binary, and NETNS to work in a named namespace
# (ip netns add NAME) instead of the host: try it there first.
#
# Egress NAT is not applied by this script: it changes the host's
# firewall and forwarding. To let the VMs reach the outside, as root:
#   sysctl -w net.ipv4.ip_forward=1
#   bridge-setup.sh nat cz0 eth0 | nft -f -
# and undo it with `nft delete table ip cz-nat`.
set -eu
NLC=${NETLINKCTL:-netlinkctl}
[ -n "${NETNS:-}" ] && NLC="$NLC -n $NETNS"

exists() { $NLC link show "$1" >/dev/null 2>&1; }
has_addr() { $NLC -j addr show "$1" | grep -q "\"local\":\"${2%/*}\",\"prefixlen\":${2#*/}[,}]"; }

cmd=${1:-up}
[ $# -gt 0 ] && shift
case $cmd in
up)
	br=${1:-cz0} addr=${2:-10.88.0.1/24}
	exists "$br" || $NLC link add "$br" type bridge
	has_addr "$br" "$addr" || $NLC addr add "$addr" dev "$br"
	$NLC link set "$br" up
	;;
tap)
	[ $# -ge 1 ] || { echo "usage: $0 tap NAME [BRIDGE [USER]]" >&2; exit 2; }
	tap=$1 br=${2:-cz0}
	if [ -n "${3:-}" ]; then
		$NLC link add "$tap" type tap user "$3"
	else
		$NLC link add "$tap" type tap
	fi
	$NLC link set "$tap" master "$br" up
	;;
down)
	br=${1:-cz0}
	! exists "$br" || $NLC link del "$br"
	;;
nat)
	br=${1:-cz0} out=${2:-eth0}
	cat <<NFT
table ip cz-nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		iifname "$br" oifname "$out" masquerade
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "$br" oifname "$out" accept
		iifname "$out" oifname "$br" ct state established,related accept
	}
}
NFT
	;;
*)
	echo "usage: $0 up|tap|down|nat ..." >&2
	exit 2
	;;
esac
