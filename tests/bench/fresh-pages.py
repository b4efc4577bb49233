#!/usr/bin/env python3
# fresh-pages.py: touches 128 MiB and exits, so the next VMM started in
# the test host gets fresh pages, as a real host has them. The test host
# runs under TCG, which watches every page it has translated code from
# and pays dearly on the first writes to it: the pages the last guest ran
# its kernel from are freed, and the next VMM to allocate gets them.
# QEMU's own 35 MiB of start-up takes them; vmboot, with under 2 MiB of
# its own, hands them to its guest, whose boot then took 0.3-1 s longer
# (memmap init alone 0.3-0.8 s instead of 0.08 s). Run before each VMM
# launch by bench/vmboot.sh and bench/vm-cold-start.sh, for both sides.
b = bytearray(128 << 20)
for i in range(0, len(b), 4096):
    b[i] = 1
