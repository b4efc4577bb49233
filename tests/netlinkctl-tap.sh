#!/bin/sh
# netlinkctl-tap.sh: link add NAME type tap [user U] makes a persistent tap
# through /dev/net/tun that ip sees as such, ready for a bridge.
if [ -z "$IN_NETNS" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
need ip 'iproute2 is the oracle'
need jq 'to read ip -j'
[ -c /dev/net/tun ] || skip_all 'no /dev/net/tun'

info() { ip -d -j link show "$1" | jq -r ".[0].linkinfo | $2"; }

ok 'link add tap0 type tap' netlinkctl link add tap0 type tap
is "$(info tap0 '"\(.info_kind) \(.info_data.type) \(.info_data.persist) \(.info_data.pi)"')" \
	'tun tap true false' 'ip: a persistent tap without packet info'
ok 'link add tap1 type tap user nobody' netlinkctl link add tap1 type tap user nobody
is "$(info tap1 .info_data.user)" nobody 'ip: owned by nobody'
ok 'tap owner by number' netlinkctl link add tap2 type tap user 4242
is "$(info tap2 .info_data.user)" 4242 'ip: owned by uid 4242'
fails 1 'an existing name is refused' netlinkctl link add tap0 type tap
fails 2 'an unknown user is a usage error' netlinkctl link add tap3 type tap user no-such-user-here
ok 'bridge for it' netlinkctl link add br0 type bridge
ok 'attach and bring up in one call' netlinkctl link set tap1 master br0 up
is "$(ip -j link show tap1 | jq -r '.[0].master')" br0 'ip: tap1 is on br0'
like "$(ip -j link show tap1 | jq -r '.[0].flags | join(",")')" UP 'ip: tap1 is up'
ok 'link del tap1' netlinkctl link del tap1
ok 'link del tap0' netlinkctl link del tap0
is "$(ip -j link show | jq -r '[.[].ifname] | sort | join(" ")')" 'br0 lo tap2' 'ip: the taps are gone'
done_testing
