# tb/: the C testbench over the Verilated accelerator. Included by the top Makefile.
# $(BUILD)/vl/<CONFIG>/plain/mpq-tb   fast build, every co-simulation run
# $(BUILD)/vl/<CONFIG>/trace/mpq-tb   traced build (FST + expected values): writes the waveform
#                                     of a mismatch trace; run as the test itself, it takes
#                                     snapshots for late mismatches (tb/tb_snap.h)
# The transaction-level check (tb/txn.h): in mpq-tb (mpq-tb txn) and, with tb/txn_main.c, in the
# mpq-txn of any described DUT (tb/build-dut.sh).
TXN_C_SRCS := tb/txn.c tb/txn_run.c tb/txn_feed.c tb/txn_report.c tb/txn_opts.c tb/tb_util.c
TXN_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TXN_C_SRCS))
TB_C_SRCS := tb/mpq_tb.c tb/tb_net.c tb/tb_opts.c tb/tb_source.c tb/tb_cosim.c tb/tb_pipe.c tb/tb_report.c tb/tb_snap.c $(TXN_C_SRCS)
TB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TB_C_SRCS))
TB_DEPS := $(RTL_DEPS) rtl/mpq_top.dut tb/dut_runtime.h tb/mpq_dut.h tb/build-model.sh tb/build-lib.sh $(TB_OBJS) $(GOLDEN_LIB) $(GOLDEN_BIN)
TRACES ?= $(BUILD)/traces

$(BUILD)/obj/tb/%.o: CPPFLAGS += -Itb
# Report strings are bounded on purpose; truncating a very long path is fine.
$(BUILD)/obj/tb/%.o: CFLAGS += -Wno-format-truncation

# One model per configuration and kind, rebuilt when the RTL, the shim or the cfg changes.
$(BUILD)/vl/%/plain/mpq-tb: $(TB_DEPS) rtl/cfg/%.cfg
	@echo "verilator: $* (plain)"
	@TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" GOLDEN_BIN="$(GOLDEN_BIN)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
	  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" \
	  tb/build-model.sh $* plain $(BUILD)/vl/$*/plain rtl
$(BUILD)/vl/%/trace/mpq-tb: $(TB_DEPS) tb/mpq_tb_top.sv rtl/cfg/%.cfg
	@echo "verilator: $* (traced)"
	@TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" GOLDEN_BIN="$(GOLDEN_BIN)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
	  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" \
	  tb/build-model.sh $* trace $(BUILD)/vl/$*/trace rtl

# The white-box build (the RTL's dbg_* ports): mpq-tb --whitebox.
$(BUILD)/vl/%/wb/mpq-tb: $(TB_DEPS) rtl/cfg/%.cfg
	@echo "verilator: $* (white-box)"
	@TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" GOLDEN_BIN="$(GOLDEN_BIN)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
	  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" \
	  tb/build-model.sh $* wb $(BUILD)/vl/$*/wb rtl

TB_BIN = $(BUILD)/vl/$(CONFIG)/$(if $(WHITEBOX),wb,plain)/mpq-tb
TB_TRACE_BIN = $(BUILD)/vl/$(CONFIG)/trace/mpq-tb
TB_WB_BIN = $(BUILD)/vl/$(CONFIG)/wb/mpq-tb
.PHONY: tb tb-trace tb-wb sim wave
tb: $(TB_BIN)
tb-trace: $(TB_TRACE_BIN)
tb-wb: $(TB_WB_BIN)

# The traced build is needed only to write the waveform of a mismatch: mpq-tb builds it on its
# first mismatch with this command (make decides whether it is stale; flock keeps parallel
# tests of one configuration from building it twice at once).
tb_trace_build = --trace-build 'flock $(BUILD)/vl/.trace-$(1).lock env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
  $(MAKE) -s --no-print-directory BUILD=$(BUILD) SAN=$(SAN) VERILATOR=$(VERILATOR) $(BUILD)/vl/$(1)/trace/mpq-tb'

