# rtl/: the SystemVerilog accelerator (docs/timing.md is its contract).
# Included by the top Makefile. Provides RTL_SRCS, RTL_TOP, RTL_VLT, $(call rtl_gflags,NAME),
# `make lint`, `make synth`, and the tests rtl/lint/<cfg> and rtl/smoke/small.

# Package first: the modules refer to mpq_pkg:: names.
RTL_SRCS := rtl/mpq_pkg.sv rtl/mpq_wbuf.sv rtl/mpq_lane.sv rtl/mpq_requant.sv rtl/mpq_top.sv
RTL_TOP := mpq_top
RTL_VLT := rtl/mpq.vlt
RTL_CFGS := $(sort $(patsubst rtl/cfg/%.cfg,%,$(wildcard rtl/cfg/*.cfg)))

# $(call rtl_gflags,NAME): Verilator -G overrides from rtl/cfg/NAME.cfg, the one source of
# truth ("Key = value" lines, # comments). An unknown NAME stops make with a message.
RTL_HASH := \#
rtl_gflags = $(if $(wildcard rtl/cfg/$(1).cfg),$(shell awk '{ sub(/$(RTL_HASH).*/, ""); \
  if (split($$0, kv, "=") == 2) { gsub(/[ \t]/, "", kv[1]); gsub(/[ \t]/, "", kv[2]); \
  if (kv[1] != "") printf "-G%s=%s ", kv[1], kv[2] } }' rtl/cfg/$(1).cfg),$(error rtl/rtl.mk: \
  no configuration rtl/cfg/$(1).cfg (have: $(RTL_CFGS))))

# --- Lint: every configuration, -Wall, assertions elaborated, zero warnings ---------------
RTL_LINT_FLAGS := --lint-only
# All style warnings; a warning fails the lint (waivers live in rtl/mpq.vlt, with reasons).
RTL_LINT_FLAGS += -Wall
# Elaborate the SV assertions too.
RTL_LINT_FLAGS += --assert
RTL_LINT_FLAGS += --top-module $(RTL_TOP)
rtl_lint_cmd = $(VERILATOR) $(RTL_LINT_FLAGS) $(call rtl_gflags,$(1)) $(RTL_VLT) $(RTL_SRCS)

.PHONY: lint
lint:
	@$(foreach c,$(RTL_CFGS),echo "lint $(c): $(call rtl_gflags,$(c))" && \
	  $(call rtl_lint_cmd,$(c)) && ) echo "lint: $(words $(RTL_CFGS)) configurations, no warning"

RTL_LINT_NAMES := $(addprefix rtl/lint/,$(RTL_CFGS))
.PHONY: $(RTL_LINT_NAMES)
$(RTL_LINT_NAMES): rtl/lint/%:
	@scripts/check.sh $(BUILD)/results rtl/lint/$* -- $(call rtl_lint_cmd,$*)
TEST_TARGETS += $(RTL_LINT_NAMES)

# --- Smoke test: self-checking SV testbench on the `small` configuration -----------------
# Temporary evidence until the C co-simulation exists. SEED=n reruns with another seed.
RTL_SMOKE_DIR := $(BUILD)/rtl-smoke
RTL_SMOKE_BIN := $(RTL_SMOKE_DIR)/tb_smoke
RTL_SMOKE_FLAGS := --binary
# The testbench drives the clock with delays.
RTL_SMOKE_FLAGS += --timing
RTL_SMOKE_FLAGS += --assert
RTL_SMOKE_FLAGS += -j 2
RTL_SMOKE_FLAGS += --top-module tb_smoke

$(RTL_SMOKE_BIN): $(RTL_SRCS) $(RTL_VLT) rtl/tests/tb_smoke.sv rtl/cfg/small.cfg
	@mkdir -p $(RTL_SMOKE_DIR)
	$(VERILATOR) $(RTL_SMOKE_FLAGS) $(call rtl_gflags,small) --Mdir $(RTL_SMOKE_DIR) \
	  -o tb_smoke $(RTL_VLT) $(RTL_SRCS) rtl/tests/tb_smoke.sv >$(RTL_SMOKE_DIR)/build.log 2>&1 \
	  || { cat $(RTL_SMOKE_DIR)/build.log; exit 1; }

.PHONY: rtl/smoke/small
rtl/smoke/small:
	@scripts/check.sh $(BUILD)/results rtl/smoke/small -- \
	  $(MAKE) --no-print-directory -s rtl-smoke-run

.PHONY: rtl-smoke-run
rtl-smoke-run: $(RTL_SMOKE_BIN)
	$(RTL_SMOKE_BIN) $(if $(SEED),+seed=$(SEED))
TEST_TARGETS += rtl/smoke/small

# --- Synthesis (not part of make test) -----------------------------------------------------
.PHONY: synth
synth:
	@scripts/install-deps.sh synth
	scripts/synth.sh $(BUILD)/synth
