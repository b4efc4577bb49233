# vminit.mk: vminit built against glibc from the same sources, for host-mode
# tests under valgrind, or under ASan and UBSan with SAN=1
# (tests/vminit-valgrind.sh). The real vminit stays static musl.
VMINIT_GLIBC_SRC := $(wildcard vminit/*.c) $(LIB_MUSL_SRC)
$(BUILD)/tests/vminit-glibc: $(VMINIT_GLIBC_SRC) $(wildcard vminit/*.h lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(CPPFLAGS)) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^)

CHECK_DEPS += $(if $(wildcard vminit/*.c),$(BUILD)/tests/vminit-glibc)
