# stages/3-containerd: cutaway-containerd (the daemon), cutaway-shim (one
# per container) and cutaway-ctr (the client).  Every .c here but the three
# mains goes into libcutaway-containerd.a so unit tests can link the pure
# logic (spec building, seccomp rendering, chain IDs).
CTD_DIR   := stages/3-containerd
CTD_MAINS := $(CTD_DIR)/containerd_main.c $(CTD_DIR)/shim_main.c $(CTD_DIR)/ctr_main.c
CTD_SRCS  := $(filter-out $(CTD_MAINS),$(wildcard $(CTD_DIR)/*.c))
CTD_LIB   := $(BUILD)/libcutaway-containerd.a
ifneq ($(CTD_SRCS),)
LIBS += $(CTD_LIB)
endif

$(CTD_LIB): $(CTD_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

ifneq ($(wildcard $(CTD_DIR)/containerd_main.c),)
BINS += $(BIN)/cutaway-containerd
$(BIN)/cutaway-containerd: $(BUILD)/$(CTD_DIR)/containerd_main.o $$(LIBS)
	@mkdir -p $(BIN)
	$(LINK)
endif

BINS += $(BIN)/cutaway-shim
$(BIN)/cutaway-shim: $(BUILD)/$(CTD_DIR)/shim_main.o $$(LIBS)
	@mkdir -p $(BIN)
	$(LINK)

ifneq ($(wildcard $(CTD_DIR)/ctr_main.c),)
BINS += $(BIN)/cutaway-ctr
$(BIN)/cutaway-ctr: $(BUILD)/$(CTD_DIR)/ctr_main.o $$(LIBS)
	@mkdir -p $(BIN)
	$(LINK)
endif
