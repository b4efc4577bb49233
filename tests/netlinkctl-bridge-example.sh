#!/bin/sh
# netlinkctl-bridge-example.sh: examples/net/bridge-setup.sh sets up a
# bridge with a tap on it, idempotently, inside a network namespace only.
if [ -z "$IN_NETNS" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
need ip 'iproute2 is the oracle'
need jq 'to read ip -j'
S=$TOP/examples/net/bridge-setup.sh
export NETLINKCTL="$BIN/netlinkctl"

ok 'up' sh "$S" up
is "$(ip -d -j link show cz0 | jq -r '.[0].linkinfo.info_kind')" bridge 'ip: cz0 is a bridge'
is "$(ip -j addr show cz0 | jq -r '.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"')" \
	10.88.0.1/24 'ip: cz0 has 10.88.0.1/24'
like "$(ip -j link show cz0 | jq -r '.[0].flags | join(",")')" UP 'ip: cz0 is up'
ok 'up again changes nothing and succeeds' sh "$S" up
is "$(ip -j -4 addr show cz0 | jq '.[0].addr_info | length')" 1 'ip: still one address'
if [ -c /dev/net/tun ]; then
	ok 'tap' sh "$S" tap cztap0 cz0 nobody
	is "$(ip -j link show cztap0 | jq -r '.[0].master')" cz0 'ip: the tap is on cz0'
fi
like "$(sh "$S" nat cz0 eth0)" 'iifname "cz0" oifname "eth0" masquerade' 'nat prints the nft rules'
ok 'up with another bridge and subnet' sh "$S" up czb1 10.89.0.1/16
is "$(ip -j -4 addr show czb1 | jq -r '.[0].addr_info[0].prefixlen')" 16 'ip: czb1 has a /16'
ok 'down' sh "$S" down cz0
fails 1 'ip: cz0 is gone' ip link show cz0
done_testing
