#!/bin/sh
# netlinkctl-errors.sh: failures say what was asked and the kernel's own
# reason (its extended ack), exit 1; grammar errors exit 2.
if [ -z "$IN_NETNS" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
need ip 'iproute2 is the oracle'

err() {	# want-status want-stderr description command...
	st=$1 want=$2 d=$3; shift 3
	got=$("$@" 2>&1 >/dev/null); s=$?
	is "$s: $got" "$st: $want" "$d"
}
# What ip prints for the same request, without its "Error: " and final dot.
ipwhy() { ip "$@" 2>&1 | sed 's/^Error: //; s/\.$//'; }

ip link set lo up
err 1 'netlinkctl: addr add 10.0.0.1/24 dev eth9: no such device' 'no such device' \
	netlinkctl addr add 10.0.0.1/24 dev eth9
err 1 'netlinkctl: link show eth9: no such device' 'show of a missing device' netlinkctl link show eth9
err 1 'netlinkctl: link del eth9: no such device' 'del of a missing device' netlinkctl link del eth9
why=$(ipwhy route add 10.9.0.1/16 dev lo)
like "$why" 'prefix' 'ip gets an extended ack for a prefix with host bits'
err 1 "netlinkctl: route add 10.9.0.1/16 dev lo: $why" 'the same ext ack from netlinkctl' \
	netlinkctl route add 10.9.0.1/16 dev lo
why=$(ipwhy route add 10.8.0.0/16 via 10.99.0.1)
err 1 "netlinkctl: route add 10.8.0.0/16 via 10.99.0.1: $why" 'unreachable gateway: ext ack' \
	netlinkctl route add 10.8.0.0/16 via 10.99.0.1
why=$(ipwhy link add x0 type nosuchkind)
err 1 "netlinkctl: link add x0 type nosuchkind: $why" 'unknown link kind: ext ack' \
	netlinkctl link add x0 type nosuchkind
ok 'link add br0' netlinkctl link add br0 type bridge
err 1 'netlinkctl: link add br0 type bridge: File exists' 'an existing link: strerror' \
	netlinkctl link add br0 type bridge
err 1 "netlinkctl: link set br0 mtu 50: $(ipwhy link set br0 mtu 50)" 'mtu too small: ext ack' \
	netlinkctl link set br0 mtu 50

for args in '' 'frob' 'link frob' 'link set lo' 'link set lo mtu' 'link set lo mtu x' \
	'link set lo address zz' 'link set lo bogus' 'link add x0 type veth' \
	'link add x0 type veth peer' 'link add x0' 'link add 0123456789abcdef type bridge' \
	'addr add 10.0.0.1/24' 'addr add 10.0.0.1/33 dev lo' 'addr add nonsense dev lo' \
	'addr frob' 'route add' 'route add 10.0.0.0/8 via' 'route add 10.0.0.0/8 via fd00::1' \
	'route add 10.0.0.0/8 metric x' 'route add 10.0.0.0/8 bogus 1' 'route show extra' \
	'-Z link show' '-n'; do
	fails 2 "usage error: '$args'" netlinkctl $args
done
like "$(netlinkctl link frob 2>&1)" 'usage: netlinkctl' 'a usage error shows the usage'
out=$(netlinkctl --help); st=$?
like "$st $out" '0 usage: netlinkctl [-j]' '--help: usage on stdout, exit 0'
like "$(netlinkctl --version)" 'netlinkctl ' '--version'
# The man page's synopsis lines are the usage's lines.
if [ -f "$TOP/man/netlinkctl.8" ]; then
	for cmd in 'link show' 'link set' 'link add' 'link del' 'addr show' 'addr add' 'route show' 'route add'; do
		like "$(sed -n 's/\\f[BRI]//g; s/^\.B //; /^netlinkctl /p' "$TOP/man/netlinkctl.8")" \
			"$cmd" "man page synopsis has $cmd"
	done
fi
fails 1 'a missing named netns fails' netlinkctl -n czt-none-$$ link show
done_testing
