# tests/vmboot/vmboot.mk: vmboot's test programs, included by the top
# Makefile (guarded, so `make -f Makefile -f tests/vmboot/vmboot.mk` also
# works before it is).
#   make vmboot-tests   $(BUILD)/tests/virtq-test     driver-side device tests (TAP)
#                       $(BUILD)/tests/vmboot-peer    host side of the VM tests
#                       $(BUILD)/tests/vmboot-testinit  static musl init for the guest
#   make vmboot-fuzz    $(BUILD)/fuzz/vmboot-virtq    libFuzzer target (clang)
ifndef VMBOOT_MK_INCLUDED
VMBOOT_MK_INCLUDED := 1

# The devices without the command line (main.c) and the container runner.
VMBOOT_DEV_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out vmboot/main.c vmboot/container.c,$(wildcard vmboot/*.c)))

vmboot-tests: $(BUILD)/tests/virtq-test $(BUILD)/tests/vmboot-peer \
	$(BUILD)/tests/vmboot-testinit

$(BUILD)/tests/virtq-test: tests/vmboot/virtq-test.c $(VMBOOT_DEV_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ivmboot $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(vmboot_LIBS)

$(BUILD)/tests/vmboot-peer: tests/vmboot/peer.c tests/vmboot/sha256.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ tests/vmboot/peer.c -lpthread

# The guest's init: static, musl, no sanitizers (it runs in the guest).
$(BUILD)/tests/vmboot-testinit: tests/vmboot/testinit.c tests/vmboot/sha256.h | $(MUSL_KHDR)
	@mkdir -p $(@D)
	$(MUSLCC) -D_GNU_SOURCE -isystem $(MUSL_KHDR) -std=c11 -Wall -Wextra \
		-Werror -O2 -static -o $@ tests/vmboot/testinit.c

FUZZ_CC ?= clang
vmboot-fuzz: $(BUILD)/fuzz/vmboot-virtq

$(BUILD)/fuzz/vmboot-virtq: tests/fuzz/vmboot-virtq.c vmboot/virtq.c vmboot/virtq.h vmboot/gmem.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -Ivmboot \
		-fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/vmboot-virtq.c vmboot/virtq.c

.PHONY: vmboot-tests vmboot-fuzz
endif
