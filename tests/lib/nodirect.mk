# nodirect.mk: an LD_PRELOAD shim that refuses O_DIRECT
# (tests/pull-no-direct-io.sh). Never sanitized: it is preloaded.
$(BUILD)/tests/nodirect.so: tests/lib/nodirect.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -o $@ $< -ldl

CHECK_DEPS += $(BUILD)/tests/nodirect.so
