# examples/osa/: an output-stationary systolic array with AXI4-Stream ports, verified by mpq
# from its description alone (osa.dut; docs/own-dut.md walks through it). Included by the top
# Makefile.
OSA_DUT := examples/osa/osa.dut
DUT_EXAMPLES += osa
$(eval $(call dut_rules,osa,$(OSA_DUT)))
OSA_BIN := $(BUILD)/dut/osa/plain/mpq-txn
OSA_TXN = $(OSA_BIN) --trace-dir $(TRACES) $(call dut_trace_build,osa) -q

# make test: random layers of each kind, real models' layers, the deadlock and latency
# detectors, broken descriptions refused (examples/osa/tests/osa.sh says what each checks).
OSA_TESTS := random models detectors bad-dut
.PHONY: $(addprefix examples/osa/,$(OSA_TESTS))
$(addprefix examples/osa/,$(OSA_TESTS)): examples/osa/%: $(OSA_BIN) $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results examples/osa/$* -- bash -c '$(if $(filter models,$*),scripts/models/fetch.sh $(MODELS_DIR) && )\
	  TB_SEED=$(TB_SEED) examples/osa/tests/osa.sh $* $(OSA_BIN) $(GOLDEN_BIN) $(BUILD)/tmp/osa-$* $(MODELS_DIR)'
TEST_TARGETS += $(addprefix examples/osa/,$(OSA_TESTS))
