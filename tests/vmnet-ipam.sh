#!/bin/sh
# vmnet-ipam.sh: the --net bridge= address allocator under load: 50
# processes allocating at once from one state file never get the same
# address; a SIGKILLed holder's address is handed out again; a full subnet
# is refused with a message that says so; ten vmboot processes started at
# once get ten addresses; a bridge re-made with another subnet leases from
# a file of its own (vmboot itself, in a netns).
if [ -z "${IN_NETNS:-}" ]; then
	unshare -n true 2>/dev/null || { echo "1..0 # skipped: unshare -n needs root"; exit 0; }
	exec env IN_NETNS=1 unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib/tap.sh"
BUILD=${CZ_BUILD:-$TOP/build}
if [ -z "${CZ_BUILD:-}" ]; then
	make -s -C "$TOP" build/tests/ipam-test >&2 || { echo "Bail out! build failed"; exit 1; }
fi
IPAM=$BUILD/tests/ipam-test
state=$T/ipam/br0
mkdir -p "$T/ipam"

# 50 at once, each holding its lease until all have one.
i=0
while [ $i -lt 50 ]; do
	"$IPAM" alloc "$state" 10.66.0.0/24 10.66.0.1 "$T/go" >"$T/a.$i" 2>&1 &
	i=$((i + 1))
done
n=0
while [ $n -lt 500 ] && [ "$(cat "$T"/a.* | grep -c '^10\.66\.0\.')" -lt 50 ]; do
	sleep 0.1; n=$((n + 1))
done
touch "$T/go"
wait
is "$(cat "$T"/a.* | grep -c '^10\.66\.0\.')" 50 '50 concurrent allocations all succeed'
is "$(cat "$T"/a.* | sort -u | wc -l | tr -d ' ')" 50 'no address handed out twice'
is "$(cat "$T"/a.* | sort -t. -k4n | sed -n '1p;$p' | tr '\n' ' ')" \
	'10.66.0.2 10.66.0.51 ' 'the lowest free ones, past the bridge address'
is "$("$IPAM" alloc "$state" 10.66.0.0/24 10.66.0.1)" 10.66.0.2 \
	'the holders exited: their addresses are free again'

# A holder killed with SIGKILL.
rm -f "$T/go"
"$IPAM" alloc "$state" 10.66.0.0/24 10.66.0.1 "$T/go" >"$T/k1" &
h1=$!
"$IPAM" alloc "$state" 10.66.0.0/24 10.66.0.1 "$T/go" >"$T/k2" &
h2=$!
n=0
while [ $n -lt 100 ] && { [ ! -s "$T/k1" ] || [ ! -s "$T/k2" ]; }; do sleep 0.1; n=$((n + 1)); done
victim=$(cat "$T/k1")
kill -9 $h1; wait $h1 2>/dev/null
is "$("$IPAM" alloc "$state" 10.66.0.0/24 10.66.0.1)" "$victim" \
	"a SIGKILLed holder's address ($victim) is reclaimed"
touch "$T/go"; wait $h2

