# scripts/zigzag/zigzag.mk: mpq beside its peers (issue 29 item 5, docs/explore.md "Peers"):
# the same layers through ZigZag (PyPI zigzag-dse, in its own venv: scripts/zigzag/venv.sh)
# with an architecture description generated from the configuration, and Vela's Ethos-U55-128
# cycles (scripts/models/vela.py). Included by the top Makefile.
PEERS_OUT ?= $(BUILD)/explore/peers
PEERS_MODELS ?= visual_wake_words image_classification keyword_spotting anomaly_detection tflite_micro_speech
ZIGZAG_PY = "$$(scripts/zigzag/venv.sh)"

.PHONY: explore-peers zigzag-venv explore/peers
zigzag-venv:
	@scripts/zigzag/venv.sh >/dev/null

# The CNN of make explore (dense, energy table) and PEERS_MODELS (int8, as model map maps them):
# $(PEERS_OUT)/peers.{md,json,tsv,png}; the RTL's totals from make bench-models' JSON when it is there.
explore-peers: $(GOLDEN_BIN) $(XP_ENERGY)
	@scripts/models/fetch.sh $(MODELS_DIR)
	@mkdir -p $(PEERS_OUT)/vela
	@set -e; for m in $(PEERS_MODELS); do \
	  $(MODELS_PY) scripts/models/vela.py $(MODELS_DIR)/$$m.tflite --out $(PEERS_OUT)/vela/$$m.json; done
	$(ZIGZAG_PY) scripts/zigzag/peers.py --golden $(GOLDEN_BIN) --out $(PEERS_OUT) --energy $(XP_ENERGY) \
	  --vela-dir $(PEERS_OUT)/vela --bench-models $(BENCH_OUT)-models.json \
	  $(foreach m,$(PEERS_MODELS),--model $(MODELS_DIR)/$(m).tflite)
	@scripts/zigzag/peers-plot.sh $(PEERS_OUT)
	@echo "explore-peers: $(PEERS_OUT)/peers.md"

# In make test (about 20 s): the description against the configuration, the refusals, two CNN
# layers whose ZigZag ideal cycles must equal mpq's steps (scripts/zigzag/test-peers.sh).
explore/peers: $(GOLDEN_BIN) $(XP_ENERGY)
	@scripts/check.sh $(BUILD)/results explore/peers -- scripts/zigzag/test-peers.sh $(GOLDEN_BIN) \
	  $(XP_ENERGY) $(BUILD)/tmp/explore-peers
TEST_TARGETS += explore/peers
