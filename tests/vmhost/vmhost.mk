# tests/vmhost/vmhost.mk: the KVM test helpers, included by the top Makefile.
#   make vmhost-tools    build/tests/kvmprobe and build/tests/kvmloop
VMHOST_CFLAGS = -std=c11 -Wall -Wextra -Werror -O2

vmhost-tools: build/tests/kvmprobe build/tests/kvmloop

build/tests/kvmprobe: tests/vmhost/kvmprobe.c
	@mkdir -p build/tests
	$(CC) $(VMHOST_CFLAGS) -o $@ tests/vmhost/kvmprobe.c

build/tests/kvmloop: tests/vmhost/kvmloop.c
	@mkdir -p build/tests
	$(CC) $(VMHOST_CFLAGS) -o $@ tests/vmhost/kvmloop.c

.PHONY: vmhost-tools