# vmboot itself on a full /30: one host address beside the bridge's.
K=$(ls "$CZ_CACHE"/kernel/*/vmlinux 2>/dev/null | head -1)
if [ -z "$K" ] || [ ! -c /dev/kvm ] || [ ! -c /dev/net/tun ]; then
	diag 'no cached kernel, /dev/kvm or /dev/net/tun: vmboot part skipped'
	done_testing; exit
fi
export CZ_IPAM_DIR=$T/ipam
netlinkctl link add czb type bridge && netlinkctl addr add 10.67.0.1/30 dev czb &&
	netlinkctl link set czb up || { echo 'Bail out! bridge setup failed'; exit 1; }
# One state file per bridge and subnet.
st=$T/ipam/czb-10.67.0.0-30
# Waits up to 10 s for the line "ADDR PID " in a lease file.
wait_lease() {	# addr pid file
	_n=0
	while [ $_n -lt 100 ] && ! grep -q "^$1 $2 " "$3" 2>/dev/null; do
		sleep 0.1; _n=$((_n + 1))
	done
}
# --no-probe: the guest never has to run, the devices are set up first.
vmboot --no-probe -k "$K" --console none --net bridge=czb >/dev/null 2>"$T/v1.err" &
v1=$!
at_exit "kill -9 $v1"
wait_lease 10.67.0.2 $v1 "$st"
ok 'the first VM leases 10.67.0.2' grep -q "^10.67.0.2 $v1 " "$st"
vmboot --no-probe -k "$K" --console none --net bridge=czb >/dev/null 2>"$T/v2.err"
is $? 1 'a second VM on the full /30 fails (exit 1)'
like "$(cat "$T/v2.err")" 'bridge=czb: no free address left in 10.67.0.0/30' \
	'... saying the subnet is full'
vmboot --no-probe -k "$K" --console none --net bridge=czb,ip=10.67.0.2 >/dev/null 2>"$T/v3.err"
like "$(cat "$T/v3.err")" 'ip=10.67.0.2' 'ip= of a leased address is refused'
like "$(cat "$T/v3.err")" 'leased to another running VM' '... naming why'
kill -9 $v1; wait $v1 2>/dev/null
vmboot --no-probe -k "$K" --console none --net bridge=czb >/dev/null 2>"$T/v4.err" &
v4=$!
at_exit "kill -9 $v4"
wait_lease 10.67.0.2 $v4 "$st"
ok "after kill -9 of the first, the next VM gets its address" \
	grep -q "^10.67.0.2 $v4 " "$st"
# The bridge re-made with another subnet while a VM still holds a lease
# of the old one: the new subnet has a file of its own.
netlinkctl link del czb && netlinkctl link add czb type bridge &&
	netlinkctl addr add 10.69.0.1/30 dev czb && netlinkctl link set czb up ||
	{ echo 'Bail out! bridge re-creation failed'; exit 1; }
vmboot --no-probe -k "$K" --console none --net bridge=czb >/dev/null 2>"$T/v5.err" &
v5=$!
at_exit "kill -9 $v5"
wait_lease 10.69.0.2 $v5 "$T/ipam/czb-10.69.0.0-30"
ok 'a bridge re-made with another subnet leases from a file of its own' \
	grep -q "^10.69.0.2 $v5 " "$T/ipam/czb-10.69.0.0-30"
ok "... while the old subnet's file keeps its lease" grep -q "^10.67.0.2 $v4 " "$st"
kill -TERM $v5; wait $v5
ok 'a clean exit removes its subnet file with its last lease' \
	test ! -e "$T/ipam/czb-10.69.0.0-30"
kill -9 $v4; wait $v4 2>/dev/null
# Ten vmboot processes started at once on one bridge.
netlinkctl link add czd type bridge && netlinkctl addr add 10.70.0.1/24 dev czd &&
	netlinkctl link set czd up || { echo 'Bail out! bridge czd setup failed'; exit 1; }
pids=
i=0
while [ $i -lt 10 ]; do
	vmboot --no-probe -m 64 -k "$K" --console none --net bridge=czd \
		>/dev/null 2>"$T/c.$i.err" &
	pids="$pids $!"
	i=$((i + 1))
done
at_exit "kill -9 $pids"
sc=$T/ipam/czd-10.70.0.0-24
n=0
while [ $n -lt 300 ] && [ "$(cat "$sc" 2>/dev/null | wc -l)" -lt 10 ]; do
	sleep 0.1; n=$((n + 1))
done
is "$(cut -d' ' -f1 "$sc" | sort -u | wc -l | tr -d ' ')" 10 \
	'ten vmboot started at once: ten distinct addresses'
is "$(cut -d' ' -f2 "$sc" | sort | tr '\n' ' ')" "$(printf '%s\n' $pids | sort | tr '\n' ' ')" \
	'... one for each vmboot'
kill -9 $pids; wait $pids 2>/dev/null
fails 1 'a bridge without an IPv4 address and no ip= is refused' \
	sh -c 'netlinkctl link add czc type bridge && exec vmboot --no-probe -k "$1" --console none --net bridge=czc' sh "$K"
fails 2 'a malformed bridge= is a usage error' vmboot -k "$K" --net bridge=czb,ip=1.2.3
done_testing
