# examples/osa/: an output-stationary systolic array with AXI4-Stream ports, verified by mpq
# from its description alone (osa.dut; docs/own-dut.md walks through it). Included by the top
# Makefile.
OSA_DUT := examples/osa/osa.dut
DUT_EXAMPLES += osa
$(eval $(call dut_rules,osa,$(OSA_DUT)))
OSA_BIN := $(BUILD)/dut/osa/plain/mpq-txn
OSA_TXN = $(OSA_BIN) --trace-dir $(TRACES) $(call dut_trace_build,osa) -q
