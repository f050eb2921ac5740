# tb/: the C testbench over the Verilated accelerator. Included by the top Makefile.
# $(BUILD)/vl/<CONFIG>/plain/mpq-tb   fast build, every co-simulation run
# $(BUILD)/vl/<CONFIG>/trace/mpq-tb   traced build (FST + expected values), used only to
#                                     write the waveform of a mismatch trace
TB_C_SRCS := tb/mpq_tb.c tb/tb_pipe.c tb/tb_report.c
TB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TB_C_SRCS))
TB_DEPS := $(RTL_SRCS) $(RTL_VLT) tb/mpq_dut.cpp tb/mpq_dut.h tb/build-model.sh $(TB_OBJS) $(GOLDEN_LIB)
TRACES ?= $(BUILD)/traces

$(BUILD)/obj/tb/%.o: CPPFLAGS += -Itb
# Report strings are bounded on purpose; truncating a very long path is fine.
$(BUILD)/obj/tb/%.o: CFLAGS += -Wno-format-truncation

# One model per configuration and kind, rebuilt when the RTL, the shim or the cfg changes.
$(BUILD)/vl/%/plain/mpq-tb: $(TB_DEPS) rtl/cfg/%.cfg
	@echo "verilator: $* (plain)"
	@TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
	  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" \
	  tb/build-model.sh $* plain $(BUILD)/vl/$*/plain rtl
$(BUILD)/vl/%/trace/mpq-tb: $(TB_DEPS) tb/mpq_tb_top.sv rtl/cfg/%.cfg
	@echo "verilator: $* (traced)"
	@TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
	  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" \
	  tb/build-model.sh $* trace $(BUILD)/vl/$*/trace rtl

TB_BIN = $(BUILD)/vl/$(CONFIG)/plain/mpq-tb
TB_TRACE_BIN = $(BUILD)/vl/$(CONFIG)/trace/mpq-tb
.PHONY: tb tb-trace sim wave
tb: $(TB_BIN)
tb-trace: $(TB_TRACE_BIN)

# make sim: the committed regression vectors of CONFIG plus a few lockstep layers (random
# timing), or VEC=file, or SEED=n (lockstep with that seed).
SIM_VECS = $(if $(VEC),$(VEC),$(filter vectors/regress/$(CONFIG)-%,$(REGRESS_VECS)))
SIM_ARGS = --config rtl/cfg/$(CONFIG).cfg --trace-dir $(TRACES) --junit $(BUILD)/sim-junit.xml
sim: $(TB_BIN) $(TB_TRACE_BIN) $(GOLDEN_BIN)
	@set -e; mkdir -p $(TRACES); \
	if [ -n "$(SEED)" ]; then \
	  $(TB_BIN) lockstep --seed $(SEED) --runs 8 $(SIM_ARGS); \
	elif [ -n "$(SIM_VECS)" ]; then \
	  $(TB_BIN) replay $(SIM_VECS) $(SIM_ARGS) --name $(CONFIG) && \
	  $(TB_BIN) lockstep --seed 1 --runs 8 $(SIM_ARGS) --name $(CONFIG) --junit $(BUILD)/sim-junit-lockstep.xml; \
	else \
	  mkdir -p $(BUILD)/sim-vectors; \
	  $(GOLDEN_BIN) gen -q --config $(CONFIG) --seed 1 --m 16 --k 100 --n 20 --p-valid 0.8 --p-ready 0.7 \
	    -o $(BUILD)/sim-vectors/$(CONFIG)-random.vec; \
	  $(TB_BIN) replay $(BUILD)/sim-vectors/$(CONFIG)-random.vec $(SIM_ARGS) --name $(CONFIG) && \
	  $(TB_BIN) lockstep --seed 1 --runs 8 $(SIM_ARGS) --name $(CONFIG) --junit $(BUILD)/sim-junit-lockstep.xml; \
	fi

