# scripts/coverage/coverage.mk: Verilator line and toggle coverage of rtl/ (scripts/coverage/coverage.sh).
# Included by the top Makefile; MUTATE_ENV (scripts/mutate/mutate.mk) passes the build inputs.

# --- Coverage ---------------------------------------------------------------------------------
# make coverage: Verilator line + toggle coverage of rtl/ over the regression, every
# configuration (COVERAGE_CONFIGS="a b" for some), lcov HTML in $(COVERAGE_OUT)/html
# (COVERAGE_OUT, default $(BUILD)/coverage).
COVERAGE_OUT ?= $(BUILD)/coverage
.PHONY: coverage
coverage: $(TB_OBJS) $(GOLDEN_LIB) $(GOLDEN_BIN)
	@scripts/install-deps.sh coverage
	@$(MUTATE_ENV) scripts/coverage/coverage.sh $(COVERAGE_OUT)

