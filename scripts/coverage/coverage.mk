# scripts/coverage/coverage.mk: Verilator line and toggle coverage of rtl/ (scripts/coverage/coverage.sh).
# Included by the top Makefile; MUTATE_ENV (scripts/mutate/mutate.mk) passes the build inputs.

# --- Coverage ---------------------------------------------------------------------------------
# make coverage: Verilator line + toggle coverage of rtl/ over the regression, every
# configuration (COVERAGE_CONFIGS="a b" for some), lcov HTML in $(COVERAGE_OUT)/html
# (COVERAGE_OUT, default $(BUILD)/coverage).
# The models are make's BUILD/vl/CONFIG/cov/mpq-tb (scripts/farm/farm.mk), which the farm's
# coverage jobs use too: built once, and before, by this make (make test's coverage/small
# depends on the one of `small` for the same reason).
COVERAGE_OUT ?= $(BUILD)/coverage
COVERAGE_CONFIGS ?= $(patsubst rtl/cfg/%.cfg,%,$(sort $(wildcard rtl/cfg/*.cfg)))
.PHONY: coverage coverage-deps
coverage-deps:
	@scripts/install-deps.sh coverage
coverage: $(TB_OBJS) $(GOLDEN_LIB) $(GOLDEN_BIN) $(foreach c,$(COVERAGE_CONFIGS),$(BUILD)/vl/$(c)/cov/mpq-tb) | coverage-deps
	@$(MUTATE_ENV) COVERAGE_CONFIGS="$(COVERAGE_CONFIGS)" COVERAGE_VL=$(BUILD)/vl scripts/coverage/coverage.sh $(COVERAGE_OUT)

