# ipam.mk: vmboot's --net bridge= option parser and address allocator
# (tests/unit/ipam-test.c; tests/vmnet-*.sh).
$(BUILD)/tests/ipam-test: tests/unit/ipam-test.c vmboot/ipam.c vmboot/netbridge.c \
		vmboot/ipam.h vmboot/netbridge.h vmboot/guestnet.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ivmboot $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.a,$^)

CHECK_DEPS += $(BUILD)/tests/ipam-test
