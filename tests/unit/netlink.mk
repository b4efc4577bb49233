# netlink.mk: lib/netlink's fake-kernel unit test (tests/netlinkctl-fake-kernel.sh).
$(BUILD)/tests/netlink-test: tests/unit/netlink-test.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.a,$^)

CHECK_DEPS += $(BUILD)/tests/netlink-test