# make wave: open the newest mismatch trace.
wave:
	@last=$$(ls -td $(TRACES)/*/ 2>/dev/null | head -1); \
	if [ -z "$$last" ]; then echo "make wave: no mismatch trace under $(TRACES)"; exit 1; fi; \
	echo "mismatch trace: $$last"; cat "$$last/report.txt"; \
	if [ -n "$$DISPLAY" ] && ! command -v gtkwave >/dev/null 2>&1; then scripts/install-deps.sh wave || true; fi; \
	if command -v gtkwave >/dev/null 2>&1 && [ -n "$$DISPLAY" ]; then gtkwave "$$last/wave.gtkw" & \
	else echo "open it with: gtkwave $${last}wave.gtkw   (or: surfer $${last}wave.fst)"; fi

# --- Co-simulation regression in `make test` --------------------------------------------------
# Every configuration with committed vectors replays them; every configuration also runs
# lockstep layers from fixed seeds (TB_SEED moves them) with light and heavy back-pressure.
TB_REGRESS_CFGS := $(sort $(foreach v,$(REGRESS_VECS),$(firstword $(subst -, ,$(notdir $(v))))))
TB_LOCKSTEP_CFGS := $(RTL_CFGS)
TB_SEED ?= 1000
TB_RUNS ?= 200
tb_bin = $(BUILD)/vl/$(1)/plain/mpq-tb
tb_common = --config rtl/cfg/$(1).cfg --trace-dir $(TRACES) --junit $(BUILD)/junit/$(2).xml --name $(1) -q

.PHONY: $(addprefix tb/regress/,$(TB_REGRESS_CFGS))
$(addprefix tb/regress/,$(TB_REGRESS_CFGS)): tb/regress/%: $(BUILD)/vl/%/plain/mpq-tb $(BUILD)/vl/%/trace/mpq-tb
	@mkdir -p $(BUILD)/junit
	@scripts/check.sh $(BUILD)/results tb/regress/$* -- $(call tb_bin,$*) replay \
	  $(filter vectors/regress/$*-%,$(REGRESS_VECS)) $(call tb_common,$*,regress-$*)

.PHONY: $(addprefix tb/lockstep/,$(TB_LOCKSTEP_CFGS)) $(addprefix tb/backpressure/,$(TB_LOCKSTEP_CFGS))
$(addprefix tb/lockstep/,$(TB_LOCKSTEP_CFGS)): tb/lockstep/%: $(BUILD)/vl/%/plain/mpq-tb $(BUILD)/vl/%/trace/mpq-tb
	@mkdir -p $(BUILD)/junit
	@scripts/check.sh $(BUILD)/results tb/lockstep/$* -- $(call tb_bin,$*) lockstep \
	  --seed $(TB_SEED) --runs $(TB_RUNS) $(call tb_common,$*,lockstep-$*)
$(addprefix tb/backpressure/,$(TB_LOCKSTEP_CFGS)): tb/backpressure/%: $(BUILD)/vl/%/plain/mpq-tb $(BUILD)/vl/%/trace/mpq-tb
	@mkdir -p $(BUILD)/junit
	@scripts/check.sh $(BUILD)/results tb/backpressure/$* -- $(call tb_bin,$*) lockstep \
	  --seed $$(( $(TB_SEED) + 5000 )) --runs $(TB_RUNS) --p-valid 0.4 --p-ready 0.25 $(call tb_common,$*,backpressure-$*)

TEST_TARGETS += $(addprefix tb/regress/,$(TB_REGRESS_CFGS)) $(addprefix tb/lockstep/,$(TB_LOCKSTEP_CFGS)) \
  $(addprefix tb/backpressure/,$(TB_LOCKSTEP_CFGS))

# Bad input: every kind of broken vector file is refused with a message naming it, exit 2.
.PHONY: tb/bad-input
tb/bad-input: $(BUILD)/vl/default/plain/mpq-tb $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results tb/bad-input -- tb/tests/bad-input.sh \
	  $(BUILD)/vl/default/plain/mpq-tb $(GOLDEN_BIN) $(BUILD)/tmp/tb-bad-input
TEST_TARGETS += tb/bad-input

# --- Mutation testing -------------------------------------------------------------------------
# make mutate: every mutant of scripts/mutants.tsv (MUTANTS="a b" for some), table + traces
# under $(BUILD)/mutate. The fast subset in `make test` (MUTANTS_FAST) includes the lane-2
# sign error and checks that its trace names lane 2 and the first wrong cycle.
MUTANTS ?=
MUTANTS_FAST := lane2-tern-sign sparse-idx-plus1 sat-max-off-by-one out-changes-while-stalled \
  act-ready-ignores-pipe srdhm-tie
MUTATE_ENV = TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)"
.PHONY: mutate
mutate: $(TB_OBJS) $(GOLDEN_LIB)
	@$(MUTATE_ENV) scripts/mutate.sh $(BUILD)/mutate $(MUTANTS)

.PHONY: mutate/fast
mutate/fast: $(TB_OBJS) $(GOLDEN_LIB)
	@scripts/check.sh $(BUILD)/results mutate/fast -- env $(MUTATE_ENV) MUTATE_CONFIGS="default small" \
	  tb/tests/mutate-fast.sh $(BUILD)/mutate-fast $(MUTANTS_FAST)
TEST_TARGETS += mutate/fast

# --- Coverage ---------------------------------------------------------------------------------
# make coverage: Verilator line + toggle coverage of rtl/ over the regression, every
# configuration (COVERAGE_CONFIGS="a b" for some), lcov HTML in $(BUILD)/coverage/html.
.PHONY: coverage
coverage: $(TB_OBJS) $(GOLDEN_LIB)
	@scripts/install-deps.sh coverage
	@$(MUTATE_ENV) scripts/coverage.sh $(BUILD)/coverage

# --- Benchmarks ---------------------------------------------------------------------------------
# make bench: golden model, vector I/O, co-simulation (bare loop / replay / lockstep), cocotb
# side by side, accelerator efficiency and scaling, build time; table on stdout and
# $(BUILD)/bench.json. BENCH_QUICK=1 runs everything small (checks the script, measures nothing).
.PHONY: bench
bench: bench-golden bench-vec $(GOLDEN_BIN) $(TB_OBJS) $(GOLDEN_LIB) \
       $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/small/plain/mpq-tb $(BUILD)/vl/wide/plain/mpq-tb
	@scripts/install-deps.sh bench
	@$(MUTATE_ENV) GOLDEN_BIN=$(GOLDEN_BIN) TB_DEFAULT=$(BUILD)/vl/default/plain/mpq-tb \
	  scripts/bench.sh $(BENCH_OUT)
	@$(MAKE) --no-print-directory -s bench-farm BENCH_OUT=$(BENCH_OUT)
	@{ echo '{'; echo '  "golden":'; cat $(BENCH_OUT)/golden.json; echo ','; \
	   echo '  "vector_io":'; cat $(BENCH_OUT)/vec.json; echo ','; \
	   echo '  "cosim":'; cat $(BENCH_OUT)/cosim.json; echo ','; \
	   echo '  "farm":'; cat $(BENCH_OUT)/farm.json; echo '}'; } >$(BENCH_OUT).json.tmp && \
	  mv -f $(BENCH_OUT).json.tmp $(BENCH_OUT).json
	@echo "bench: $(BENCH_OUT).json"

# `make test` runs the whole benchmark small (its own folder; build/bench.json is untouched):
# every table is produced and the JSON parses. A smoke test of the script, not a measurement.
# Its prerequisites are built by this make, so that the inner one (in parallel with other
# tests) has nothing to build.
.PHONY: bench/quick
bench/quick: $(BUILD)/bench_golden $(BUILD)/bench_vec $(GOLDEN_BIN) $(TB_OBJS) $(GOLDEN_LIB) \
             $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/small/plain/mpq-tb $(BUILD)/vl/wide/plain/mpq-tb
	@scripts/check.sh $(BUILD)/results bench/quick -- bash -c '\
	  $(MAKE) --no-print-directory -s BENCH_QUICK=1 BENCH_NO_COCOTB=1 BENCH_GOLDEN_REPS=1 \
	    BENCH_OUT=$(BUILD)/bench-quick bench && \
	  $(PYTHON) -c "import json, sys; d = json.load(open(sys.argv[1])); \
	    assert d[\"cosim\"][\"cosim\"][\"replay_over_bare\"] > 0, d; \
	    assert d[\"farm\"][\"merge\"][\"idempotent\"] and d[\"farm\"][\"local\"][\"speedup\"] > 0, d; \
	    print(\"bench.json parses\")" \
	    $(BUILD)/bench-quick.json'
TEST_TARGETS += bench/quick

# The RTL's assertions fire and are reported (a deliberate stream-rule violation).
.PHONY: tb/assertions
tb/assertions: $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/default/trace/mpq-tb
	@scripts/check.sh $(BUILD)/results tb/assertions -- tb/tests/assertions.sh $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/tmp/tb-assertions
TEST_TARGETS += tb/assertions
