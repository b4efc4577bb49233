#!/bin/sh
# Network operations: link up and MTU, addresses, routes, through
# rtnetlink in vminit's own network namespace (a new one here, with a
# veth standing in for eth0), judged by iproute2; and DNS and hosts
# files written inside a container.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"
need ip 'iproute2 judges the result'
need jq 'reading ip -j'
need python3 'vop speaks the protocol'

VMINIT_WRAP=-n vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
inns() { nsenter -t "$VMINIT_PID" -n "$@"; }
ok 'a veth eth0 in vminit network namespace' inns ip link add eth0 type veth peer name peer0
ok 'its peer up' inns ip link set peer0 up

ok 'NET_LINK up, mtu 1400' vop OP_NET_LINK A_IFNAME=eth0 A_UP A_MTU=u32:1400
is "$(inns ip -j link show eth0 | jq -r '.[0] | "\(.mtu) \(.flags | index("UP") != null)"')" \
	'1400 true' 'eth0 is up with mtu 1400'
ok 'NET_LINK lo up' vop OP_NET_LINK A_IFNAME=lo A_UP
ok 'NET_ADDR v4 and v6' vop OP_NET_ADDR A_IFNAME=eth0 A_ADDR=10.0.2.15/24 A_ADDR=fd00::15/64
is "$(inns ip -j addr show eth0 | jq -r '[.[0].addr_info[] | select(.scope == "global") | "\(.local)/\(.prefixlen)"] | sort | join(" ")')" \
	'10.0.2.15/24 fd00::15/64' 'both addresses on eth0'
ok 'NET_ADDR again: already there is fine' vop OP_NET_ADDR A_IFNAME=eth0 A_ADDR=10.0.2.15/24
ok 'NET_ROUTE default via a gateway' vop OP_NET_ROUTE A_GATEWAY=10.0.2.2
is "$(inns ip -j route show default | jq -r '.[0] | "\(.gateway) \(.dev)"')" '10.0.2.2 eth0' \
	'the default route, found by the kernel on eth0'
ok 'NET_ROUTE to a prefix on a device' vop OP_NET_ROUTE A_ADDR=192.168.7.0/24 A_IFNAME=eth0
is "$(inns ip -j route show 192.168.7.0/24 | jq -r '.[0].dev')" eth0 'the prefix route'
ok 'NET_ROUTE v6 default' vop OP_NET_ROUTE A_GATEWAY=fd00::1 A_IFNAME=eth0
is "$(inns ip -j -6 route show default | jq -r '.[0].gateway')" fd00::1 'the v6 default route'

like "$(vop OP_NET_LINK A_IFNAME=nosuch A_UP)" 'error 19 link nosuch: No such device' 'a missing link: ENODEV, named'
like "$(vop OP_NET_ADDR A_IFNAME=eth0 A_ADDR=10.0.2.300/24)" 'error 22 address 10.0.2.300/24: bad address' 'a bad address'
like "$(vop OP_NET_ADDR A_IFNAME=eth0 A_ADDR=10.0.2.1/33)" 'error 22' 'a prefix too long'
like "$(vop OP_NET_ROUTE)" 'error 22 route: needs a gateway or an interface' 'a route with nothing'
like "$(vop OP_NET_ROUTE A_GATEWAY=172.31.9.9)" 'error 101' 'an unreachable gateway: ENETUNREACH from the kernel'
like "$(vop OP_NET_ADDR A_ADDR=10.0.0.1/8)" 'error 22 address: no interface named' 'no interface'

# DNS and hosts: the machine's files (host mode: vminit's /etc is ours,
# so only inside a container), and a container's.
C=ctr-$$-n
ctr_up $C || { echo 'Bail out! container did not start'; exit 1; }
ok 'DNS in the container' vop OP_DNS A_CTR=$C A_NAMESERVER=10.0.2.3 A_NAMESERVER=fd00::3 A_SEARCH=example.org
is "$(vx -c $C -n -- cat /etc/resolv.conf)" 'nameserver 10.0.2.3
nameserver fd00::3
search example.org' 'resolv.conf as written'
ok 'HOSTS in the container' vop OP_HOSTS A_CTR=$C 'A_CONTENT=127.0.0.1 localhost
10.0.2.15 box
'
is "$(vx -c $C -n -- cat /etc/hosts)" '127.0.0.1 localhost
10.0.2.15 box' 'hosts as written'
like "$(vop OP_DNS A_CTR=$C 'A_NAMESERVER=1.1.1.1
nameserver 6.6.6.6')" ok 'a nameserver with a newline is dropped'
is "$(vx -c $C -n -- cat /etc/resolv.conf)" '' 'so no line was injected'
is "$(vx -c $C -n -- cat /sys/class/net/eth0/mtu)" 1400 \
	'the container shares the machine network namespace'

# Files at create (vmboot --net bridge= sends both): bound over the
# image's; a read-only rootfs without them goes without, and runs.
R=ctr-$$-ro
# A device of its own: one mounted read-write cannot be mounted read-only.
truncate -s 16M "$T/ro.ext4" && mke2fs -q -t ext4 -d "$T/rootfs" "$T/ro.ext4" &&
	RO_LOOP=$(losetup -f --show -r "$T/ro.ext4") || { echo 'Bail out! ro image'; exit 1; }
at_exit "losetup -d $RO_LOOP"
ok 'create read-only with hosts and resolv.conf the rootfs lacks' \
	vop OP_CTR_CREATE A_CTR=$R A_ROOTFS=$RO_LOOP A_READONLY \
	'A_HOSTS=127.0.0.1 localhost
' 'A_RESOLV_CONF=nameserver 10.0.2.3
'
is "$(vx -c $R -n -- sh -c 'ls /etc/hosts /etc/resolv.conf 2>&1; echo ran')" \
	'ls: /etc/hosts: No such file or directory
ls: /etc/resolv.conf: No such file or directory
ran' 'its process runs, without the files'
W=ctr-$$-rw
ok 'create read-write with hosts' vop OP_CTR_CREATE A_CTR=$W A_ROOTFS=$LOOP \
	'A_HOSTS=127.0.0.1 localhost
10.0.2.15 w
'
is "$(vx -c $W -n -- cat /etc/hosts)" '127.0.0.1 localhost
10.0.2.15 w' 'read-write: the file is made and bound over'
done_testing
