#!/bin/sh
# The cz kernel (kernel/build) boots under QEMU to a userspace init, both as
# the PVH ELF vmlinux and as the bzImage, and says when by its own clock.
. "$(dirname "$0")/lib/tap.sh"

need qemu-system-x86_64 'boots the kernel'
need busybox 'is the init (busybox-static)'
need cpio 'packs the initramfs'

# Builds the kernel on first use; later calls hit the cache at once.
paths=$("$TOP/kernel/build") || { echo 'Bail out! kernel/build failed'; exit 1; }
vmlinux=$(echo "$paths" | sed -n 1p)
bzimage=$(echo "$paths" | sed -n 2p)
ok 'kernel/build printed two existing files' test -f "$vmlinux" -a -f "$bzimage"
ok 'vmlinux is an ELF with the PVH entry note' \
	sh -c "readelf -n '$vmlinux' | grep -q '^ *Xen .*0x00000012'"
echo "$paths" >"$T/paths"
ok 'a second kernel/build is a cache hit (same paths, under 10 s)' \
	sh -c "timeout 10 '$TOP/kernel/build' 2>/dev/null | cmp -s - '$T/paths'"
diag "vmlinux $(stat -c %s "$vmlinux") bytes, bzImage $(stat -c %s "$bzimage") bytes"

# A one-file userspace: busybox as /init prints the uptime and powers off.
r=$T/root
mkdir -p "$r/bin" "$r/proc" "$r/sys"
cp "$(command -v busybox)" "$r/bin/busybox"
cat >"$r/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
read -r up _ </proc/uptime
echo "cz-init-reached uptime=$up"
/bin/busybox mount -t sysfs sysfs /sys
echo "cz-cpus-online=$(/bin/busybox cat /sys/devices/system/cpu/online)"
echo "cz-virtio=$(/bin/busybox cat /sys/bus/virtio/devices/*/device)"
/bin/busybox reboot -f
INIT
chmod 755 "$r/init"
(cd "$r" && find . | cpio -o -H newc -R 0:0 --quiet) >"$T/initrd" ||
	{ echo 'Bail out! cpio failed'; exit 1; }

# Use KVM where it runs ordinary guests at speed, QEMU's emulator elsewhere.
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$T/kvmprobe" \
	"$TOP/tests/vmhost/kvmprobe.c" || { echo 'Bail out! kvmprobe'; exit 1; }
if "$T/kvmprobe" >/dev/null; then accel='-accel kvm -cpu host'
else accel='-accel tcg -cpu max'; fi
diag "qemu $accel"

for k in "$vmlinux" "$bzimage"; do
	name=$(basename "$k")
	# shellcheck disable=SC2086
	timeout 120 qemu-system-x86_64 $accel \
		-M microvm,x-option-roms=off,acpi=off \
		-m 256 -smp 2 -nodefaults -no-user-config -display none \
		-no-reboot -kernel "$k" -initrd "$T/initrd" \
		-device virtio-rng-device \
		-append 'console=ttyS0 reboot=t panic=-1' \
		-serial "file:$T/$name.log" </dev/null >"$T/$name.qemu" 2>&1
	log=$(cat "$T/$name.log")
	like "$log" 'cz-init-reached uptime=' "$name boots to a userspace init"
	like "$log" 'Linux version 6.1' "$name logs its banner on the 8250 console"
	like "$log" 'cz-cpus-online=0-1' "$name brings up both CPUs (MP table, no ACPI)"
	# 0x0004 is virtio-rng, found through virtio_mmio.device= on the command line.
	like "$log" 'cz-virtio=0x0004' "$name finds the virtio-mmio device qemu announced"
	up=$(echo "$log" | sed -n 's/.*cz-init-reached uptime=\([0-9.]*\).*/\1/p')
	[ -n "$up" ] && diag "$name: init reached at $up s of kernel uptime"
	[ -n "$up" ] || diag "$(tail -n 20 "$T/$name.log" "$T/$name.qemu")"
done

done_testing
