# vm-bridge.guest.sh: the checks of tests/vm-bridge.sh, run by sh inside
# the test host in /mnt/0 (vmboot, vminit, vmexec, netlinkctl, the kernel,
# the busybox bundle bb/ with a.json and b.json), in a network namespace
# of its own. Each section prints key=<value> lines.
# A mount namespace too, for a /sys that shows this network namespace.
[ -n "${IN_NETNS:-}" ] || exec env IN_NETNS=1 unshare -m -n sh "$0" "$@"
mount -t sysfs sysfs /sys || exit 1
cd /mnt/0 || exit 1
mkdir -p /tmp/d /tmp/v && mount -t tmpfs tmpfs /tmp/d
cp bb/rootfs.ext4 /tmp/d/a.ext4
cp bb/rootfs.ext4 /tmp/d/b.ext4
export TMPDIR=/tmp/vmtmp
mkdir -p $TMPDIR
one() { tr '\n' '|' | sed 's/|$//'; }
step() { echo "== $1"; }
# A command in VM $1's container, through its vsock socket.
x() { s=$1; shift; ./vmexec /tmp/v/$s.sock -- "$@"; }
ready() {
	for i in $(seq 600); do
		x "$1" true 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
inet() { sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p'; }
gone() {	# waits up to 10 s for link $1 to go
	for i in $(seq 100); do
		[ -e "/sys/class/net/$1" ] || { echo yes; return; }
		sleep 0.1
	done
	echo no
}

step bridge
./netlinkctl link set lo up
./netlinkctl link add czbr0 type bridge &&
	./netlinkctl addr add 10.77.0.1/24 dev czbr0 &&
	./netlinkctl link set czbr0 up && echo bridge=up

step start
# Both at once: the allocator picks each address. The main process of
# each container is a TCP echo server (busybox nc, one cat per client).
VM="./vmboot -k vmlinux -m 128 --timeout 500"
CZ_DEBUG=1 $VM -d /tmp/d/a.ext4 --spec a.json --vsock /tmp/v/a.sock \
	--net bridge=czbr0,mac=02:00:00:77:00:0a,dns=192.0.2.53 \
	--add-host db.example:10.77.0.200 -- nc -ll -p 7 -e cat \
	>/tmp/a.out 2>/tmp/a.err &
pa=$!
CZ_DEBUG=1 $VM -d /tmp/d/b.ext4 --spec b.json --vsock /tmp/v/b.sock \
	--net bridge=czbr0 -- nc -ll -p 7 -e cat >/tmp/b.out 2>/tmp/b.err &
pb=$!
ready a $pa && echo a-ready=yes
ready b $pb && echo b-ready=yes
echo "taps-want=<$(printf 'cz%s-0\n' $pa $pb | sort | one)>"
echo "taps=<$(ls /sys/class/net/czbr0/brif | sort | one)>"
ipa=$(x a ip -4 -o addr show eth0 | inet)
ipb=$(x b ip -4 -o addr show eth0 | inet)
echo "ipa=<$ipa>"
echo "ipb=<$ipb>"
echo "leases=<$(cut -d' ' -f1,2 /run/cz/ipam/czbr0-10.77.0.0-24 | sort | one)>"
echo "leases-want=<$(printf '%s %s\n' "$ipa" $pa "$ipb" $pb | sort | one)>"

step guest-config
echo "maca=<$(x a cat /sys/class/net/eth0/address)>"
echo "macb=<$(x b cat /sys/class/net/eth0/address)>"
echo "macb-host=<$(sed -n 's/.* mac \([0-9a-f:]*\).*/\1/p' /tmp/b.err)>"
echo "hostsa=<$(x a cat /etc/hosts | one)>"
echo "hostsb=<$(x b cat /etc/hosts | one)>"
echo "resolva=<$(x a cat /etc/resolv.conf | one)>"
echo "routea=<$(x a ip route | grep default)>"

step ping
p() { x "$1" ping -c 1 -W 15 "$2" >/dev/null 2>&1 && echo ok || echo fail; }
echo "a-b=<$(p a "$ipb")>"
echo "b-a=<$(p b "$ipa")>"
echo "a-host=<$(p a 10.77.0.1)>"
echo "b-host=<$(p b 10.77.0.1)>"
echo "host-a=<$(ping -c 1 -W 15 "$ipa" >/dev/null 2>&1 && echo ok || echo fail)>"

step echo
# nc ends when the server closes after our EOF; timeout in case it hangs.
echo "b-a=<$(x b sh -c "echo hello-from-b | timeout 20 nc $ipa 7")>"
echo "a-b=<$(x a sh -c "echo hello-from-a | timeout 20 nc $ipb 7")>"
echo "host-a=<$(echo hello-from-host | timeout 20 /bin/busybox nc "$ipa" 7)>"
echo "host-none=<$(echo x | timeout 20 /bin/busybox nc 10.77.0.254 7 2>/dev/null)>"

step stop-a
kill -TERM $pa
wait $pa
echo "rc=<$?>"
echo "tap-gone=$(gone cz$pa-0)"
echo "lease-a=<$(grep -c " $pa " /run/cz/ipam/czbr0-10.77.0.0-24)>"
echo "sock=<$(ls -A /tmp/v | grep '^a\.sock')>"

step kill-b
kill -9 $pb
wait $pb
echo "rc=<$?>"
echo "tap-gone=$(gone cz$pb-0)"
echo "brif=<$(ls /sys/class/net/czbr0/brif)>"
echo "vmboot=<$(pgrep -x vmboot)>"
# What each vmboot said (CZ_DEBUG), for the diagnostics of a failure.
echo "== logs"
tail -n 60 /tmp/a.err | sed 's/^/a: /'
tail -n 60 /tmp/b.err | sed 's/^/b: /'
echo "== end"
