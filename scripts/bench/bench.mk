# scripts/bench/bench.mk: `make bench` (scripts/bench/bench.sh; the golden model's and vector I/O's parts
# are in golden/golden.mk) and its smoke test bench/quick. Included by the top Makefile.

# --- Benchmarks ---------------------------------------------------------------------------------
# make bench: golden model, ABFP emulation against it, vector I/O, real int8 models against
# LiteRT and their cycles beside Ethos-U55-128's with the harness's speed on them (bench-models,
# scripts/models/models.mk: also $(BENCH_OUT)-models.json), co-simulation (bare loop /
# replay / lockstep; the transaction-level check against lockstep: scripts/bench/txn.sh),
# cocotb side by side, accelerator efficiency and scaling, build time, snapshots
# (scripts/bench/snap.sh: late_trace_ratio, snapshot_overhead); table on stdout and
# $(BUILD)/bench.json; then the Verilators of BENCH_VERILATORS side by side (build time, bare
# loop, replay, lockstep). BENCH_QUICK=1 runs everything small (checks the script, measures
# nothing; the side-by-side section with this make's Verilator only, on its model).
BENCH_VERILATORS ?= verilator $(VERILATOR_CURRENT)
.PHONY: bench
bench: bench-golden bench-abfp bench-vec bench-models bench-explore $(GOLDEN_BIN) $(TB_OBJS) $(GOLDEN_LIB) \
       $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/small/plain/mpq-tb $(BUILD)/vl/wide/plain/mpq-tb \
       $(BUILD)/vl/default/trace/mpq-tb
	@scripts/install-deps.sh bench
	@$(MUTATE_ENV) GOLDEN_BIN=$(GOLDEN_BIN) TB_VL=$(BUILD)/vl BENCH_VERILATORS="$(BENCH_VERILATORS)" scripts/bench/bench.sh $(BENCH_OUT)
	@TB_VL=$(BUILD)/vl GOLDEN_BIN=$(GOLDEN_BIN) CXXFLAGS_SAN="$(SAN_FLAGS)" scripts/bench/snap.sh $(BENCH_OUT)
	@$(MAKE) --no-print-directory -s bench-farm BENCH_OUT=$(BENCH_OUT)
	@{ echo '{'; echo '  "golden":'; cat $(BENCH_OUT)/golden.json; echo ','; \
	   echo '  "abfp":'; cat $(BENCH_OUT)/abfp.json; echo ','; \
	   echo '  "vector_io":'; cat $(BENCH_OUT)/vec.json; echo ','; \
	   echo '  "explore":'; cat $(BENCH_OUT)/explore.json; echo ','; \
	   echo '  "models":'; cat $(BENCH_OUT)/models.json; echo ','; \
	   echo '  "models_rtl":'; cat $(BENCH_OUT)-models.json; echo ','; \
	   echo '  "cosim":'; cat $(BENCH_OUT)/cosim.json; echo ','; \
	   echo '  "snapshots":'; cat $(BENCH_OUT)/snap.json; echo ','; \
	   echo '  "farm":'; cat $(BENCH_OUT)/farm.json; echo '}'; } >$(BENCH_OUT).json.tmp && \
	  mv -f $(BENCH_OUT).json.tmp $(BENCH_OUT).json
	@echo "bench: $(BENCH_OUT).json"

# `make test` runs the whole benchmark small (its own folder; build/bench.json is untouched):
# every table is produced and the JSON parses. A smoke test of the script, not a measurement.
# Its prerequisites are built by this make, so that the inner one (in parallel with other
# tests) has nothing to build.
.PHONY: bench/quick
bench/quick: $(BUILD)/bench_golden $(BUILD)/bench_abfp $(BUILD)/bench_vec $(GOLDEN_BIN) $(TB_OBJS) $(GOLDEN_LIB) \
             $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/small/plain/mpq-tb $(BUILD)/vl/wide/plain/mpq-tb \
             $(BUILD)/vl/default/trace/mpq-tb $(BUILD)/vl/int8/plain/mpq-tb
	@scripts/check.sh $(BUILD)/results bench/quick -- bash -c '\
	  $(MAKE) --no-print-directory -s BENCH_QUICK=1 BENCH_NO_COCOTB=1 BENCH_GOLDEN_REPS=1 \
	    BENCH_OUT=$(BUILD)/bench-quick bench && \
	  $(PYTHON) -c "import json, sys; d = json.load(open(sys.argv[1])); \
	    assert d[\"cosim\"][\"cosim\"][\"replay_over_bare\"] > 0, d; \
	    assert d[\"snapshots\"][\"late_trace_ratio\"] > 0 and \"snapshot_overhead\" in d[\"snapshots\"], d; \
	    assert d[\"cosim\"][\"verilators\"][0][\"replay_over_bare\"] > 0, d; \
	    t = d[\"cosim\"][\"txn\"]; assert t[\"txn_over_lockstep\"] > 0 and t[\"txn_cycles\"] > 0, t; \
	    assert t[\"instructions_per_cycle\"] is None or t[\"instructions_per_cycle\"][\"txn\"] > 0, t; \
	    assert d[\"farm\"][\"merge\"][\"idempotent\"] and d[\"farm\"][\"local\"][\"speedup\"] > 0, d; \
	    assert all(x[\"abfp_gmacs\"] > 0 for x in d[\"abfp\"][\"layers\"]), d; \
	    assert d[\"explore\"][\"closed_form_points_per_s\"] > 0, d; \
	    assert all(m[\"median_s\"][\"mpq\"] > 0 for m in d[\"models\"][\"models\"]), d; \
	    r = d[\"models_rtl\"]; assert [(m[\"model\"], m[\"config\"], m[\"decomp\"]) for m in r] == \
	      [(\"tflite_micro_speech\", \"int8\", None), (\"anomaly_detection\", \"int8\", None), \
	       (\"anomaly_detection\", \"default\", \"channels-1:16\")], r; \
	    assert all(m[\"rtl_passed\"] is True and m[\"mpq_cycles\"] == m[\"rtl_cycles\"] > 0 \
	               and m[\"vela_u55_128_cycles\"] > 0 and m[\"macs\"] == sum(l[\"macs\"] for l in m[\"layers\"]) \
	               and m[\"mpq_cycles\"] == sum(l[\"mpq_cycles\"] for l in m[\"layers\"]) \
	               and m[\"speed\"][\"rtl_inferences_per_s\"] > 0 and m[\"speed\"][\"cosim_over_bare\"] > 0 for m in r), r; \
	    i = r[0][\"speed\"][\"instructions_per_cycle\"]; assert i is None or 0 < i[\"cosim_over_bare\"] <= 1.5, r; \
	    print(\"bench.json parses\")" \
	    $(BUILD)/bench-quick.json'
TEST_TARGETS += bench/quick


# make bench-shim: the generated DUT shim against the hand-written one it replaced
# (scripts/bench/shim-old.sh): the trees of 5e485f0^ and 5e485f0 unpacked and built in
# $(BUILD)/bench-shim/, measured beside this tree's model. Not in `make bench` (two builds).
.PHONY: bench-shim
bench-shim: $(GOLDEN_BIN) $(BUILD)/vl/default/plain/mpq-tb
	@GOLDEN_BIN=$(GOLDEN_BIN) TB_VL=$(BUILD)/vl scripts/bench/shim-old.sh $(BUILD)/bench-shim
