# common/: the library every cutaway binary links (errors, JSON, files,
# digests, processes, threads).
COMMON_SRCS := $(wildcard common/*.c)
COMMON_LIB  := $(BUILD)/libcutaway-common.a
LIBS        += $(COMMON_LIB)

$(COMMON_LIB): $(COMMON_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^
