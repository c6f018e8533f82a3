# tracing/: the trace library every component links, and cutaway-trace.
TRACING_SRCS := $(wildcard tracing/*.c)
TRACING_LIB  := $(BUILD)/libcutaway-tracing.a
LIBS         += $(TRACING_LIB)

$(TRACING_LIB): $(TRACING_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

TRACE_CLI_SRCS := $(wildcard tracing/cli/*.c)
BINS += $(BIN)/cutaway-trace
$(BIN)/cutaway-trace: $(TRACE_CLI_SRCS:%.c=$(BUILD)/%.o) $$(LIBS)
	@mkdir -p $(BIN)
	$(LINK)
