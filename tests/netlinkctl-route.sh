#!/bin/sh
# netlinkctl-route.sh: route add/del (via, dev, metric, default; IPv4 and
# IPv6) checked with ip -j, and netlinkctl -j route show agreeing with it.
if [ -z "$IN_NETNS" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
need ip 'iproute2 is the oracle'
need jq 'to compare JSON'

RF='[.[] | {type, dst, gateway, dev, protocol, scope, prefsrc, metric, flags, pref}]'
agree() {	# description [-6]
	is "$(netlinkctl -j $2 route show | jq -cS "$RF")" "$(ip -j $2 route show | jq -cS "$RF")" "$1"
}
has() {	# description [-6] jq-select: ip shows exactly one such route
	is "$(ip -j $2 route show | jq "[.[] | select($3)] | length")" 1 "$1"
}

ip link set lo up
ip link add b0 type bridge && ip link set b0 up
ip addr add 10.0.0.1/24 dev b0 && ip addr add fd00::1/64 dev b0 nodad
agree 'show -j agrees with ip -j: the prefix route only'
ok 'route add PREFIX via GW' netlinkctl route add 10.1.0.0/16 via 10.0.0.2
has 'ip: 10.1.0.0/16 via 10.0.0.2 dev b0' '' '.dst == "10.1.0.0/16" and .gateway == "10.0.0.2" and .dev == "b0"'
ok 'route add PREFIX dev DEV metric N' netlinkctl route add 10.2.0.0/16 dev b0 metric 7
has 'ip: on-link, scope link, metric 7' '' '.dst == "10.2.0.0/16" and .scope == "link" and .metric == 7 and .gateway == null'
ok 'route add host route' netlinkctl route add 10.3.0.5/32 via 10.0.0.2 dev b0
has 'ip: host route without /32' '' '.dst == "10.3.0.5"'
ok 'route add default via GW' netlinkctl route add default via 10.0.0.254
has 'ip: the default route' '' '.dst == "default" and .gateway == "10.0.0.254"'
agree 'show -j agrees: four routes added'
like "$(netlinkctl route show)" 'default via 10.0.0.254 dev b0' 'text show: the default route'
like "$(netlinkctl route show)" '10.2.0.0/16 dev b0 scope link metric 7' 'text show: on-link route'

ok 'route add IPv6 via' netlinkctl route add fd01::/64 via fd00::2
has 'ip -6: fd01::/64 via fd00::2' -6 '.dst == "fd01::/64" and .gateway == "fd00::2"'
ok 'route add default via IPv6 GW, metric' netlinkctl route add default via fd00::ff metric 10
has 'ip -6: the IPv6 default route' -6 '.dst == "default" and .gateway == "fd00::ff" and .metric == 10'
agree 'show -j -6 agrees' -6

ok 'route del PREFIX via GW' netlinkctl route del 10.1.0.0/16 via 10.0.0.2
is "$(ip -j route show | jq '[.[] | select(.dst == "10.1.0.0/16")] | length')" 0 'ip: it is gone'
ok 'route del default' netlinkctl route del default
is "$(ip -j route show | jq '[.[] | select(.dst == "default")] | length')" 0 'ip: no default route'
ok 'route del with metric' netlinkctl route del 10.2.0.0/16 dev b0 metric 7
ok 'route del IPv6' netlinkctl route del fd01::/64
ok 'route del IPv6 default' netlinkctl -6 route del default
agree 'show -j agrees: after deletions'
agree 'show -j -6 agrees: after deletions' -6
fails 1 'deleting a missing route fails' netlinkctl route del 10.1.0.0/16
done_testing
