# scripts/fuzz/fuzz.mk: reliability targets: fuzzing (libFuzzer, clang from Debian), sanitizer builds.
# Every golden/fuzz/fuzz_NAME.c is one libFuzzer target, seeded from golden/fuzz/corpus/NAME/.

FUZZ_SRCS := $(sort $(wildcard golden/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst golden/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_COMMON := -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -Igolden -fno-sanitize-recover=all
FUZZ_FLAGS := $(FUZZ_COMMON) -fsanitize=fuzzer,address,undefined
# The library's objects: the same instrumentation, without libFuzzer's main.
FUZZ_OBJ_FLAGS := $(FUZZ_COMMON) -fsanitize=fuzzer-no-link,address,undefined

# The library is compiled once with the fuzzer's instrumentation (BUILD/fuzz/obj), and each
# target links against it. clang and its libFuzzer are installed first (fuzz-deps).
FUZZ_LIB_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(GOLDEN_LIB_SRCS))
.PHONY: fuzz-deps
fuzz-deps:
	@scripts/install-deps.sh fuzz
$(BUILD)/fuzz/obj/%.o: %.c | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_OBJ_FLAGS) -MMD -MP -c $< -o $@
$(BUILD)/fuzz/fuzz_%: golden/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS) | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_LIB_OBJS) -lz -lm -o $@

.PHONY: fuzz fuzz-build
fuzz-build: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_NAMES))

# make fuzz: each target for FUZZ_SECONDS, on a copy of its seed corpus under build/.
fuzz: fuzz-build
	@set -e; for n in $(FUZZ_NAMES); do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$n $(BUILD)/fuzz/artifacts-$$n; \
	  cp -n golden/fuzz/corpus/$$n/* $(BUILD)/fuzz/corpus-$$n/ 2>/dev/null || true; \
	  echo "fuzz $$n: $(FUZZ_SECONDS) s, corpus $(BUILD)/fuzz/corpus-$$n"; \
	  $(BUILD)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts-$$n/ -print_final_stats=1 \
	    $(BUILD)/fuzz/corpus-$$n 2>&1 | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==|SUMMARY|Done)' || true; \
	  test -z "$$(ls -A $(BUILD)/fuzz/artifacts-$$n)" || { echo "fuzz $$n: crash inputs in $(BUILD)/fuzz/artifacts-$$n"; exit 1; }; \
	done; echo "fuzz: no crash, no leak, no hang"

# The smoke run of `make test`: 15 s per target (skipped when clang's libFuzzer is absent).
FUZZ_SMOKE_NAMES := $(addprefix fuzz/smoke-,$(FUZZ_NAMES))
.PHONY: $(FUZZ_SMOKE_NAMES)
$(FUZZ_SMOKE_NAMES): fuzz/smoke-%: $(BUILD)/fuzz/fuzz_%
	@scripts/check.sh $(BUILD)/results fuzz/smoke-$* -- scripts/fuzz/fuzz-smoke.sh $* $(BUILD) 15
TEST_TARGETS += $(FUZZ_SMOKE_NAMES)

# Sanitizers inside `make test`: the golden unit tests and CLI rebuilt with ASan + UBSan.
.PHONY: san/golden
san/golden:
	@scripts/check.sh $(BUILD)/results san/golden -- $(MAKE) --no-print-directory -s SAN=1 san-golden-run
.PHONY: san-golden-run
san-golden-run: $(GOLDEN_TEST_BINS) $(GOLDEN_BIN)
	@set -e; for t in $(GOLDEN_TEST_BINS); do echo "== $$t"; $$t | tail -n 1; done
	golden/tests/cli-case.sh $(GOLDEN_BIN) $(BUILD)/tmp/cli-case
	golden/tests/cli-gen.sh $(GOLDEN_BIN) $(BUILD)/tmp/cli-gen | tail -n 1
	golden/tests/cli-model.sh $(GOLDEN_BIN) $(BUILD)/golden-tests/test_tflite $(BUILD)/tmp/cli-model
ifneq ($(SAN),1)
TEST_TARGETS += san/golden
endif
