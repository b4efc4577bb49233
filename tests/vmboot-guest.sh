#!/bin/sh
# vmboot boots the cz kernel inside the test host's real KVM, to a static
# test init (tests/vmboot/testinit.c) that proves each device from inside
# Linux: console, SMP, disk content digests (read, write, flush, discard,
# get-id, read-only), virtio-rng, vsock both ways (100 MB each, SHA-256
# checked, Firecracker's Unix socket convention), eth0 on a tap; PVH and
# bzImage boots; exit statuses for a reported status, a clean reboot, a
# crash and SIGTERM; console input from stdin; --console FILE and --initrd.
. "$(dirname "$0")/lib/tap.sh"

need qemu-system-x86_64 'runs the test host'
need musl-gcc 'builds the test init'
need python3 'writes the crashing kernel'
need cpio 'packs an initramfs'
need vmboot 'is under test (make)'

VSOCK_BYTES=${VSOCK_BYTES:-104857600}
cd "$TOP" || exit 1
BUILD=${CZ_BUILD:-build}
case $BUILD in *san) san=SAN=1 ;; *) san= ;; esac
make -s -f Makefile -f tests/vmboot/vmboot.mk $san BUILD="$BUILD" \
	"$BUILD/tests/vmboot-peer" "$BUILD/tests/vmboot-testinit" >&2 ||
	{ echo 'Bail out! build failed'; exit 1; }
paths=$(kernel/build) || { echo 'Bail out! kernel/build failed'; exit 1; }

m=$T/m
mkdir "$m"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$(echo "$paths" | sed -n 2p)" "$m/bzImage"
cp "$BIN/vmboot" "$m/vmboot"
cp "$BUILD/tests/vmboot-testinit" "$m/testinit"
cp "$BUILD/tests/vmboot-peer" "$m/peer"
head -c 8388608 /dev/urandom >"$m/disk.img"
head -c 1048576 /dev/urandom >"$m/ro.img"
disk_sha=$(sha256sum <"$m/disk.img" | cut -d' ' -f1)
ro_sha=$(sha256sum <"$m/ro.img" | cut -d' ' -f1)
(cd "$T" && mkdir r && cp "$m/testinit" r/init && cd r &&
	echo init | cpio -o -H newc --quiet >"$m/initrd.cpio") ||
	{ echo 'Bail out! cpio'; exit 1; }
# A "kernel" whose PVH entry executes ud2 with no IDT: a triple fault.
python3 - "$m/crash.elf" <<'PY'
import struct, sys
code = b"\x0f\x0b"
note = struct.pack("<III", 4, 8, 18) + b"Xen\0" + struct.pack("<Q", 0x100000)
ehdr_size, phdr_size = 64, 56
off_note = ehdr_size + 2 * phdr_size
off_code = off_note + len(note)
eh = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
    b"\0" * 7, 2, 62, 1, 0x100000, ehdr_size, 0, 0, ehdr_size, phdr_size,
    2, 0, 0, 0)
ph_note = struct.pack("<IIQQQQQQ", 4, 4, off_note, 0, 0, len(note), len(note), 4)
ph_load = struct.pack("<IIQQQQQQ", 1, 5, off_code, 0x100000, 0x100000,
    len(code), len(code), 0x1000)
open(sys.argv[1], "wb").write(eh + ph_note + ph_load + note + code)
PY

cat >"$m/run.sh" <<RUN
cd /mnt/0
IP=/usr/bin/ip
mkdir -p /tmp/d && mount -t tmpfs tmpfs /tmp/d
cp disk.img ro.img /tmp/d/
step() { echo "== \$1"; }

step pvh
./vmboot -k vmlinux --init testinit --boot-time \
	--cmdline 'cz.test=console,cpuinfo cz.status=7'
echo "rc=\$?"

step bzimage
./vmboot -k bzImage -c 2 --init testinit --cmdline 'cz.test=console cz.status=9'
echo "rc=\$?"

step devices
\$IP tuntap add dev cztap0 mode tap && \$IP addr add 10.0.2.1/24 dev cztap0 &&
	\$IP link set cztap0 up
./peer udpecho 10.0.2.1 5555 >/tmp/udp.log 2>&1 &
udp=\$!
./peer vsock /tmp/v.sock 5000 6000 $VSOCK_BYTES >/tmp/peer.log 2>&1 &
peer=\$!
./vmboot -k vmlinux -c 2 --init testinit -d /tmp/d/disk.img -d /tmp/d/ro.img,ro \
	--vsock /tmp/v.sock --net tap=cztap0 --cmdline \
	'cz.test=disk,rng,vsock,net cz.vsock=5000:6000:$VSOCK_BYTES cz.net=10.0.2.2:10.0.2.1:5555'
