# vm-load.guest.sh: the load of tests/vm-load.sh, run by sh inside the test
# host in /mnt/0 (vmboot, vminit, the kernel, the busybox bundle bb/).
# Usage: load.sh SIZE I... -- one VM per index I, all started at once,
# each running a process that writes SIZE bytes of `yes cz-load-I` to
# stdout; then one "vm I rc=... size=... sha=..." line each, the wall
# time, the peak memory and what was left behind.
SIZE=$1; shift
cd /mnt/0 || exit 1
mkdir -p /tmp/d && mount -t tmpfs tmpfs /tmp/d || exit 1
cp vmlinux vmboot vminit /tmp/d/ && cp -r bb /tmp/d/ || exit 1
cd /tmp/d
export TMPDIR=/tmp/vmtmp
mkdir -p $TMPDIR /tmp/out
now() { /usr/bin/date +%s%N; }

# Peak memory: each vmboot's own peak RSS (guest memory it touched
# included), exact, from wait4 through GNU time; a sampler would miss a
# VM that dies young. The test host's lowest MemAvailable is sampled.
sample() {
	min=
	while [ ! -e /tmp/stop ]; do
		a=$(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo)
		[ -z "$min" ] || [ "$a" -lt "$min" ] && min=$a && echo "$min" >/tmp/minavail
		sleep 0.2
	done
}
sed -n 's/^MemAvailable: *\([0-9]*\) kB/before_avail_kb=\1/p' /proc/meminfo
sample & sampler=$!

t0=$(now)
pids=
for i in "$@"; do
	# A read-only disk: eight VMs share one image.
	/usr/bin/time -f 'maxrss_kb=%M' -o /tmp/out/$i.rss \
		./vmboot -k vmlinux -d bb/rootfs.ext4,ro --timeout 600 --spec bb/config.json \
		-- sh -c "yes cz-load-$i | head -c $SIZE" >/tmp/out/$i 2>/tmp/out/$i.err &
	pids="$pids $!:$i"
done
for pi in $pids; do
	wait ${pi%:*}
	echo "vm ${pi#*:} rc=$?"
done
t1=$(now)
touch /tmp/stop
wait $sampler

for i in "$@"; do
	echo "vm $i size=$(wc -c </tmp/out/$i) sha=$(sha256sum </tmp/out/$i | cut -d' ' -f1) err=<$(tr '\n' '|' </tmp/out/$i.err)>"
done
echo "wall_ms=$(( (t1 - t0) / 1000000 ))"
rss() { for i in "$@"; do sed -n 's/^maxrss_kb=//p' /tmp/out/$i.rss; done; }
echo "rss_sum_kb=$(rss "$@" | awk '{ s += $1 } END { print s + 0 }')"
echo "rss_n=$(rss "$@" | wc -l)"
echo "min_avail_kb=$(cat /tmp/minavail)"
echo "left=<$(ls -A $TMPDIR; pgrep -x vmboot)>"