# make sim's inputs are checked before anything is built or run: an unknown CONFIG, SEED
# together with VEC, a VEC that is a folder or does not exist each stop make with one message.
ifneq ($(filter sim wave tb tb-trace tb-wb,$(MAKECMDGOALS)),)
ifeq ($(filter $(CONFIG),$(RTL_CFGS)),)
$(error CONFIG=$(CONFIG): there is no rtl/cfg/$(CONFIG).cfg; the configurations are: $(RTL_CFGS))
endif
ifneq ($(and $(SEED),$(VEC)),)
$(error SEED=$(SEED) and VEC=$(VEC) do not combine: SEED runs lockstep layers from that seed, VEC replays vector files; give one)
endif
ifneq ($(SEED),)
ifneq ($(shell printf '%s' '$(SEED)' | tr -d 0-9),)
$(error SEED=$(SEED) is not a non-negative integer)
endif
endif
$(foreach v,$(VEC),$(if $(wildcard $(v)/.),$(error VEC=$(v) is a folder: give vector files, e.g. VEC="$(v)/$(CONFIG)-*.vec")))
$(foreach v,$(VEC),$(if $(wildcard $(v)),,$(error VEC=$(v): no such file)))
endif

# make sim: for each configuration of SIM_CONFIGS (default, mix2 and small: the 32-bit
# accumulator, a 20-bit one with two sparse entries per group, and a 16-bit one with 6-bit
# activations and 10-bit outputs; CONFIG=name runs that one alone), the committed regression
# vectors (every edge case), then lockstep layers of every kind for SIM_CYCLES cycles (random
# shapes, profiles, timing, early offers, resets mid-layer, now and then a counter's full
# range), with a summary of what the stimulus exercised; or VEC=file (replay only, CONFIG's
# model), or SEED=n (the lockstep part from seed n). WHITEBOX=1 also compares the RTL's
# registers every cycle (the white-box build). scripts/sim.sh runs it and returns mpq-tb's
# status: 0 passed, 1 a mismatch, 2 bad input; its last line says which (make's own exit
# status is 2 for either).
SIM_CYCLES ?= 3000000
# Trace folders kept in $(TRACES) besides this run's (older ones removed; 0 keeps all).
KEEP_TRACES ?= 20
ifeq ($(origin CONFIG),file)
SIM_CONFIGS ?= default mix2 small
else
SIM_CONFIGS ?= $(CONFIG)
endif
ifneq ($(filter sim,$(MAKECMDGOALS)),)
ifneq ($(shell printf '%s' '$(SIM_CYCLES)' | tr -d 0-9),)
$(error SIM_CYCLES=$(SIM_CYCLES) is not a positive integer)
endif
ifeq ($(filter-out 0,$(strip $(SIM_CYCLES))),)
$(error SIM_CYCLES='$(SIM_CYCLES)': give a positive number of cycles)
endif
ifneq ($(shell printf '%s' '$(KEEP_TRACES)' | tr -d 0-9)$(if $(strip $(KEEP_TRACES)),,x),)
$(error KEEP_TRACES=$(KEEP_TRACES) is not a non-negative integer (0 keeps every trace folder))
endif
$(foreach c,$(SIM_CONFIGS),$(if $(filter $(c),$(RTL_CFGS)),,$(error SIM_CONFIGS: there is no rtl/cfg/$(c).cfg; the configurations are: $(RTL_CFGS))))
endif
SIM_KIND = $(if $(WHITEBOX),wb,plain)
SIM_BINS = $(foreach c,$(if $(VEC),$(CONFIG),$(SIM_CONFIGS)),$(BUILD)/vl/$(c)/$(SIM_KIND)/mpq-tb)
# The models of several configurations build side by side (a fresh clone builds three).
SIM_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
sim: $(GOLDEN_BIN)
	@$(MAKE) --no-print-directory -j$(SIM_JOBS) $(SIM_BINS)
	@mkdir -p $(TRACES)
	@BUILD=$(BUILD) TRACES=$(TRACES) SIM_KIND=$(SIM_KIND) SIM_CYCLES=$(SIM_CYCLES) SEED='$(SEED)' KEEP_TRACES=$(KEEP_TRACES) \
	  WHITEBOX='$(WHITEBOX)' TRACE_BUILD="$(call tb_trace_build,%CFG%)" \
	  scripts/sim.sh $(if $(VEC),--vec "$(VEC)" $(CONFIG),$(SIM_CONFIGS))

