#!/bin/sh
# netlinkctl-valgrind.sh: the plain (unsanitized) build under valgrind:
# no invalid access, no leak, on every command and on failures.
if [ -z "$IN_NETNS" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
need valgrind 'the point of this test'
# ASan builds cannot run under valgrind: use (or make) build/bin's.
NLC=$TOP/build/bin/netlinkctl
if [ ! -x "$NLC" ] || [ "$NLC" -ot "$TOP/lib/netlink.c" ]; then
	make -s -C "$TOP" SAN=0 BUILD=build build/bin/netlinkctl >&2 ||
		{ echo "Bail out! build failed"; exit 1; }
fi
vg() {	# expected-status description args...
	st=$1 d=$2; shift 2
	out=$(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		"$NLC" "$@" 2>&1 >/dev/null); s=$?
	is "$s" "$st" "valgrind: $d"
	[ "$s" = "$st" ] || diag "$out"
}
vg 0 'link add bridge' link add br0 type bridge
vg 0 'link add veth' link add v0 type veth peer v1
vg 0 'link set' link set v0 master br0 mtu 1400 address 02:00:00:00:00:09 up
vg 0 'link set up' link set br0 up
vg 0 'addr add' addr add 10.0.0.1/24 dev br0
vg 0 'addr add IPv6' addr add fd00::1/64 dev br0
vg 0 'route add' route add 10.1.0.0/16 via 10.0.0.2 metric 3
vg 0 'link show' link show
vg 0 'link show -j' -j link show
vg 0 'addr show -j' -j addr show
vg 0 'addr show text' addr show
vg 0 'route show -j' -j route show
vg 0 'route show -6' -6 route show
vg 1 'ext ack failure' route add 10.9.0.1/16 dev br0
vg 1 'no such device' addr add 10.0.0.1/24 dev eth9
vg 2 'usage error' link set br0 mtu x
vg 0 'link del' link del v0
done_testing
