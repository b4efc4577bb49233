#!/bin/sh
# netlinkctl-link.sh: link add/set/del, each effect checked with ip -j, and
# netlinkctl -j link show agreeing with ip -j link show on the same state.
# Runs in its own network namespace.
if [ -z "$IN_NETNS" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
need ip 'iproute2 is the oracle'
need jq 'to compare JSON'

# The fields both tools print, key order aside.
LF='[.[] | {ifindex, ifname, mtu, address, broadcast, operstate, flags, master, link, txqlen, link_type}]'
agree() {
	is "$(netlinkctl -j link show $2 | jq -cS "$LF")" "$(ip -j link show $2 | jq -cS "$LF")" "$1"
}
ipl() {	# DEV jq-expression: a field of ip's view of DEV
	ip -d -j link show "$1" 2>/dev/null | jq -r ".[0] | $2"
}

agree 'show -j agrees with ip -j: lo only'
ok 'link add br0 type bridge' netlinkctl link add br0 type bridge
is "$(ipl br0 .linkinfo.info_kind)" bridge 'ip sees a bridge br0'
ok 'link add v0 type veth peer v1' netlinkctl link add v0 type veth peer v1
is "$(ipl v0 .linkinfo.info_kind) $(ipl v1 .linkinfo.info_kind)" 'veth veth' 'ip sees the veth pair'
is "$(ipl v0 .link)" v1 'v0 is paired with v1'
agree 'show -j agrees: bridge and veth, down'

ok 'link set v0 master br0' netlinkctl link set v0 master br0
is "$(ipl v0 .master)" br0 'ip: v0 master br0'
ok 'link set br0 up' netlinkctl link set br0 up
like "$(ipl br0 '.flags | join(",")')" UP 'ip: br0 is UP'
ok 'link set v0 mtu 1400' netlinkctl link set v0 mtu 1400
is "$(ipl v0 .mtu)" 1400 'ip: v0 mtu 1400'
ok 'link set v0 address' netlinkctl link set v0 address 02:11:22:33:44:55
is "$(ipl v0 .address)" 02:11:22:33:44:55 'ip: v0 address'
agree 'show -j agrees: enslaved, up, mtu, address'
agree 'show -j DEV agrees with ip -j link show DEV' br0
is "$(netlinkctl -j link show v0 | jq length)" 1 'show DEV: one link'
like "$(netlinkctl link show v0)" 'v0@v1: <' 'text show: name@peer and flags'
like "$(netlinkctl link show v0)" 'master br0' 'text show: master'

ok 'link set v0 nomaster' netlinkctl link set v0 nomaster
is "$(ipl v0 .master)" null 'ip: v0 has no master'
ok 'link set br0 down' netlinkctl link set br0 down
like ",$(ipl br0 '.flags | join(",")')," ',BROADCAST,MULTICAST,' 'ip: br0 flags without UP'
case ",$(ipl br0 '.flags | join(",")')," in *,UP,*) r=1 ;; *) r=0 ;; esac
is $r 0 'ip: br0 is not UP'
ok 'link set v1 name eth1' netlinkctl link set v1 name eth1
is "$(ipl eth1 .ifname)" eth1 'ip: v1 is now eth1'
is "$(ipl v0 .link)" eth1 'ip: v0 peer renamed'
ok 'several changes in one request' netlinkctl link set dev v0 mtu 1300 master br0 up
is "$(ipl v0 '"\(.mtu) \(.master)"')" '1300 br0' 'ip: all of them applied'
like "$(ipl v0 '.flags | join(",")')" UP 'ip: v0 up'
agree 'show -j agrees: after renames and changes'

ok 'link del v0' netlinkctl link del v0
is "$(ip -j link show | jq -r '[.[].ifname] | sort | join(" ")')" 'br0 lo' 'ip: v0 and its peer are gone'
ok 'link del br0' netlinkctl link del br0
agree 'show -j agrees: back to lo'
done_testing
