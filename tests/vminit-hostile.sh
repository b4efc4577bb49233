#!/bin/sh
# A hostile client never crashes vminit: malformed headers, oversized
# lengths, bad attributes, unknown operations, stray stream hellos.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"
need python3 'to speak broken protocol'

vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
C=ctr-$$-h
ctr_up $C || { echo 'Bail out! container did not start'; exit 1; }

python3 - "$T/vminit.sock" <<'PY' >"$T/py.out" 2>&1
import socket, struct, sys, os, random
path = sys.argv[1]
def hdr(length, typ, ver=1, flags=0, id=7):
    return struct.pack('<IBBHI', length, ver, flags, typ, id)
def attr(t, data):
    a = struct.pack('<HH', 4 + len(data), t) + data
    return a + b'\0' * ((4 - len(a) % 4) % 4)
def msg(typ, body=b'', **kw):
    return hdr(12 + len(body), typ, **kw) + body
hello = msg(1, attr(1, struct.pack('<I', 1)))
cases = [
    b'\xff' * 12,                              # absurd length
    hdr(0x7fffffff, 1),                          # oversized
    hdr(5, 1),                                   # shorter than a header
    msg(1, ver=9),                               # wrong version
    hello + msg(3, b'\x03\x00\x01\x00'),         # attribute shorter than its header
    hello + msg(3, struct.pack('<HH', 200, 4) + b'abc'),  # attribute past the end
    hello + msg(3, attr(4, b'no-nul')),           # string without NUL
    hello + msg(999),                             # unknown op
    hello + msg(3, attr(0x8000 | 20, attr(0x8000 | 20, attr(0x8000 | 20, attr(0x8000 | 20, attr(0x8000 | 20, attr(1, b'x'))))))),
    hello + msg(4, attr(4, b'nosuch\0') + attr(7, b'true\0')),
    hello + msg(5, attr(5, struct.pack('<I', 99999))),  # start a stranger
    hello + msg(6, attr(5, struct.pack('<I', 1)) + attr(39, struct.pack('<I', 999))),  # bad signal
    msg(1, attr(5, struct.pack('<I', 12345)) + attr(6, struct.pack('<I', 1))),  # stream for nobody
    msg(1, attr(5, struct.pack('<I', 1)) + attr(6, struct.pack('<I', 7))),
    hello + msg(3, attr(4, b'../../etc\0') + attr(28, b'/\0')),  # bad container id
    hello + msg(19, attr(4, b'x\0') + attr(59, b'/etc/passwd\0')),  # write with unknown container
    msg(3),                                        # no hello first
]
random.seed(1)
for _ in range(300):
    n = random.randrange(0, 200)
    cases.append(hello + hdr(12 + n, random.randrange(0, 30)) + os.urandom(n))
for c in cases:
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(2)
    try:
        s.sendall(c)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
# Many connections at once, never closed until the end.
socks = []
for _ in range(300):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
    except OSError:
        break
    socks.append(s)
for s in socks:
    s.close()
print('sent', len(cases))
PY
ok 'the hostile client ran' grep -q '^sent' "$T/py.out"
ok 'vminit is alive' kill -0 $VMINIT_PID
ok 'and still answers' sh -c "\"$BIN/vmexec\" $SOCK -c nosuch -n -- true 2>&1 | grep -q 'no container nosuch'"
# (Random requests may legitimately have signalled the container.)
is "$(vx -c ctr-$$-h2 --create --rootfs "$LOOP" -n -- echo fresh)" fresh 'and creates new containers'
done_testing
