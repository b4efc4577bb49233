#!/bin/sh
# vmnet-tap.sh: vmboot --net bridge=BR gives the VM a tap of its own on BR,
# up, with the guest's address, gateway, MAC and nameservers worked out;
# the tap is gone when vmboot ends, by a signal or by kill -9, and so is
# its address lease. In a network namespace of its own; the guest never
# needs to run (--no-probe: devices are set up before the vCPUs).
if [ -z "${IN_NETNS:-}" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
need ip 'iproute2 is the oracle'
need jq 'to read ip -j'
[ -c /dev/net/tun ] || skip_all 'no /dev/net/tun'
[ -c /dev/kvm ] || skip_all 'no /dev/kvm'
K=$(ls "$CZ_CACHE"/kernel/*/vmlinux 2>/dev/null | head -1)
[ -n "$K" ] || skip_all 'no cached guest kernel (make kernel)'
export CZ_IPAM_DIR=$T/ipam
st=$T/ipam/czbr-10.68.0.0-24

netlinkctl link add czbr type bridge && netlinkctl addr add 10.68.0.1/24 dev czbr &&
	netlinkctl link set czbr up || { echo 'Bail out! bridge setup failed'; exit 1; }

taps() { ip -j link show | jq -r '[.[].ifname | select(startswith("cz") and . != "czbr")] | join(" ")'; }
# Starts vmboot with more options, waits for its tap: sets $vm, and $err
# to its stderr.
nvm=0
start() {
	nvm=$((nvm + 1)) err=$T/vm.$nvm.err
	CZ_DEBUG=1 vmboot --no-probe -k "$K" --console none "$@" >/dev/null 2>"$err" &
	vm=$!
	at_exit "kill -9 $vm"
	n=0
	while [ $n -lt 100 ] && ! grep -q 'devices set up' "$err" 2>/dev/null; do
		kill -0 $vm 2>/dev/null || break
		sleep 0.1; n=$((n + 1))
	done
}
gone() {	# waits up to 5 s for the tap $1 to go
	n=0
	while [ $n -lt 50 ] && ip link show "$1" >/dev/null 2>&1; do sleep 0.1; n=$((n + 1)); done
	! ip link show "$1" >/dev/null 2>&1
}

start --net bridge=czbr
tap=cz$vm-0
is "$(taps)" "$tap" "vmboot made its tap $tap"
is "$(ip -j link show "$tap" | jq -r '.[0].master')" czbr 'the tap is on the bridge'
like "$(ip -j link show "$tap" | jq -r '.[0].flags | join(",")')" UP 'the tap is up'
is "$(ip -d -j link show "$tap" | jq -r '.[0].linkinfo.info_data | "\(.type) \(.persist) \(.vnet_hdr)"')" \
	'tap false true' 'a non-persistent tap with a vnet header'
like "$(cat "$err")" "tap $tap, guest 10.68.0.2/24 gw 10.68.0.1 mac " \
	'guest address from the bridge subnet, gateway the bridge'
mac=$(sed -n 's/.* mac \([0-9a-f:]*\).*/\1/p' "$err")
case $mac in ?[26ae]:??:??:??:??:??) r=0 ;; *) r=1 ;; esac
is "$r" 0 "a random locally administered unicast MAC ($mac)"
ok 'the lease is recorded' grep -q "^10.68.0.2 $vm " "$st"
kill -TERM $vm; wait $vm
ok 'after SIGTERM the tap is gone' gone "$tap"
ok 'and the lease is given back: no state file is left' test ! -e "$st"

start --net bridge=czbr,ip=10.68.0.77/24,gw=10.68.0.254,mac=02:00:00:aa:bb:cc,dns=192.0.2.53
tap=cz$vm-0
like "$(cat "$err")" "guest 10.68.0.77/24 gw 10.68.0.254 mac 02:00:00:aa:bb:cc" \
	'ip=, gw= and mac= are used as given'
ok 'ip= is recorded so the allocator skips it' grep -q "^10.68.0.77 $vm " "$st"
is "$(ip -j link show "$tap" | jq -r '.[0].master')" czbr 'that tap is on the bridge too'
kill -9 $vm; wait $vm 2>/dev/null
ok 'after kill -9 the tap is gone' gone "$tap"
is "$(taps)" '' 'no tap is left behind'

start --net bridge=czbr
v1=$vm t1=cz$vm-0
start --net bridge=czbr
v2=$vm t2=cz$vm-0
is "$(ip -j link show master czbr | jq -r '[.[].ifname] | sort | join(" ")')" \
	"$(printf '%s\n' "$t1" "$t2" | sort | tr '\n' ' ' | sed 's/ $//')" 'two VMs, two taps on the bridge'
ok 'the killed VM'"'"'s address went to the first new one' grep -q "^10.68.0.2 $v1 " "$st"
ok 'and the second got the next one' grep -q "^10.68.0.3 $v2 " "$st"
kill -9 $v1 $v2; wait $v1 $v2 2>/dev/null
ok 'both taps gone after kill -9' sh -c "! ip link show $t1 2>/dev/null && ! ip link show $t2 2>/dev/null"

vmboot --no-probe -k "$K" --console none --net bridge=nosuch >/dev/null 2>"$T/e1"
is $? 1 'a missing bridge fails (exit 1)'
like "$(cat "$T/e1")" 'bridge=nosuch: No such device' '... naming it'
netlinkctl link add nobr type tap
vmboot --no-probe -k "$K" --console none --net bridge=nobr >/dev/null 2>"$T/e2"
like "$(cat "$T/e2")" 'bridge=nobr: not a bridge' 'a link that is no bridge is refused'
vmboot --no-probe -k "$K" --console none --net bridge=czbr,ip=10.68.0.1 >/dev/null 2>"$T/e3"
like "$(cat "$T/e3")" "ip=10.68.0.1 is the bridge's own" "ip= of the bridge's own address is refused"
vmboot --no-probe -k "$K" --console none --net bridge=czbr,ip=10.68.0.255 >/dev/null 2>"$T/e4"
like "$(cat "$T/e4")" 'network or broadcast address' 'ip= of the broadcast address is refused'
is "$(taps)" '' 'failed starts leave no tap'
fails 2 '--net bridge= twice is a usage error' vmboot -k "$K" --net bridge=czbr --net bridge=czbr
done_testing
