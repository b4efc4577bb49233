#!/bin/sh
# vm-bridge: two container VMs on one bridge, end to end. Inside the test
# host, in a network namespace of its own, a bridge made with netlinkctl
# (10.77.0.1/24); two `vmboot --net bridge=` started at once get distinct
# addresses from the allocator, the MAC the host side chose, an
# /etc/hosts, resolv.conf and default route; they ping each other and the
# host; a TCP echo server (busybox nc) in each container answers the other
# container and the host; each tap is gone when its VM ends, by SIGTERM or
# kill -9 of vmboot. One test-host boot (tests/vmboot/vm-bridge.guest.sh).
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"

need qemu-system-x86_64 'runs the test host'
for t in vmboot vmexec vminit netlinkctl oci-unpack mkext4; do
	need $t 'is under test or builds the image (make)'
done

cd "$TOP" || exit 1
paths=$(kernel/build) || { echo 'Bail out! kernel/build failed'; exit 1; }

m=$T/m
mkdir -p "$m/bb"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$BIN/vmboot" "$BIN/vminit" "$BIN/vmexec" "$BIN/netlinkctl" "$m/"
layout=$(image_layout busybox) || { echo 'Bail out! image busybox'; exit 1; }
oci-unpack -i "$layout" --bundle "$m/bb" latest | mkext4 -o "$m/bb/rootfs.ext4" ||
	{ echo 'Bail out! busybox rootfs'; exit 1; }
# A host name of each container's own, for its /etc/hosts.
for h in a b; do
	sed "s/\"hostname\": *\"cz\"/\"hostname\": \"vm-$h\"/" "$m/bb/config.json" >"$m/$h.json"
	grep -q "\"vm-$h\"" "$m/$h.json" || { echo "Bail out! $h.json"; exit 1; }
done
cp "$TESTS_DIR/vmboot/vm-bridge.guest.sh" "$m/run.sh"

"$TOP/tests/vmhost/run" --timeout 600 --disk "$m" -- sh /mnt/0/run.sh \
	>"$T/out" 2>"$T/err"
is "$?" 0 'the test host ran the script'
section() { sed -n "/^== $1\$/,/^== /p" "$T/out"; }
val() { echo "$s" | sed -n "s/^$1=<\(.*\)>\$/\1/p"; }

s=$(section bridge)
like "$s" 'bridge=up' 'netlinkctl made the bridge in a namespace of the test host'

s=$(section start)
is "$(val taps)" "$(val taps-want)" "each vmboot's tap is on the bridge"
like "$s" 'a-ready=yes' 'the first VM runs its container'
like "$s" 'b-ready=yes' 'the second, started at the same time, too'
ipa=$(val ipa) ipb=$(val ipb)
like "$ipa" '10.77.0.' "the first got an address of the bridge's subnet ($ipa)"
like "$ipb" '10.77.0.' "the second too ($ipb)"
ok 'the addresses differ' test -n "$ipa" -a "$ipa" != "$ipb"
is "$(val leases)" "$(val leases-want)" 'the lease file holds both, each with its vmboot pid'

s=$(section guest-config)
is "$(val maca)" 02:00:00:77:00:0a "mac= is eth0's address in the guest"
is "$(val macb)" "$(val macb-host)" "without mac=, eth0 has the MAC vmboot chose and logged"
is "$(val hostsa)" "127.0.0.1	localhost|::1	localhost ip6-localhost ip6-loopback|$ipa	vm-a|10.77.0.200	db.example" \
	'/etc/hosts: localhost, the hostname on its address, --add-host'
like "$(val hostsb)" "$ipb	vm-b" "the other container's /etc/hosts names it on its own address"
is "$(val resolva)" 'nameserver 192.0.2.53' 'dns= is the container'"'"'s resolv.conf'
like "$(val routea)" 'default via 10.77.0.1 dev eth0' 'the default route is the bridge'

s=$(section ping)
is "$(val a-b)" ok 'the first VM pings the second'
is "$(val b-a)" ok 'the second pings the first'
is "$(val a-host)" ok 'the first pings the host'
is "$(val b-host)" ok 'the second pings the host'
is "$(val host-a)" ok 'the host pings the first'

s=$(section echo)
is "$(val b-a)" hello-from-b "a TCP echo through the first container's nc server, from the second"
is "$(val a-b)" hello-from-a 'and the other way round'
is "$(val host-a)" hello-from-host "the host reaches a container's server by its IP"
is "$(val host-none)" '' '(an address no VM has answers nothing)'

s=$(section stop-a)
is "$(val rc)" 143 'SIGTERM ends the first VM: its process died of it'
like "$s" 'tap-gone=yes' 'its tap is gone'
is "$(val lease-a)" 0 'and its lease'
is "$(val sock)" '' 'and its vsock socket'

s=$(section kill-b)
is "$(val rc)" 137 'kill -9 of the second vmboot'
like "$s" 'tap-gone=yes' 'its tap is gone too'
is "$(val brif)" '' 'nothing is left on the bridge'
is "$(val vmboot)" '' 'no vmboot is left running'

dump_if_failed "$T/out" "$T/err"
done_testing
