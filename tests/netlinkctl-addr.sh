#!/bin/sh
# netlinkctl-addr.sh: addr add/del for IPv4 and IPv6 checked with ip -j,
# and netlinkctl -j addr show agreeing with ip -j addr show.
if [ -z "$IN_NETNS" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
need ip 'iproute2 is the oracle'
need jq 'to compare JSON'

AF='[.[] | {ifindex, ifname, mtu, flags, operstate, addr_info: [.addr_info[] | {family, local, address, prefixlen, broadcast, scope, "label": .label, nodad, dynamic, secondary, valid_life_time, preferred_life_time}]}]'
agree() {	# description [-4|-6|-] [DEV]
	o=${2:--}; [ "$o" = - ] && o=
	is "$(netlinkctl -j $o addr show $3 | jq -cS "$AF")" "$(ip -j $o addr show $3 | jq -cS "$AF")" "$1"
}
addrs() {	# DEV: "local/plen ..." as ip sees them, link-local ones aside
	ip -j addr show dev "$1" |
		jq -r '[.[0].addr_info[] | select(.scope != "link") | "\(.local)/\(.prefixlen)"] | join(" ")'
}

ip link add b0 type bridge && ip link set b0 up && ip link set lo up
agree 'show -j agrees with ip -j: no addresses yet'
ok 'addr add 10.0.0.1/24' netlinkctl addr add 10.0.0.1/24 dev b0
ok 'addr add IPv6' netlinkctl addr add fd00::1/64 dev b0
ok 'addr add without a length is a host address' netlinkctl address add 10.0.1.5 dev b0
is "$(addrs b0)" "10.0.0.1/24 10.0.1.5/32 fd00::1/64" 'ip sees the three addresses'
is "$(ip -j addr show dev b0 | jq -r '.[0].addr_info[0].scope')" global 'ip: scope global'
ok 'addr add 127.0.0.2/8 on lo' netlinkctl addr add 127.0.0.2/8 dev lo
is "$(ip -j -4 addr show dev lo | jq -r '.[0].addr_info[1] | "\(.local) \(.scope)"')" '127.0.0.2 host' \
	'ip: a loopback address gets host scope'
agree 'show -j agrees: all families'
agree 'show -j agrees: -4' -4
agree 'show -j agrees: -6' -6
agree 'show -j DEV agrees' - b0
is "$(netlinkctl -j addr show b0 | jq -r '.[0].addr_info[0] | "\(.family) \(.local) \(.prefixlen)"')" \
	'inet 10.0.0.1 24' 'show -j: family, local, prefixlen'
like "$(netlinkctl addr show b0)" 'inet 10.0.0.1/24 scope global b0' 'text show: the IPv4 address'
like "$(netlinkctl addr show b0)" 'inet6 fd00::1/64 scope global' 'text show: the IPv6 address'

ok 'addr del 10.0.0.1/24' netlinkctl addr del 10.0.0.1/24 dev b0
ok 'addr del IPv6' netlinkctl addr delete fd00::1/64 dev b0
ok 'addr del host address' netlinkctl addr del 10.0.1.5/32 dev b0
is "$(ip -j -4 addr show dev b0 | jq -r 'length')" 0 'ip: no IPv4 address left on b0'
is "$(ip -j addr show dev b0 | jq -r '[.[0].addr_info[] | select(.local == "fd00::1")] | length')" 0 \
	'ip: the IPv6 address is gone'
fails 1 'deleting it again fails' netlinkctl addr del 10.0.0.1/24 dev b0
ok 'addr add again' netlinkctl addr add 10.0.0.1/24 dev b0
# The kernel's extended ack, word for word as ip prints it.
why=$(ip addr add 10.0.0.1/24 dev b0 2>&1 | sed 's/^Error: //; s/\.$//')
err=$(netlinkctl addr add 10.0.0.1/24 dev b0 2>&1); st=$?
is "$st: $err" "1: netlinkctl: addr add 10.0.0.1/24 dev b0: $why" 'a duplicate address: exit 1, the kernel says why'
agree 'show -j agrees: after deletions'
done_testing
