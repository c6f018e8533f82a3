# stages/4-dockerd: cutawayd, the Docker Engine API (v1.41) on a unix socket,
# standing on cutaway-containerd.  Every .c here but cutawayd_main.c goes
# into libcutaway-dockerd.a so unit tests can link the pure logic (the API's
# JSON mapping, stdcopy framing, networking).
DKD_DIR   := stages/4-dockerd
DKD_MAINS := $(DKD_DIR)/cutawayd_main.c
DKD_SRCS  := $(filter-out $(DKD_MAINS),$(wildcard $(DKD_DIR)/*.c))
DKD_LIB   := $(BUILD)/libcutaway-dockerd.a
ifneq ($(DKD_SRCS),)
LIBS += $(DKD_LIB)
endif

$(DKD_LIB): $(DKD_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

ifneq ($(wildcard $(DKD_DIR)/cutawayd_main.c),)
BINS += $(BIN)/cutawayd
$(BIN)/cutawayd: $(BUILD)/$(DKD_DIR)/cutawayd_main.o $$(LIBS)
	@mkdir -p $(BIN)
	$(LINK)
endif
