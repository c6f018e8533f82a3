# stages/1-runc: cutaway-runc, the OCI runtime.  Every .c here but main.c
# goes into libcutaway-runc.a so unit tests can link the pure logic.
RUNC_SRCS := $(filter-out stages/1-runc/main.c,$(wildcard stages/1-runc/*.c))
RUNC_LIB  := $(BUILD)/libcutaway-runc.a
ifneq ($(RUNC_SRCS),)
LIBS += $(RUNC_LIB)
endif

$(RUNC_LIB): $(RUNC_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

ifneq ($(wildcard stages/1-runc/main.c),)
BINS += $(BIN)/cutaway-runc
$(BIN)/cutaway-runc: $(BUILD)/stages/1-runc/main.o $$(LIBS)
	@mkdir -p $(BIN)
	$(LINK)
endif