# make wave: the trace of the last mpq-tb run ($(TRACES)/last-run lists the trace folders that
# run wrote; a run that passed wrote none), its report and, with a display, its waveform in
# GTKWave. The report says how to open the waveform (or why there is none): nothing repeats it.
wave:
	@if [ ! -f $(TRACES)/last-run ]; then echo "make wave: no run has written $(TRACES)/last-run yet (make sim)"; exit 1; fi; \
	last=$$(sed -n 's/^trace: //p' $(TRACES)/last-run | head -n 1); \
	if [ -z "$$last" ]; then echo "make wave: the last run passed, no mismatch trace:"; sed -n 's/^/  /p' $(TRACES)/last-run; exit 0; fi; \
	if [ ! -f "$$last/report.txt" ]; then echo "make wave: the last run's trace $$last is gone (removed since; see --keep-traces)"; exit 1; fi; \
	echo "mismatch trace: $$last"; cat "$$last/report.txt"; \
	if [ -n "$$DISPLAY" ] && [ -f "$$last/wave.gtkw" ]; then \
	  command -v gtkwave >/dev/null 2>&1 || scripts/install-deps.sh wave || true; \
	  if command -v gtkwave >/dev/null 2>&1; then echo "make wave: opening it in GTKWave"; gtkwave "$$last/wave.gtkw" >/dev/null 2>&1 & fi; \
	fi

# --- Co-simulation regression in `make test` --------------------------------------------------
# Every configuration with committed vectors replays them; every configuration also runs
# lockstep layers from fixed seeds (TB_SEED moves them) with light and heavy back-pressure.
TB_REGRESS_CFGS := $(sort $(foreach v,$(REGRESS_VECS),$(firstword $(subst -, ,$(notdir $(v))))))
TB_LOCKSTEP_CFGS := $(RTL_CFGS)
TB_SEED ?= 1000
TB_RUNS ?= 200
tb_bin = $(BUILD)/vl/$(1)/plain/mpq-tb
tb_common = --config rtl/cfg/$(1).cfg --trace-dir $(TRACES) --junit $(BUILD)/junit/$(2).xml --name $(1) -q \
  $(call tb_trace_build,$(1))

.PHONY: $(addprefix tb/regress/,$(TB_REGRESS_CFGS))
$(addprefix tb/regress/,$(TB_REGRESS_CFGS)): tb/regress/%: $(BUILD)/vl/%/plain/mpq-tb
	@mkdir -p $(BUILD)/junit
	@scripts/check.sh $(BUILD)/results tb/regress/$* -- $(call tb_bin,$*) replay \
	  $(filter vectors/regress/$*-%,$(REGRESS_VECS)) $(call tb_common,$*,regress-$*)

.PHONY: $(addprefix tb/lockstep/,$(TB_LOCKSTEP_CFGS)) $(addprefix tb/backpressure/,$(TB_LOCKSTEP_CFGS))
$(addprefix tb/lockstep/,$(TB_LOCKSTEP_CFGS)): tb/lockstep/%: $(BUILD)/vl/%/plain/mpq-tb
	@mkdir -p $(BUILD)/junit
	@scripts/check.sh $(BUILD)/results tb/lockstep/$* -- $(call tb_bin,$*) lockstep \
	  --seed $(TB_SEED) --runs $(TB_RUNS) $(call tb_common,$*,lockstep-$*)
$(addprefix tb/backpressure/,$(TB_LOCKSTEP_CFGS)): tb/backpressure/%: $(BUILD)/vl/%/plain/mpq-tb
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

# The RTL's assertions fire and are reported (a deliberate stream-rule violation).
.PHONY: tb/assertions
tb/assertions: $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/default/trace/mpq-tb
	@scripts/check.sh $(BUILD)/results tb/assertions -- tb/tests/assertions.sh $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/tmp/tb-assertions
TEST_TARGETS += tb/assertions

# A late mismatch's waveform from a snapshot (tb/tb_snap.h), equal to the traced re-run's from
# cycle 0; a passing run the same with snapshots as without (TB_SEED picks the layer).
.PHONY: tb/snapshots
tb/snapshots: $(BUILD)/vl/default/trace/mpq-tb
	@scripts/check.sh $(BUILD)/results tb/snapshots -- tb/tests/snapshots.sh $(BUILD)/vl/default/trace/mpq-tb \
	  $(BUILD)/tmp/tb-snapshots $(TB_SEED)
TEST_TARGETS += tb/snapshots

# What a user types wrongly (options, make variables, configurations) is refused, exit 2.
.PHONY: tb/user-input
tb/user-input: $(BUILD)/vl/default/plain/mpq-tb $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results tb/user-input -- tb/tests/user-input.sh \
	  $(BUILD)/vl/default/plain/mpq-tb $(GOLDEN_BIN) $(BUILD)/tmp/tb-user-input
TEST_TARGETS += tb/user-input

