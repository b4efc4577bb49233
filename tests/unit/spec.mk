# spec.mk: lib/spec's unit test (tests/vmexec-spec-parse.sh).
$(BUILD)/tests/spec-test: tests/unit/spec-test.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.a,$^) -lyajl

CHECK_DEPS += $(BUILD)/tests/spec-test
