# cz: Linux containers in lightweight KVM VMs, as small C tools.
# make            build every tool into build/bin
# make check      run all tests (TAP, through prove)
# make bench      run the benchmarks, both sides in one run
# make fuzz       run the fuzzers for a bounded time
# make SAN=1      the same with ASan and UBSan, into build/san
# make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
CC ?= cc
MUSLCC ?= musl-gcc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -fno-strict-aliasing
CPPFLAGS += -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Ilib -MMD -MP
PROVE ?= prove
PROVE_FLAGS ?= --timer

ifeq ($(SAN),1)
BUILD ?= build/san
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
endif

# Every tool is a directory of .c files; these are its libraries.
oci-pull_LIBS = -lcurl -lyajl -lcrypto -lsodium -lpthread
oci-unpack_LIBS = -larchive -lisal -lzstd -lyajl -lcrypto -lsodium -lpthread
mkext4_LIBS = -larchive
vmboot_LIBS = -lyajl -lcrypto -lsodium -lpthread
vmexec_LIBS = -lyajl
netlinkctl_LIBS = -lyajl

HOST_TOOLS := $(foreach t,oci-pull oci-unpack mkext4 vmboot vmexec netlinkctl,$(if $(wildcard $(t)/*.c),$(t)))
BINS := $(HOST_TOOLS:%=$(BUILD)/bin/%)

LIB_SRC := $(wildcard lib/*.c)
# The part of lib/ that vminit links statically against musl: no
# libraries but libc.
LIB_MUSL_SRC := lib/err.c lib/xalloc.c lib/path.c lib/fsutil.c lib/progress.c \
	$(wildcard lib/proto.c lib/netlink.c)
LIB := $(BUILD)/lib/libcz.a
LIB_MUSL := $(BUILD)/musl/libcz.a

# vminit is PID 1 in the guest: static, against musl and lib/ only.
VMINIT := $(if $(wildcard vminit/*.c),$(BUILD)/bin/vminit)

all: $(BINS) $(VMINIT) $(if $(shell command -v $(MUSLCC)),$(LIB_MUSL))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# musl has no Linux UAPI headers of its own: lend it the kernel's.
MUSL_KHDR := $(BUILD)/musl/kernel-headers
$(MUSL_KHDR):
	@mkdir -p $@
	ln -sfn /usr/include/linux $@/linux
	ln -sfn /usr/include/$(shell $(MUSLCC) -print-multiarch)/asm $@/asm
	ln -sfn /usr/include/asm-generic $@/asm-generic

$(BUILD)/musl/obj/%.o: %.c | $(MUSL_KHDR)
	@mkdir -p $(@D)
	$(MUSLCC) $(CPPFLAGS) -isystem $(MUSL_KHDR) -std=c11 -Wall -Wextra -Werror -O2 -static -c -o $@ $<

$(LIB): $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(LIB_MUSL): $(LIB_MUSL_SRC:%.c=$(BUILD)/musl/obj/%.o)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

define tool_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)/*.c)) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$($(1)_LIBS)
endef
$(foreach t,$(HOST_TOOLS),$(eval $(call tool_rule,$(t))))

$(BUILD)/bin/vminit: $(patsubst %.c,$(BUILD)/musl/obj/%.o,$(wildcard vminit/*.c)) $(LIB_MUSL)
	@mkdir -p $(@D)
	$(MUSLCC) -static -o $@ $^

# Unit tests of lib/, in C, printing TAP.
$(BUILD)/tests/lib-test: tests/unit/lib-test.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.a,$^) -lyajl -lcrypto

# Test helpers' own build rules; each fragment may add to CHECK_DEPS.
CHECK_DEPS := $(BUILD)/tests/lib-test
-include $(wildcard tests/*/*.mk)

check: all $(CHECK_DEPS)
	CZ_BIN=$(CURDIR)/$(BUILD)/bin CZ_BUILD=$(CURDIR)/$(BUILD) \
		$(PROVE) $(PROVE_FLAGS) $(if $(TESTS),$(TESTS),tests/*.sh)

bench: all
	@for b in tests/bench/*.sh; do [ -e "$$b" ] || continue; \
		echo "== $$b"; CZ_BIN=$(CURDIR)/$(BUILD)/bin sh "$$b" || exit 1; done

fuzz:
	@for f in tests/fuzz/*.sh; do [ -e "$$f" ] || continue; \
		echo "== $$f"; sh "$$f" || exit 1; done

kernel:
	kernel/build

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	for m in man/*.1; do [ -e "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man1; done; true
	for m in man/*.8; do [ -e "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man8; done; true

clean:
	rm -rf build

.PHONY: all check bench fuzz kernel install clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
