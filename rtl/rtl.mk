# rtl/: the SystemVerilog accelerator (docs/timing.md is its contract).
# Included by the top Makefile. Provides RTL_SRCS, RTL_INCS, RTL_DEPS, RTL_TOP, RTL_VLT,
# $(call rtl_gflags,NAME), `make lint`, `make synth`, and the tests rtl/lint/<cfg>,
# rtl/smoke/small and synth/small.

# The RTL's files in compile order (packages first), one list for make and the scripts.
RTL_SRCS := $(addprefix rtl/,$(shell cat rtl/sources.list))
RTL_TOP := mpq_top
RTL_VLT := rtl/mpq.vlt
# The included files (`include "mpq_top.svh"): Verilator finds them with -Irtl (Yosys looks
# beside the including file).
RTL_INCS := rtl/mpq_top.svh
# What a build of the RTL depends on.
RTL_DEPS := $(RTL_SRCS) $(RTL_INCS) $(RTL_VLT)
RTL_CFGS := $(sort $(patsubst rtl/cfg/%.cfg,%,$(wildcard rtl/cfg/*.cfg)))

# $(call rtl_gflags,NAME) in a recipe sets the shell variable gflags to the Verilator -G
# overrides of rtl/cfg/NAME.cfg, read by the one reader of the configuration files
# (`mpq-golden cfg`, which refuses an unknown or invalid configuration with a message and stops
# the recipe); the recipe needs $(GOLDEN_BIN) as a prerequisite.
rtl_gflags = gflags=$$($(GOLDEN_BIN) cfg $(1) --gflags) || exit 2

# The generated interface files (rtl/mpq_layout_pkg.sv, rtl/mpq_top.svh,
# rtl/mpq_params_check.sv, the tables of docs/timing.md) from golden/contract/mpq_layout.c;
# rtl/layout-fresh checks they are current.
.PHONY: layout rtl/layout-fresh
layout: $(GOLDEN_BIN)
	$(GOLDEN_BIN) layout write .
rtl/layout-fresh: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results rtl/layout-fresh -- $(GOLDEN_BIN) layout check .
TEST_TARGETS += rtl/layout-fresh

# --- Lint: every configuration, -Wall, assertions elaborated, zero warnings ---------------
RTL_LINT_FLAGS := --lint-only -Irtl
# All style warnings; a warning fails the lint (waivers live in rtl/mpq.vlt, with reasons).
RTL_LINT_FLAGS += -Wall
# Elaborate the SV assertions too.
RTL_LINT_FLAGS += --assert
RTL_LINT_FLAGS += --top-module $(RTL_TOP)
# Every build of the RTL: plain, with the white-box ports (MPQ_WHITEBOX) of the wb and trace
# models, with the coverage probes (MPQ_COVERAGE).
rtl_lint_cmd = $(call rtl_gflags,$(1)); for d in "" -DMPQ_WHITEBOX -DMPQ_COVERAGE; do \
  $(VERILATOR) $(RTL_LINT_FLAGS) $$d $$gflags $(RTL_VLT) $(RTL_SRCS) || exit 1; done

.PHONY: lint
lint: $(GOLDEN_BIN)
	@set -e; $(foreach c,$(RTL_CFGS),echo "lint $(c)"; $(call rtl_lint_cmd,$(c));) \
	  echo "lint: $(words $(RTL_CFGS)) configurations, no warning"

RTL_LINT_NAMES := $(addprefix rtl/lint/,$(RTL_CFGS))
.PHONY: $(RTL_LINT_NAMES)
$(RTL_LINT_NAMES): rtl/lint/%: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results rtl/lint/$* -- bash -c '$(call rtl_lint_cmd,$*)'
TEST_TARGETS += $(RTL_LINT_NAMES)

# --- Smoke test: self-checking SV testbench on the `small` configuration -----------------
# A second, SystemVerilog-only check of the RTL (its own reference model in tb_smoke.sv),
# independent of the C golden model. SEED=n reruns with another seed.
RTL_SMOKE_DIR := $(BUILD)/rtl-smoke
RTL_SMOKE_BIN := $(RTL_SMOKE_DIR)/tb_smoke
RTL_SMOKE_FLAGS := --binary -Irtl
# The testbench drives the clock with delays.
RTL_SMOKE_FLAGS += --timing
RTL_SMOKE_FLAGS += --assert
RTL_SMOKE_FLAGS += -j 2
RTL_SMOKE_FLAGS += --top-module tb_smoke

$(RTL_SMOKE_BIN): $(RTL_DEPS) rtl/tests/tb_smoke.sv rtl/cfg/small.cfg $(GOLDEN_BIN)
	@mkdir -p $(RTL_SMOKE_DIR)
	@$(call rtl_gflags,small); \
	$(VERILATOR) $(RTL_SMOKE_FLAGS) $$gflags --Mdir $(RTL_SMOKE_DIR) \
	  -o tb_smoke $(RTL_VLT) $(RTL_SRCS) rtl/tests/tb_smoke.sv >$(RTL_SMOKE_DIR)/build.log 2>&1 \
	  || { cat $(RTL_SMOKE_DIR)/build.log; exit 1; }

.PHONY: rtl/smoke/small
rtl/smoke/small:
	@mkdir -p $(BUILD) && scripts/check.sh $(BUILD)/results rtl/smoke/small -- \
	  flock $(BUILD)/rtl-smoke.lock $(MAKE) --no-print-directory -s rtl-smoke-run

.PHONY: rtl-smoke-run
rtl-smoke-run: $(RTL_SMOKE_BIN)
	$(RTL_SMOKE_BIN) $(if $(SEED),+seed=$(SEED))
TEST_TARGETS += rtl/smoke/small

# Both smoke tests share one binary: the lock keeps two recursive makes (make -j test) from
# building it at once (they once linked a half-written archive).
# The RTL refuses a configuration beat that breaks a tile rule (docs/timing.md): its
# assertion a_cfg_tile names the rule at the handshake (the C side refuses it before: gen,
# mpq-tb and the vector reader).
.PHONY: rtl/smoke/illegal-tile
rtl/smoke/illegal-tile:
	@mkdir -p $(BUILD) && scripts/check.sh $(BUILD)/results rtl/smoke/illegal-tile -- \
	  flock $(BUILD)/rtl-smoke.lock $(MAKE) --no-print-directory -s rtl-smoke-illegal-run

.PHONY: rtl-smoke-illegal-run
rtl-smoke-illegal-run: $(RTL_SMOKE_BIN)
	@out=$$($(RTL_SMOKE_BIN) +illegal_tile 2>&1); rc=$$?; echo "$$out" | tail -n 3; \
	  [ $$rc -ne 0 ] && echo "$$out" | grep -q "a_cfg_tile\|cfg beat out of range" \
	  && echo "the RTL refused the beat (exit $$rc)" || { echo "no a_cfg_tile assertion (exit $$rc)"; exit 1; }
TEST_TARGETS += rtl/smoke/illegal-tile

# --- Synthesis ---------------------------------------------------------------------------------
# make synth: generic Yosys synthesis of the variants (scripts/ppa/synth.sh), with the Yosys of the
# PPA flow (pyosys in $(PPA_VENV), scripts/ppa/venv.sh). In make test: synth/small, the same
# on the smallest configuration.
SYNTH_ENV = GOLDEN_BIN=$(GOLDEN_BIN) PPA_VENV=$(PPA_VENV) PYTHON=$(PYTHON)
.PHONY: synth synth/small
synth: $(GOLDEN_BIN)
	@scripts/install-deps.sh synth
	@$(SYNTH_ENV) scripts/ppa/synth.sh $(BUILD)/synth
synth/small: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results synth/small -- env $(SYNTH_ENV) scripts/ppa/synth-small.sh $(BUILD)/synth-test
TEST_TARGETS += synth/small
