# make ppa: area, timing and energy with the OSU 0.18 um standard cells, on the Fashion-MNIST
# MLP and CNN (scripts/ppa/ppa.sh per configuration; docs/ppa.md). Included by
# the top Makefile. Not part of `make test` except `ppa/small` (the flow on the small
# configuration, with a committed vector file as its workload).
PPA_OUT ?= $(BUILD)/ppa
# Area and timing: every configuration listed; energy: those the networks run on (the MLP's
# first layer needs KMax >= 784, the CNN's classifier 576: not wide's 512).
PPA_CONFIGS ?= tern default mix2 dense wide
PPA_ENERGY_CONFIGS ?= tern default mix2 dense
# The networks of the energy figures, each its own workload, activity and energy: mlp, cnn.
PPA_NETS ?= mlp cnn
# Test images per layer vector file of the MLP (the workload slice) and of the CNN (17,692
# cycles per image, 14,170 of them layer 1, against the MLP's 2,366: the gate-level replay runs
# 150-400 cycles/s), and the fixed clock of the report.
PPA_IMAGES ?= 4
PPA_CNN_IMAGES ?= 1
PPA_FIXED_MHZ ?= 20
PPA_DEPS := $(GOLDEN_BIN) $(RTL_DEPS) $(wildcard scripts/ppa/*) tb/build-model.sh tb/build-lib.sh \
  rtl/mpq_top.dut tb/dut_runtime.h tb/mpq_dut.h $(TB_OBJS) $(GOLDEN_LIB)
# Yosys is the pyosys package in a virtual environment (scripts/ppa/venv.sh: Debian's Yosys
# 0.23 cannot read the RTL's packages).
PPA_VENV ?= $(BUILD)/ppa-venv
PPA_ENV = PPA_VENV="$(PPA_VENV)" GOLDEN_BIN="$(GOLDEN_BIN)" TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" PYTHON="$(PYTHON)" PPA_FIXED_MHZ=$(PPA_FIXED_MHZ)
# mix2's 20-bit accumulator: the MLP's int32 biases overflow it, so its layers run with the
# saturating accumulator (docs/workloads.md: the study, 20-bit saturate loses 0.1 point, wrap 38).
# (The CNN's layers run with the wrapping accumulator on every configuration, as in make cnn:
# mix2's 20-bit one loses nothing there, 89.08% as with 32 bits.)
ppa_acc = $(if $(filter mix2,$(1)),sat,wrap)
# A network's workload: its summary, which lists its layers' vector files (scripts/ppa/ppa.sh).
ppa_summary = $(PPA_OUT)/vectors/$(2)/$(1)/summary.tsv
ppa_workloads = $(foreach n,$(PPA_NETS),$(n)=$(call ppa_summary,$(1),$(n)))

# The MLP's workload: its three layers for the first PPA_IMAGES test images, per configuration.
$(PPA_OUT)/vectors/mlp/%/summary.tsv: $(MNIST_BIN) $(MNIST_MODEL) rtl/cfg/%.cfg
	@mkdir -p $(@D)
	$(MNIST_BIN) --seed $(MNIST_SEED) --epochs $(MNIST_EPOCHS) --out $(MNIST_OUT) \
	  --emit-vectors $(@D) --config rtl/cfg/$*.cfg --images $(PPA_IMAGES) --acc $(call ppa_acc,$*)

# The CNN's: its layers with weights for the first PPA_CNN_IMAGES test images, as the RTL of
# that configuration ran them (every port compared every cycle; max pooling on the host).
$(PPA_OUT)/vectors/cnn/%/summary.tsv: $(BUILD)/vl/%/mnist/mpq-mnist-rtl $(CNN_MODEL) rtl/cfg/%.cfg
	@mkdir -p $(@D)
	$< --config rtl/cfg/$*.cfg --model $(CNN_MODEL) --images $(PPA_CNN_IMAGES) --save-vectors $(@D)

# One configuration: with the networks' workloads when it runs them, area and timing otherwise.
ppa_energy = $(filter $(1),$(PPA_ENERGY_CONFIGS))
define ppa_config_rule
$(PPA_OUT)/$(1)/ppa.json: $(PPA_DEPS) rtl/cfg/$(1).cfg $(if $(call ppa_energy,$(1)),$(foreach n,$(PPA_NETS),$(call ppa_summary,$(1),$(n))))
	@$$(PPA_ENV) scripts/ppa/ppa.sh $(1) $(PPA_OUT)/$(1) $(if $(call ppa_energy,$(1)),$(call ppa_workloads,$(1)))
endef
$(foreach c,$(RTL_CFGS),$(eval $(call ppa_config_rule,$(c))))

.PHONY: ppa ppa-deps
ppa-deps:
	@scripts/install-deps.sh ppa data plot

# make ppa: every configuration, then the tables (PPA_OUT/report.md) and the plots (docs/).
ppa: ppa-deps
	@$(MAKE) --no-print-directory $(foreach c,$(PPA_CONFIGS),$(PPA_OUT)/$(c)/ppa.json)
	@$(PYTHON) scripts/ppa/report.py summary $(PPA_OUT) $(PPA_OUT)/report.md $(PPA_OUT) $(PPA_CONFIGS)
	@scripts/ppa/plot.sh $(PPA_OUT) docs
	@echo "ppa: tables in $(PPA_OUT)/report.md, plots docs/ppa-energy.png docs/ppa-area.png"

# In make test: the whole flow on the small configuration, its workload a committed vector
# file (the gate-level replay compares every port every cycle); area, fmax and power present
# and positive; the same file as the sample of a layer twice as long weighs twice the energy
# (scripts/ppa/test-small.sh: make ppa-models' sampling). Skipped, and said so, when the tools cannot be installed.
# The mapped netlist is kept in build/ppa-map-cache, shared by the build trees (ppa.sh's
# PPA_MAP_CACHE: .ci/run's second Verilator and SAN=1 map the same RTL the same way).
PPA_TEST_OUT := $(BUILD)/ppa-test/small
.PHONY: ppa/small
ppa/small: $(PPA_DEPS)
	@scripts/check.sh $(BUILD)/results ppa/small -- bash -c '\
	  { scripts/install-deps.sh ppa || { echo "skipped: Yosys, OpenSTA or the OSU cells are missing"; exit 77; }; } && \
	  { scripts/ppa/venv.sh $(PPA_VENV) >/dev/null || { echo "skipped: pyosys cannot be installed"; exit 77; }; } && \
	  $(PPA_ENV) PPA_MAP_CACHE=build/ppa-map-cache scripts/ppa/test-small.sh $(PPA_TEST_OUT)'
TEST_TARGETS += ppa/small

# make ppa-models: energy per inference of the TFLite models (docs/ppa.md "The TFLite
# models"), per configuration of PPA_MODELS_CONFIGS, in PPA_MODELS_OUT/report.md. Each
# model's workload: mpq-tb net --vec-dir, every MAC layer part as the RTL ran it (every port
# compared every cycle), each file only its first PPA_MODELS_CYCLES cycles (the gate-level
# replay runs 90-180 cycles/s here; visual_wake_words alone is 160,215 cycles); the summary
# keeps every part's whole cycles, which weigh its measured activity. int8 runs the int8
# weights; another configuration the weights decomposed by --decomp PPA_MODELS_DECOMP. A
# model the configuration cannot hold (mpq-tb net refuses it, exit 2, before any layer runs:
# default's weight buffer and tflite_micro_speech's 4,000-term FC) is left out, said on the
# terminal and under the report's table (its summary holds only `# refused: REASON`).
PPA_MODELS ?= visual_wake_words image_classification keyword_spotting anomaly_detection tflite_micro_speech
PPA_MODELS_CONFIGS ?= int8
PPA_MODELS_CYCLES ?= 1000
PPA_MODELS_DECOMP ?= channels-1:16
PPA_MODELS_OUT ?= $(PPA_OUT)/models
ppa_models_decomp = $(if $(filter int8 dense,$(1)),,--decomp $(PPA_MODELS_DECOMP))
ppa_models_summary = $(PPA_MODELS_OUT)/vectors/$(1)/$(2)/summary.tsv
# Non-empty when configuration $(1) refused model $(2) (read when the recipe runs, after the summary).
ppa_hash := \#
ppa_models_refused = $(shell grep -l '^$(ppa_hash) refused' $(call ppa_models_summary,$(1),$(2)) 2>/dev/null)
define ppa_models_rule
$(PPA_MODELS_OUT)/vectors/$(1)/%/summary.tsv: $(BUILD)/vl/$(1)/plain/mpq-tb rtl/cfg/$(1).cfg $(MODELS_DIR)/%.tflite
	@mkdir -p $$(@D)
	$$< net $(MODELS_DIR)/$$*.tflite --config rtl/cfg/$(1).cfg --timing-seed 1 $(call ppa_models_decomp,$(1)) \
	  --vec-dir $$(@D) --vec-cycles $(PPA_MODELS_CYCLES) --trace-dir $(BUILD)/traces >$$(@D)/net.log 2>&1; \
	rc=$$$$?; if [ $$$$rc = 2 ] && grep -q '^mpq-tb net: .*: op [0-9]* (' $$(@D)/net.log; then \
	  why=$$$$(tail -n 1 $$(@D)/net.log); echo "ppa-models: $(1) cannot hold $$*, left out: $$$${why#mpq-tb net: }"; \
	  printf '# refused: %s\n' "$$$${why#mpq-tb net: }" >$$@.tmp && mv -f $$@.tmp $$@; \
	elif [ $$$$rc != 0 ]; then cat $$(@D)/net.log; exit 1; fi
$(PPA_MODELS_OUT)/$(1)/ppa.json: $(PPA_DEPS) rtl/cfg/$(1).cfg $(foreach m,$(PPA_MODELS),$(call ppa_models_summary,$(1),$(m)))
	@mkdir -p $$(@D) && cat /dev/null $$(foreach m,$(PPA_MODELS),$$(call ppa_models_refused,$(1),$$(m))) >$$(@D)/refused.txt
	@$$(PPA_ENV) scripts/ppa/ppa.sh $(1) $(PPA_MODELS_OUT)/$(1) $$(foreach m,$(PPA_MODELS),$$(if $$(call ppa_models_refused,$(1),$$(m)),,$$(m)=$$(call ppa_models_summary,$(1),$$(m))))
endef
$(foreach c,$(RTL_CFGS),$(eval $(call ppa_models_rule,$(c))))

.PHONY: ppa-models
ppa-models: ppa-deps
	@$(MAKE) --no-print-directory $(foreach c,$(PPA_MODELS_CONFIGS),$(PPA_MODELS_OUT)/$(c)/ppa.json)
	@$(PYTHON) scripts/ppa/report.py summary $(PPA_MODELS_OUT) $(PPA_MODELS_OUT)/report.md $(PPA_MODELS_OUT) $(PPA_MODELS_CONFIGS)
	@echo "ppa-models: tables in $(PPA_MODELS_OUT)/report.md"

# make explore-energy: the energy-per-action table of EXPLORE_ENERGY_CONFIG fitted at gate level
# on real models' layers and validated on whole layers outside the fit (docs/explore.md "The
# energy-per-action table"; scripts/models/explore-energy.sh, energy_fit.py): every part of the
# EXPLORE_ENERGY_FIT models (NAME@OPS: those operators only; the defaults add one layer of each
# kind the small models lack: a held weight slice, a 3x3 convolution's ring re-reads) at each
# EXPLORE_ENERGY_FIT_PRECISIONS, replayed whole, fits the table;
# the EXPLORE_ENERGY_HOLD models' parts (NAME@OPS: those operators only) at each
# EXPLORE_ENERGY_HOLD_PRECISIONS (NAME=PRECISION: that one, e.g. a search's front point, a SPEC
# per MAC layer), replayed whole, validate it (goal: every layer within 10%; an operator is
# never both fitted and held out). With
# EXPLORE_ENERGY_FIT empty nothing is fitted: EXPLORE_ENERGY_TABLE's block predicts them.
# Two tables: the closed form's counts (energy.tsv, what the search costs points with) and
# the counts plus the switching activity of each part's data (energy-activity.tsv). Exit 1
# while a held-out layer misses by more than 10% with the second. With the defaults 78 parts,
# 204,000 gate-level cycles: 51 minutes on this 2-core host (2026-12-07, beside other work).
# $(XE_OUT)/energy.{tsv,md}, energy-activity.tsv, fit.json.
EXPLORE_ENERGY_CONFIG ?= int8
EXPLORE_ENERGY_FIT ?= keyword_spotting anomaly_detection tflite_micro_speech visual_wake_words@3 image_classification@4
EXPLORE_ENERGY_FIT_PRECISIONS ?= int8 ternary
EXPLORE_ENERGY_HOLD ?= visual_wake_words@1,4,5,8,9,12,13,24,25,26,30 image_classification@0,6,10,14
EXPLORE_ENERGY_HOLD_PRECISIONS ?= int8 channels-4:16
XE_OUT ?= $(BUILD)/explore-energy
.PHONY: explore-energy
explore-energy: ppa-deps $(PPA_DEPS) $(BUILD)/vl/$(EXPLORE_ENERGY_CONFIG)/plain/mpq-tb | models-fetch
	@EXPLORE_ENERGY_FIT="$(EXPLORE_ENERGY_FIT)" EXPLORE_ENERGY_FIT_PRECISIONS="$(EXPLORE_ENERGY_FIT_PRECISIONS)" \
	  EXPLORE_ENERGY_HOLD="$(EXPLORE_ENERGY_HOLD)" EXPLORE_ENERGY_HOLD_PRECISIONS="$(EXPLORE_ENERGY_HOLD_PRECISIONS)" \
	  EXPLORE_ENERGY_TABLE="$(EXPLORE_ENERGY_TABLE)" \
	  $(PPA_ENV) scripts/models/explore-energy.sh $(BUILD)/vl/$(EXPLORE_ENERGY_CONFIG)/plain/mpq-tb $(GOLDEN_BIN) \
	  $(EXPLORE_ENERGY_CONFIG) $(MODELS_DIR) $(XE_OUT)