echo "rc=\$?"
wait \$peer
echo "peer rc=\$?"
cat /tmp/peer.log
kill \$udp
echo "vsock socket left: \$(ls /tmp/v.sock 2>/dev/null)"
echo "disk pattern \$(dd if=/tmp/d/disk.img bs=1M skip=1 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)"
echo "disk discard \$(dd if=/tmp/d/disk.img bs=1M skip=2 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)"
echo "ro sha \$(sha256sum </tmp/d/ro.img | cut -d' ' -f1)"

step reboot
./vmboot -k vmlinux --init testinit --cmdline 'cz.test=console'
echo "rc=\$?"

step input
printf 'hello\n' | ./vmboot -k vmlinux --init testinit \
	--cmdline 'cz.test=input cz.input=6'
echo "rc=\$?"

step input-stream
head -c 16384 /dev/urandom >/tmp/in.bin
echo "input sha \$(sha256sum </tmp/in.bin | cut -d' ' -f1)"
rm -f /tmp/inq && mkfifo /tmp/inq
(exec 3>/tmp/inq; i=0
	until grep -q 'console-in reading' /tmp/in.out 2>/dev/null; do
		i=\$((i + 1)); [ \$i -lt 300 ] || exit; sleep 1
	done
	cat /tmp/in.bin >&3) &
./vmboot -k vmlinux --init testinit \
	--cmdline 'cz.test=input cz.input=16384' </tmp/inq >/tmp/in.out
echo "rc=\$?"
cat /tmp/in.out

step bigmem
./vmboot -k vmlinux -m 4608M -c 2 --init testinit --cmdline 'cz.test=console'
echo "rc=\$?"

step crash
./vmboot -k crash.elf
echo "rc=\$?"

step sigterm
./vmboot -k vmlinux --init testinit --cmdline 'cz.test=sleep' >/tmp/sleep.log 2>&1 &
pid=\$!
for i in \$(seq 600); do grep -q 'cztest: sleeping' /tmp/sleep.log && break; sleep 0.1; done
kill -TERM \$pid
wait \$pid
echo "rc=\$?"

step console-file
./vmboot -k vmlinux --init testinit --console /tmp/console.log --cmdline 'cz.test=console'
echo "rc=\$?"
grep -c 'cztest: console ok' /tmp/console.log | sed 's/^/console-file lines=/'

step initrd
./vmboot -k vmlinux --initrd initrd.cpio --cmdline 'cz.test=console'
echo "rc=\$?"

step kernel-rewrite
# The kernel's pages are mapped from its file (on tmpfs, which has
# leases): overwriting it in place while the guest runs must not reach
# the guest, whose kernel runs on from its own copy.
cp vmlinux /tmp/d/vmlinux
./vmboot -v -k /tmp/d/vmlinux --init testinit \
	--cmdline 'cz.test=console cz.idle=2 cz.status=5' >/tmp/kr.log 2>&1 &
pid=\$!
for i in \$(seq 600); do grep -q 'cztest: idle' /tmp/kr.log && break; sleep 0.1; done
dd if=/dev/zero of=/tmp/d/vmlinux bs=1M count=64 conv=notrunc status=none
echo "overwritten \$(cmp -s vmlinux /tmp/d/vmlinux && echo no || echo yes)"
wait \$pid
echo "rc=\$?"
grep 'mapped from the file\|own copy\|cztest: done' /tmp/kr.log
RUN

"$TOP/tests/vmhost/run" --timeout 900 --disk "$m" -- sh /mnt/0/run.sh \
	>"$T/out" 2>"$T/err"
st=$?
is "$st" 0 'the test host ran the script'
section() { sed -n "/^== $1\$/,/^== /p" "$T/out"; }

s=$(section pvh)
like "$s" 'cztest: console ok hello from the guest console' \
	'PVH vmlinux boots to the test init, which prints on the console'
like "$s" 'rc=7' 'vmboot exits with the status the guest reported (7)'
like "$(cat "$T/err")" 'guest userspace reached after' \
	'--boot-time reports the boot timer port write'
flags=$(echo "$s" | sed -n 's/.*cztest: cpuinfo flags[^:]*: //p')
like " $flags " ' lm ' "the guest's CPU flags are there (long mode)"
ok 'and name no nested virtualization (no SVM, no VMX)' \
	sh -c 'case " $1 " in *" svm "*|*" vmx "*) exit 1 ;; esac; [ -n "$1" ]' - "$flags"