# --- Any described DUT (docs/dut.md): its transaction-level testbench ---------------------------
# $(BUILD)/dut/NAME/plain/mpq-txn and .../trace/mpq-txn (the traced build, for the waveform of a
# failure), built by tb/build-dut.sh from the description: the shim generated, the model checked
# against it first. $(call dut_rules,NAME,DESC) makes the rules of one description; DUT=FILE on
# the command line makes them for that file (make dut-sim DUT=my/accel.dut).
DUT_BUILD_DEPS := tb/build-dut.sh tb/build-lib.sh tb/dut_runtime.h tb/mpq_dut.h $(TXN_OBJS) $(BUILD)/obj/tb/txn_main.o $(GOLDEN_LIB) $(GOLDEN_BIN)
DUT_BUILD_ENV = TXN_OBJS="$(TXN_OBJS) $(BUILD)/obj/tb/txn_main.o" GOLDEN_LIB="$(GOLDEN_LIB)" GOLDEN_BIN="$(GOLDEN_BIN)" \
  VERILATOR="$(VERILATOR)" CXX="$(CXX)" CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)"
dut_srcs = $(1) $(wildcard $(dir $(1))*.sv $(dir $(1))*.svh $(dir $(1))*.v $(dir $(1))*.vlt)
define dut_rules
$(BUILD)/dut/$(1)/plain/mpq-txn $(BUILD)/dut/$(1)/trace/mpq-txn: $(BUILD)/dut/$(1)/%/mpq-txn: $(call dut_srcs,$(2)) $(DUT_BUILD_DEPS)
	@echo "verilator: $(1) ($$*)"
	@$(DUT_BUILD_ENV) tb/build-dut.sh $(2) $$* $(BUILD)/dut/$(1)/$$*
endef
# The traced build, made on the first failure (as tb_trace_build for mpq's).
dut_trace_build = --trace-build 'flock $(BUILD)/dut/.trace-$(1).lock env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
  $(MAKE) -s --no-print-directory BUILD=$(BUILD) SAN=$(SAN) VERILATOR=$(VERILATOR) $(if $(2),DUT=$(2)) $(BUILD)/dut/$(1)/trace/mpq-txn'

DUT ?=
DUT_NAME = $(basename $(notdir $(DUT)))
# (the examples' descriptions have their rules already, from examples/*/*.mk)
ifneq ($(DUT),)
ifeq ($(filter $(DUT_NAME),$(basename $(notdir $(wildcard examples/*/*.dut)))),)
$(eval $(call dut_rules,$(DUT_NAME),$(DUT)))
endif
endif

# mpq-tb txn: the transaction-level check on mpq's own accelerator (codec mpq), random layers of
# each kind, light and heavy back-pressure (tb/tests/txn-mpq.sh).
.PHONY: tb/txn/default
tb/txn/default: $(BUILD)/vl/default/plain/mpq-tb
	@scripts/check.sh $(BUILD)/results tb/txn/default -- tb/tests/txn-mpq.sh $(call tb_bin,default) $(TB_SEED) \
	  --trace-dir $(TRACES) $(call tb_trace_build,default)
TEST_TARGETS += tb/txn/default

# make dut-sim DUT=path/to/top.dut: build that description's mpq-txn (its shim generated, the
# model checked against it) and run DUT_RUNS random tests from SEED (default 1), then, with
# MODEL=file.tflite, that model's layers (docs/own-dut.md). A failure's trace folder goes to
# $(TRACES)/, its waveform from the traced build, made then.
DUT_RUNS ?= 100
ifneq ($(filter dut-sim,$(MAKECMDGOALS)),)
ifeq ($(DUT),)
$(error make dut-sim: give DUT=path/to/your.dut (docs/own-dut.md; examples/osa/osa.dut is one))
endif
ifeq ($(wildcard $(DUT)),)
$(error DUT=$(DUT): no such file)
endif
endif
.PHONY: dut-sim
dut-sim: $(BUILD)/dut/$(DUT_NAME)/plain/mpq-txn
	@mkdir -p $(TRACES)
	@$< random --seed $(or $(SEED),1) --runs $(DUT_RUNS) -q --trace-dir $(TRACES) \
	  $(call dut_trace_build,$(DUT_NAME),$(DUT))$(if $(MODEL), && $< model $(MODEL) -q --trace-dir $(TRACES) \
	  $(call dut_trace_build,$(DUT_NAME),$(DUT)))
