# tests/: C unit tests are tests/unit/<module>_<topic>.c, each its own TAP
# program linked against every library; the integration tests are the
# tests/*.t scripts.  scripts/run-tests.sh runs them all under prove.
UNIT_SRCS  := $(wildcard tests/unit/*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $$(LIBS)
	@mkdir -p $(dir $@)
	$(LINK)
