#!/bin/sh
# netlinkctl-netns.sh: -n NETNS acts inside /run/netns/NETNS and nowhere
# else. Makes its own named namespace and deletes it at exit.
. "$(dirname "$0")/lib/tap.sh"
need ip 'iproute2 is the oracle'
need jq 'to compare JSON'
NS=czt-$$
ip netns add "$NS" 2>/dev/null || skip_all 'ip netns add needs root'
at_exit "ip netns del $NS"

ok 'link add in the netns' netlinkctl -n "$NS" link add czbr$$ type bridge
is "$(ip -n "$NS" -j link show czbr$$ | jq -r '.[0].ifname')" czbr$$ 'ip -n sees it there'
fails 1 'and not here' ip link show czbr$$
ok 'link set up' netlinkctl --netns "$NS" link set czbr$$ up
ok 'addr add' netlinkctl -n "$NS" addr add 10.77.0.1/24 dev czbr$$
ok 'route add' netlinkctl -n "$NS" route add 10.78.0.0/16 via 10.77.0.2
LF='[.[] | {ifindex, ifname, mtu, address, operstate, flags, master}]'
is "$(netlinkctl -n "$NS" -j link show | jq -cS "$LF")" "$(ip -n "$NS" -j link show | jq -cS "$LF")" \
	'link show -j agrees with ip -n'
AF='[.[] | {ifname, addr_info: [.addr_info[] | {family, local, prefixlen}]}]'
is "$(netlinkctl -n "$NS" -j addr show | jq -cS "$AF")" "$(ip -n "$NS" -j addr show | jq -cS "$AF")" \
	'addr show -j agrees with ip -n'
RF='[.[] | {dst, gateway, dev, metric}]'
is "$(netlinkctl -n "$NS" -j route show | jq -cS "$RF")" "$(ip -n "$NS" -j route show | jq -cS "$RF")" \
	'route show -j agrees with ip -n'
is "$(ip -n "$NS" -j route show | jq -r '.[] | select(.dst == "10.78.0.0/16") | .gateway')" 10.77.0.2 \
	'ip -n: the route is there'
fails 1 'a path to something else is refused' netlinkctl -n /dev/null link show
done_testing
