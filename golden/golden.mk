# golden/: the C golden model (library libmpq.a + CLI mpq-golden) and its tests.
# The library is built from its rooms, lowest first (golden/README.md): arith/ (numbers,
# requantizer, MAC engine, layers), contract/ (the interface tables and configuration),
# cycle/ (the cycle model: the C twins of the RTL units), stim/ (layers in the hardware's
# terms, the driver, vector and case files), net/ (real networks: the .tflite reader and the
# graph runner). CLI: golden/cli/cli_*.c (cli_main.c dispatches).
# Tests: every golden/tests/test_*.c is one program; each is one line of `make test`.
# Includes name the room: #include "arith/mpq.h" (-Igolden).

GOLDEN_ROOMS := arith contract cycle stim net export dut explore
GOLDEN_LIB_SRCS := $(foreach r,$(GOLDEN_ROOMS),$(sort $(wildcard golden/$(r)/mpq_*.c)))
GOLDEN_HDRS := $(foreach r,$(GOLDEN_ROOMS) cli,$(wildcard golden/$(r)/*.h))
GOLDEN_CLI_SRCS := $(sort $(wildcard golden/cli/cli_*.c))
GOLDEN_TEST_SRCS := $(sort $(wildcard golden/tests/test_*.c))

GOLDEN_LIB := $(BUILD)/libmpq.a
GOLDEN_BIN := $(BUILD)/mpq-golden
GOLDEN_TEST_BINS := $(patsubst golden/tests/%.c,$(BUILD)/golden-tests/%,$(GOLDEN_TEST_SRCS))
GOLDEN_ORACLES ?= ../shared/oracles

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(GOLDEN_LIB): $(patsubst %.c,$(BUILD)/obj/%.o,$(GOLDEN_LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(GOLDEN_BIN): $(patsubst %.c,$(BUILD)/obj/%.o,$(GOLDEN_CLI_SRCS)) $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/golden-tests/%: $(BUILD)/obj/golden/tests/%.o $(GOLDEN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

.PHONY: golden test-golden test-oracles
golden: $(GOLDEN_BIN)

# One `make test` line per unit-test program.
GOLDEN_TEST_NAMES := $(patsubst golden/tests/%.c,golden/%,$(GOLDEN_TEST_SRCS))
.PHONY: $(GOLDEN_TEST_NAMES)
$(GOLDEN_TEST_NAMES): golden/%: $(BUILD)/golden-tests/% $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results golden/$* -- $(BUILD)/golden-tests/$*

# The oracle cases live beside the project (../shared/oracles), never inside it: one test
# line per folder (make oracles/cmsis-nn, make oracles/cmsis-nn-conv), each skipped with a
# notice when its folder is absent.
GOLDEN_ORACLE_SETS := cmsis-nn cmsis-nn-conv
.PHONY: $(addprefix oracles/,$(GOLDEN_ORACLE_SETS))
$(addprefix oracles/,$(GOLDEN_ORACLE_SETS)): oracles/%: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results oracles/$* -- scripts/golden/run-oracles.sh $(GOLDEN_BIN) $(GOLDEN_ORACLES)/$*
test-oracles: $(addprefix oracles/,$(GOLDEN_ORACLE_SETS))

# The command line, end to end.
.PHONY: golden/cli-case
golden/cli-case: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results golden/cli-case -- golden/tests/cli-case.sh $(GOLDEN_BIN) $(BUILD)/tmp/cli-case

# mpq-golden gen: estimate, limits, option ranges, progress, signals (issue 14, item 3).
.PHONY: golden/cli-gen
golden/cli-gen: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results golden/cli-gen -- golden/tests/cli-gen.sh $(GOLDEN_BIN) $(BUILD)/tmp/cli-gen

# mpq-golden model: run and info on small models test_tflite writes, refusals (issue 25).
.PHONY: golden/cli-model
golden/cli-model: $(GOLDEN_BIN) $(BUILD)/golden-tests/test_tflite
	@scripts/check.sh $(BUILD)/results golden/cli-model -- golden/tests/cli-model.sh $(GOLDEN_BIN) $(BUILD)/golden-tests/test_tflite $(BUILD)/tmp/cli-model

# The plain C twins of the SSE2 kernels (built with -DMPQ_NO_SIMD), checked by the layer
# tests against their naive references, so that a machine without SSE2 computes the same.
# The library is compiled once for them (BUILD/nosimd/obj, the flags of BUILD/obj but
# -DMPQ_NO_SIMD), each test linked against it.
GOLDEN_NOSIMD_TESTS := test_fc test_conv test_tflite
GOLDEN_NOSIMD_OBJS := $(patsubst %.c,$(BUILD)/nosimd/obj/%.o,$(GOLDEN_LIB_SRCS))
$(BUILD)/nosimd/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DMPQ_NO_SIMD -c $< -o $@
$(BUILD)/nosimd/test_%: $(BUILD)/nosimd/obj/golden/tests/test_%.o $(GOLDEN_NOSIMD_OBJS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
.PHONY: golden/nosimd golden-nosimd-run
golden/nosimd:
	@scripts/check.sh $(BUILD)/results golden/nosimd -- $(MAKE) --no-print-directory -s golden-nosimd-run
golden-nosimd-run: $(addprefix $(BUILD)/nosimd/,$(GOLDEN_NOSIMD_TESTS))
	@set -eo pipefail; for t in $(GOLDEN_NOSIMD_TESTS); do $(BUILD)/nosimd/$$t | tail -n 1; done

TEST_TARGETS += $(GOLDEN_TEST_NAMES) golden/cli-case golden/cli-gen golden/cli-model golden/nosimd $(addprefix oracles/,$(GOLDEN_ORACLE_SETS))

# Keep intermediate objects (test programs are built through pattern rules).
.SECONDARY:

-include $(shell find $(BUILD)/obj $(BUILD)/nosimd/obj $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)

# Benchmark of the functional model (part of `make bench`; its results go to BENCH_OUT).
BENCH_OUT ?= $(BUILD)/bench
BENCH_GOLDEN_REPS ?= 15
$(BUILD)/bench_golden: $(BUILD)/obj/golden/bench/bench_golden.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
.PHONY: bench-golden
bench-golden: $(BUILD)/bench_golden
	@mkdir -p $(BENCH_OUT)
	$(BUILD)/bench_golden --reps $(BENCH_GOLDEN_REPS) --json $(BENCH_OUT)/golden.json

# The layer kernels are the model's hot loops: let the compiler vectorize them.
# (The same flags for the library's plain-C build, BUILD/nosimd/obj.)
GOLDEN_OBJ_DIRS := $(BUILD)/obj $(BUILD)/nosimd/obj
$(foreach d,$(GOLDEN_OBJ_DIRS),$(d)/golden/arith/mpq_mac.o $(d)/golden/arith/mpq_mac_tile.o): CFLAGS += -O3
$(foreach d,$(GOLDEN_OBJ_DIRS),$(d)/golden/arith/mpq_layer.o $(d)/golden/arith/mpq_requant.o): CFLAGS += -O3
$(foreach d,$(GOLDEN_OBJ_DIRS),$(d)/golden/arith/mpq_conv.o): CFLAGS += -O3
# ABFP's float steps are specified operation by operation (mpq_abfp.h): no contraction into FMA.
$(foreach d,$(GOLDEN_OBJ_DIRS),$(d)/golden/arith/mpq_abfp.o): CFLAGS += -O3 -ffp-contract=off
$(foreach d,$(GOLDEN_OBJ_DIRS),$(d)/golden/net/mpq_fgraph.o): CFLAGS += -ffp-contract=off
# The cycle model's per-cycle lane sums (lockstep co-simulation runs it every cycle).
$(foreach d,$(GOLDEN_OBJ_DIRS),$(d)/golden/cycle/mpq_top.o $(d)/golden/cycle/mpq_lane.o): CFLAGS += -O3

# Vector-file cost: size against the gzip of the raw payload, read/write speed (make bench).
$(BUILD)/bench_vec: $(BUILD)/obj/golden/bench/bench_vec.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
.PHONY: bench-vec
bench-vec: $(BUILD)/bench_vec
	@mkdir -p $(BENCH_OUT)
	$(BUILD)/bench_vec --json $(BENCH_OUT)/vec.json

# ABFP (golden/arith/mpq_abfp.h): the driver that dumps random layers and the golden model's
# outputs; golden/abfp-numpy checks them against the independent NumPy reference
# (golden/tests/abfp_ref.py, Debian's python3-numpy: scripts/install-deps.sh numpy);
# golden/abfp-repro builds the driver with gcc and clang at -O0 and -O2 and compares the bytes.
ABFP_PYTHON ?= /usr/bin/python3
$(BUILD)/abfp_dump: $(BUILD)/obj/golden/tests/abfp_dump.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
.PHONY: golden/abfp-numpy golden/abfp-repro
golden/abfp-numpy: $(BUILD)/abfp_dump
	@scripts/check.sh $(BUILD)/results golden/abfp-numpy -- bash -c 'set -o pipefail; mkdir -p $(BUILD)/tmp && \
	  $(BUILD)/abfp_dump >$(BUILD)/tmp/abfp-dump.txt && $(ABFP_PYTHON) golden/tests/abfp_ref.py $(BUILD)/tmp/abfp-dump.txt'
golden/abfp-repro: $(BUILD)/abfp_dump
	@scripts/check.sh $(BUILD)/results golden/abfp-repro -- golden/tests/abfp-repro.sh $(BUILD)/abfp_dump $(BUILD)/tmp/abfp-repro
TEST_TARGETS += golden/abfp-numpy golden/abfp-repro
# Real models on the ABFP array (mpq-golden model abfp; docs/abfp.md, "Real models"): the float
# runner's logits equal LiteRT's float kernels on four float twins, the analog array's
# properties (6 dB per ADC bit, saturation, 16-bit limit), noise seeds, refusals.
.PHONY: golden/abfp-models
golden/abfp-models: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results golden/abfp-models -- bash -c '\
	  py=$$(scripts/models/venv.sh) && scripts/models/fetch.sh $(MODELS_DIR) && \
	  "$$py" golden/tests/abfp_models.py $(GOLDEN_BIN) $(MODELS_DIR) $(BUILD)/tmp/abfp-models'
TEST_TARGETS += golden/abfp-models
# The float runner and the ABFP arrays on real models give the same bytes with gcc and clang at
# -O0 and -O2 and without SIMD (golden/tests/fgraph-repro.sh).
$(BUILD)/fgraph_dump: $(BUILD)/obj/golden/tests/fgraph_dump.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
.PHONY: golden/abfp-models-repro
golden/abfp-models-repro: $(BUILD)/fgraph_dump
	@scripts/check.sh $(BUILD)/results golden/abfp-models-repro -- bash -c '\
	  scripts/models/fetch.sh $(MODELS_DIR) && \
	  golden/tests/fgraph-repro.sh $(BUILD)/fgraph_dump $(MODELS_DIR) $(BUILD)/tmp/fgraph-repro'
TEST_TARGETS += golden/abfp-models-repro
# make abfp-models: the ABFP study on real models (scripts/abfp-models.sh; docs/abfp.md, "Real
# models"): SQNR of the logits against float versus n, bits, b_out, gain, fixed point, the best
# gain per layer; tables in $(ABFP_MODELS_OUT)/models.md, plots abfp-models-*.png.
ABFP_MODELS_OUT ?= $(BUILD)/abfp-models
ABFP_MODELS_RUNS ?= 16
.PHONY: abfp-models
abfp-models: $(GOLDEN_BIN)
	@scripts/models/fetch.sh $(MODELS_DIR)
	@ABFP_MODELS_RUNS=$(ABFP_MODELS_RUNS) scripts/abfp-models.sh $(GOLDEN_BIN) $(MODELS_DIR) $(ABFP_MODELS_OUT)

# ABFP emulation against the integer golden model on the same layers (make bench).
$(BUILD)/bench_abfp: $(BUILD)/obj/golden/bench/bench_abfp.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
.PHONY: bench-abfp
bench-abfp: $(BUILD)/bench_abfp
	@mkdir -p $(BENCH_OUT)
	$(BUILD)/bench_abfp --reps $(BENCH_GOLDEN_REPS) --json $(BENCH_OUT)/abfp.json

# The golden model inside other testbenches: DPI-C, ctypes, cocotb (golden/export/export.mk).
include golden/export/export.mk

# The design space and exact cost of a layer (golden/explore, docs/explore.md): closed-form
# points per second on one core and the cycle model's time per point (make bench); every
# wheel model's MAC layers, closed form against model map's executor (make test).
$(BUILD)/bench_explore: $(BUILD)/obj/golden/bench/bench_explore.o $(BUILD)/obj/golden/cli/cli_text.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/obj/golden/explore/mpq_explore.o: CFLAGS += -O3
BENCH_EXPLORE_ARGS ?= $(if $(BENCH_QUICK),--seconds 0.05 --sim-stride 20000,--seconds 2 --sim-stride 210)
.PHONY: bench-explore explore/models
bench-explore: $(BUILD)/bench_explore
	@mkdir -p $(BENCH_OUT)
	$(BUILD)/bench_explore $(BENCH_EXPLORE_ARGS) --json $(BENCH_OUT)/explore.json
explore/models: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results explore/models -- bash -c '\
	  scripts/models/fetch.sh $(MODELS_DIR) && scripts/golden/explore-models.sh $(GOLDEN_BIN) $(MODELS_DIR)'
TEST_TARGETS += explore/models
# A sample of design points on the RTL: each hardware layer in lockstep with the cycle model,
# its counts against the closed form (scripts/golden/explore-rtl.sh; EXPLORE_SEED reproduces).
# The white-box build: the RTL's access counters (dbg_counts_o) against the cycle model's and
# the closed form's, each layer again with stalls.
.PHONY: explore/rtl
explore/rtl: $(GOLDEN_BIN) $(BUILD)/vl/default/wb/mpq-tb
	@scripts/check.sh $(BUILD)/results explore/rtl -- env EXPLORE_COUNTERS=1 EXPLORE_STALLS=1 \
	  scripts/golden/explore-rtl.sh $(GOLDEN_BIN) $(BUILD)/vl/default/wb/mpq-tb default 3
TEST_TARGETS += explore/rtl
