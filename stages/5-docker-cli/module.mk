# stages/5-docker-cli: cutaway, the docker-compatible CLI (talks the Docker
# Engine API v1.41 to cutawayd or a real dockerd over a unix socket).  Every
# .c here but cutaway_main.c goes into libcutaway-cli.a so unit tests can
# link the pure logic (tables, sizes, references, stdcopy, flags).
CLI_DIR   := stages/5-docker-cli
CLI_MAINS := $(CLI_DIR)/cutaway_main.c
CLI_SRCS  := $(filter-out $(CLI_MAINS),$(wildcard $(CLI_DIR)/*.c))
CLI_LIB   := $(BUILD)/libcutaway-cli.a
ifneq ($(CLI_SRCS),)
LIBS += $(CLI_LIB)
endif

$(CLI_LIB): $(CLI_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

ifneq ($(wildcard $(CLI_DIR)/cutaway_main.c),)
BINS += $(BIN)/cutaway
$(BIN)/cutaway: $(BUILD)/$(CLI_DIR)/cutaway_main.o $$(LIBS)
	@mkdir -p $(BIN)
	$(LINK)
endif
