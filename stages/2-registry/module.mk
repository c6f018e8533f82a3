# stages/2-registry: cutaway-image, the registry client and OCI image store.
# Every .c here but main.c goes into libcutaway-registry.a: stage 3
# (cutaway-containerd) links it to pull images, and the unit tests link the
# pure logic (references, manifests, auth challenges).
REGISTRY_DIR  := stages/2-registry
REGISTRY_SRCS := $(filter-out $(REGISTRY_DIR)/main.c,$(wildcard $(REGISTRY_DIR)/*.c))
REGISTRY_LIB  := $(BUILD)/libcutaway-registry.a
ifneq ($(REGISTRY_SRCS),)
LIBS += $(REGISTRY_LIB)
endif

$(REGISTRY_LIB): $(REGISTRY_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

ifneq ($(wildcard $(REGISTRY_DIR)/main.c),)
BINS += $(BIN)/cutaway-image
$(BIN)/cutaway-image: $(BUILD)/$(REGISTRY_DIR)/main.o $$(LIBS)
	@mkdir -p $(BIN)
	$(LINK)
endif

# Test helpers: a token issuer (and misbehaving registry) for the registry
# integration tests, built to build/tests/helpers/.
REGISTRY_HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(wildcard tests/helpers/registry_*.c))
BINS += $(REGISTRY_HELPERS)
$(BUILD)/tests/helpers/registry_%: $(BUILD)/tests/helpers/registry_%.o $$(LIBS)
	@mkdir -p $(dir $@)
	$(LINK)