s=$(section bzimage)
like "$s" 'cpus=0-1' 'bzImage boots through the 64-bit protocol, with 2 CPUs'
like "$s" 'rc=9' 'and its reported status (9) is the exit status'

s=$(section devices)
like "$s" "cztest: disk-read ok vda bytes=8388608 sha256=$disk_sha" \
	'the guest reads the whole disk with the right digest'
like "$s" 'cztest: disk-write ok' 'the guest writes and flushes'
like "$s" "disk pattern $("$BUILD/tests/vmboot-peer" pattern 42 1048576)" \
	'what it wrote is in the file'
like "$s" 'cztest: disk-discard ok' 'discard is accepted'
like "$s" "disk discard $(head -c 1048576 /dev/zero | sha256sum | cut -d' ' -f1)" \
	'and the discarded range reads as zeros in the file'
like "$s" 'cztest: disk-id ok serial=disk.img' 'get-id names the file'
like "$s" 'cztest: disk-ro ok' 'the read-only disk refuses writes'
like "$s" "ro sha $ro_sha" 'and is unchanged'
like "$s" 'cztest: rng ok source=virtio_rng' 'virtio-rng feeds /dev/hwrng'
like "$s" "cztest: vsock-guest-to-host ok $VSOCK_BYTES bytes" \
	'vsock guest to host: all bytes, digests match'
like "$s" "cztest: vsock-host-to-guest ok $VSOCK_BYTES bytes" \
	'vsock host to guest (CONNECT/OK): all bytes'
like "$s" 'peer rc=0' 'the host peer agrees on both digests'
like "$s" 'vsock socket left: 
' 'the vsock socket is removed at exit'
like "$s" 'cztest: net-up ok' 'eth0 comes up on virtio-net'
like "$s" 'cztest: net-udp ok 10 of 10' 'UDP ping-pong with the host over the tap'
like "$s" 'cztest: net-tcp ok 16777216 bytes' \
	'16 MiB over TCP to the host, digest checked (offloads on the tap)'
like "$s" 'cztest: done failures=0' 'no guest-side failure'
like "$s" 'rc=0' 'vmboot exits 0'

like "$(section reboot)" 'rc=0' 'a guest that reboots ends vmboot with 0'
s=$(section input)
like "$s" "cztest: console-in ok 6 bytes sha256=$(printf 'hello\n' | sha256sum | cut -d' ' -f1)" \
	'a line piped in before the guest opens ttyS0 reaches it whole'
like "$s" 'rc=0' 'and vmboot exits 0 (stdin ended first)'
s=$(section input-stream)
got=$(echo "$s" | sed -n 's/.*cztest: console-in ok 16384 bytes sha256=\([0-9a-f]*\).*/\1/p')
want=$(echo "$s" | sed -n 's/^input sha \([0-9a-f]\{64\}\)$/\1/p')
is "${got:-none}" "${want:-unknown}" \
	'16 KiB of random bytes sent while the guest reads in raw mode arrive unchanged'
like "$s" 'rc=0' 'and vmboot exits 0'
s=$(section bigmem)
like "$s" 'cpus=0-1' '4.5 GiB of RAM (above 4 GiB too) with 2 vCPUs boots'
like "$s" 'rc=0' 'and exit cleanly'
like "$(section crash)" 'rc=3' 'a guest triple fault ends vmboot with 3'
like "$(cat "$T/err")" 'guest triple fault' 'and says so'
ok "and never names the reset vector as where (AMD's KVM resets the CPU at a shutdown)" \
	sh -c '! grep -q "triple fault.*at rip 0xfff0$" "$1"' - "$T/err"
like "$(section sigterm)" 'rc=143' 'SIGTERM stops the guest: 128+15'
s=$(section console-file)
like "$s" 'console-file lines=1' '--console FILE gets the console'
like "$s" 'rc=0' 'and vmboot still exits 0'
like "$(section initrd)" 'cztest: console ok' '--initrd boots a cpio from a file'
s=$(section kernel-rewrite)
like "$s" 'segments mapped from the file, under a read lease' \
	'a kernel on tmpfs is mapped from its file'
like "$s" 'overwritten yes' 'the kernel file was overwritten while the guest ran'
like "$s" 'the guest has its own copy of the kernel now' \
	'vmboot gave the guest its own copy first'
like "$s" 'cztest: done failures=0 status=5' 'and the guest ran on to its end'
like "$s" 'rc=5' 'vmboot exits with its status'

dump_if_failed "$T/out" "$T/err"
done_testing
