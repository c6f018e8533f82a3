# tracing/: the trace library every component links, and cutaway-trace.
TRACING_SRCS := $(wildcard tracing/*.c)
TRACING_LIB  := $(BUILD)/libcutaway-tracing.a
LIBS         += $(TRACING_LIB)

$(TRACING_LIB): $(TRACING_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

# The reading side (trace file reader, span model, views): only
# cutaway-trace and the unit tests pull objects from it.
TRACEVIEWS_SRCS := $(wildcard tracing/views/*.c)
TRACEVIEWS_LIB  := $(BUILD)/libcutaway-traceviews.a
LIBS            += $(TRACEVIEWS_LIB)

$(TRACEVIEWS_LIB): $(TRACEVIEWS_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

TRACE_CLI_SRCS := $(wildcard tracing/cli/*.c)
BINS += $(BIN)/cutaway-trace
# cutaway-trace links only the libraries it uses, so a stage that does not
# build yet never keeps the trace tools from building.
TRACE_CLI_LIBS := $(TRACEVIEWS_LIB) $(TRACING_LIB) $(COMMON_LIB)
$(BIN)/cutaway-trace: $(TRACE_CLI_SRCS:%.c=$(BUILD)/%.o) $(TRACE_CLI_LIBS)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(TRACE_CLI_LIBS) -Wl,--end-group \
	  $(LDLIBS)
