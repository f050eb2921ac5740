# scripts/mutate/mutate.mk: mutation testing (scripts/mutate/mutate.sh, scripts/mutate/mutants.tsv). Included by the
# top Makefile.

# --- Mutation testing -------------------------------------------------------------------------
# make mutate: every mutant of scripts/mutate/mutants.tsv (MUTANTS="a b" for some), table + traces
# under $(BUILD)/mutate. The fast subset in `make test` (MUTANTS_FAST) includes the lane-2
# sign error and checks that its trace names lane 2 and the first wrong cycle.
MUTANTS ?=
MUTANTS_FAST := lane2-tern-sign sparse-idx-plus1 sat-max-off-by-one out-changes-while-stalled \
  act-ready-ignores-pipe srdhm-tie pad-left-off-by-one pipe-rq1-skips-rq2
MUTATE_ENV = TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" GOLDEN_BIN="$(GOLDEN_BIN)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)"
.PHONY: mutate
mutate: $(TB_OBJS) $(GOLDEN_LIB) $(GOLDEN_BIN)
	@$(MUTATE_ENV) scripts/mutate/mutate.sh $(BUILD)/mutate $(MUTANTS)

.PHONY: mutate/fast
mutate/fast: $(TB_OBJS) $(GOLDEN_LIB) $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results mutate/fast -- env $(MUTATE_ENV) MUTATE_CONFIGS="default small" \
	  MUTATE_TRACE="lane2-tern-sign" \
	  tb/tests/mutate-fast.sh $(BUILD)/mutate-fast $(MUTANTS_FAST)
TEST_TARGETS += mutate/fast


# make mutate-osa: every mutant of examples/osa (scripts/mutate/osa-mutants.tsv; MUTANTS_OSA="a
# b" for some) through the transaction-level check, table under $(BUILD)/mutate-osa. Two are
# sampled in make test: a requantizer rounding bug (its report must name the tensor element,
# beat and cycle) and an input stream whose tready stops (the deadlock detector must fire).
MUTANTS_OSA ?=
MUTATE_OSA_ENV = $(DUT_BUILD_ENV) MODELS_DIR=$(MODELS_DIR)
.PHONY: mutate-osa mutate-osa/rounding mutate-osa/deadlock
mutate-osa: $(DUT_BUILD_DEPS)
	@scripts/models/fetch.sh $(MODELS_DIR)
	@$(MUTATE_OSA_ENV) MUTATE_TRACE="$(MUTATE_OSA_TRACE)" scripts/mutate/mutate-osa.sh $(BUILD)/mutate-osa $(MUTANTS_OSA)
MUTATE_OSA_TRACE ?= requant-nudge-tie
mutate-osa/rounding mutate-osa/deadlock: mutate-osa/%: $(DUT_BUILD_DEPS)
	@scripts/check.sh $(BUILD)/results mutate-osa/$* -- env $(MUTATE_OSA_ENV) \
	  tb/tests/mutate-osa-fast.sh $* $(BUILD)/mutate-osa-fast/$*
TEST_TARGETS += mutate-osa/rounding mutate-osa/deadlock
