#!/bin/sh
# vm-run: a container in its own VM, end to end. The busybox and Debian
# images go through the project's own tools (oci-unpack --bundle | mkext4),
# then, inside the test host's real KVM, `vmboot --spec config.json` boots
# the cz kernel with vminit as /init and runs the container's process:
# its stdout, stderr, stdin and exact exit status (7, 127 for a missing
# binary, 128+N for a signal, forwarded signals), the CLI overrides of the
# spec (-e, -w, -u, -t), vmexec into the running VM through --vsock,
# --timeout, a guest kernel panic and a vminit failure each reported, and
# nothing left behind (socket, temporary directory, process) after each.
# One test-host boot runs every check (tests/vmboot/vm-run.guest.sh).
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/images.sh"

need qemu-system-x86_64 'runs the test host'
need vmboot 'is under test (make)'
need vmexec 'is under test (make)'
need vminit 'is under test (make)'
need oci-unpack 'unpacks the images'
need mkext4 'writes the root filesystems'

cd "$TOP" || exit 1
paths=$(kernel/build) || { echo 'Bail out! kernel/build failed'; exit 1; }

m=$T/m
mkdir -p "$m/bb" "$m/deb"
cp "$(echo "$paths" | sed -n 1p)" "$m/vmlinux"
cp "$BIN/vmboot" "$BIN/vminit" "$BIN/vmexec" "$m/"
for n in busybox:bb debian:deb; do
	layout=$(image_layout "${n%%:*}") || { echo "Bail out! image ${n%%:*}"; exit 1; }
	oci-unpack -i "$layout" --bundle "$m/${n#*:}" latest |
		mkext4 -o "$m/${n#*:}/rootfs.ext4" ||
		{ echo "Bail out! ${n%%:*} rootfs"; exit 1; }
done
head -c 1048576 /dev/urandom >"$m/garbage.img"
cp "$TESTS_DIR/vmboot/vm-run.guest.sh" "$m/run.sh"

"$TOP/tests/vmhost/run" --timeout 600 --disk "$m" -- sh /mnt/0/run.sh \
	>"$T/out" 2>"$T/err"
is "$?" 0 'the test host ran the script'
section() { sed -n "/^== $1\$/,/^== /p" "$T/out"; }

s=$(section hello)
like "$s" 'stdout=<hello>' "sh -c 'echo hello; exit 7' prints hello on stdout"
like "$s" 'stderr=<oops>' 'and only its stderr on stderr (no console, no vminit log)'
like "$s" 'rc=7' 'vmboot exits with the process status, 7'
like "$s" 'left=<>' 'no socket, temporary directory or process is left'

s=$(section debian)
like "$s" 'VERSION_CODENAME=bookworm' 'the Debian image runs cat /etc/os-release: bookworm'
like "$s" 'rc=0' 'and exits 0'

s=$(section stdin)
like "$s" 'piped=<abc|def|done>' '-i: stdin is piped through to the process, EOF included'
like "$s" 'nostdin=<done>' 'without -i the process gets no stdin (no hang)'

s=$(section overrides)
like "$s" 'out=<bar /tmp 65534 x y>' '-e, -w, -u and ARGS override the spec'
like "$s" 'tty=<tty yes>' '-t gives the process a terminal'

s=$(section notfound)
like "$s" 'rc=127' 'a missing binary: 127'
like "$s" 'exec /no/such/binary: No such file or directory' 'with vminit'"'"'s message naming the step'
like "$s" 'left=<>' 'nothing left behind'

s=$(section selfkill)
like "$s" 'rc=137' 'a process killed by SIGKILL: 128+9'

s=$(section signal)
like "$s" 'rc=130' 'SIGINT to vmboot is forwarded: the process dies of it, 128+2'
like "$s" 'trapped=<TERM>' 'SIGTERM reaches a process that traps it'
like "$s" 'rc2=3' 'which then exits with its own status'
like "$s" 'left=<>' 'nothing left behind'

s=$(section vmexec)
like "$s" 'cmdline=<sleep 1000>' 'vmexec through --vsock reaches the running container'
like "$s" 'ps-lists-sleep=yes' 'vmexec -- ps lists its main process'
like "$s" 'rc=143' 'SIGTERM then stops it: 128+15'
like "$s" 'sock=<>' 'the --vsock socket is removed at exit'
like "$s" 'left=<>' 'nothing left behind'

s=$(section timeout)
like "$s" 'rc=124' '--timeout 2 on a never-ending process: 124'
like "$s" 'longer than --timeout 2 s' 'and says why'
like "$s" 'quick=yes' 'within seconds of the timeout'
like "$s" 'left=<>' 'nothing left behind'

s=$(section panic)
like "$s" 'rc=125' 'a guest kernel panic: 125'
like "$s" 'guest kernel panic' 'reported as a kernel panic'
like "$s" 'left=<>' 'nothing left behind'

s=$(section badroot)
like "$s" 'rc=125' 'a rootfs vminit cannot mount: 125'
like "$s" 'create main: mount' 'with the failing step named'
like "$s" 'left=<>' 'nothing left behind'

dump_if_failed "$T/out" "$T/err"
done_testing
