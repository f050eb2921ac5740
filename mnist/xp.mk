# mnist/xp.mk: make explore, the search over the Fashion-MNIST CNN's per-layer (precision,
# mapping) points (issue 29 items 3 and 4, docs/explore.md "The search"). Included by
# mnist/mnist.mk after cnn.mk (it uses the trained CNN).
XP_BIN := $(BUILD)/mpq-explore-net
XP_OUT ?= $(BUILD)/explore
# The configuration searched: dense offers every precision (ternary + 0..16 entries, int8)
# and has make ppa's measured energy.
XP_CONFIG ?= dense
XP_PRECISIONS ?= tern+0hp,tern+1hp,tern+2hp,int8
XP_IMAGES ?= 10000
XP_BATCH ?= 1
XP_MEASURED := scripts/golden/explore-energy.tsv
XP_ENERGY := $(XP_OUT)/energy.tsv

XP_OBJS := $(BUILD)/obj/mnist/xp_main.o $(BUILD)/obj/mnist/xp_out.o $(BUILD)/obj/mnist/xp_search.o \
	$(BUILD)/obj/mnist/xp_acc.o
$(XP_BIN): $(MNIST_LIB_OBJS) $(XP_OBJS) $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The energy-per-action table, fitted from make ppa's measured per-unit energies and the
# closed-form counts of the same workloads (scripts/golden/explore-energy.py).
$(XP_ENERGY): $(XP_MEASURED) scripts/golden/explore-energy.py $(GOLDEN_BIN)
	@mkdir -p $(@D)
	python3 scripts/golden/explore-energy.py --golden $(GOLDEN_BIN) --measured $(XP_MEASURED) --out $(XP_OUT)

# The front is a file target: a rerun with nothing changed does nothing, and the accuracy of
# every precision vector is cached in $(XP_OUT)/accuracy-cache.tsv besides.
XP_FRONT := $(XP_OUT)/front.json
$(XP_FRONT): $(XP_BIN) $(XP_ENERGY) $(CNN_MODEL) rtl/cfg/$(XP_CONFIG).cfg
	set -o pipefail; $(XP_BIN) --config rtl/cfg/$(XP_CONFIG).cfg --energy $(XP_ENERGY) --model $(CNN_MODEL) \
	  --arch $(CNN_ARCH) --precisions $(XP_PRECISIONS) --images $(XP_IMAGES) --batch $(XP_BATCH) --out $(XP_OUT) \
	  | tee $(XP_OUT)/search.txt.tmp && mv -f $(XP_OUT)/search.txt.tmp $(XP_OUT)/search.txt
	@scripts/golden/explore-plot.sh $(XP_OUT)

# A sample of the front on the RTL: the hardware layers of three chosen points
# (front-rtl.txt) in lockstep on the Verilated XP_CONFIG (its white-box build), every count,
# the cycles and the RTL's access counters compared with the closed form the search used.
XP_TB := $(BUILD)/vl/$(XP_CONFIG)/wb/mpq-tb
$(XP_OUT)/front-rtl.log: $(XP_FRONT) $(XP_TB)
	set -o pipefail; EXPLORE_LINES=$(XP_OUT)/front-rtl.txt EXPLORE_COUNTERS=1 scripts/golden/explore-rtl.sh \
	  $(GOLDEN_BIN) $(XP_TB) $(XP_CONFIG) | tee $@.tmp && mv -f $@.tmp $@

.PHONY: explore explore/search
explore: $(XP_FRONT) $(XP_OUT)/front-rtl.log

# In make test: the search on a small model and few images (determinism, the Pareto property,
# the cache hit, the refusals).
explore/search: $(XP_BIN) $(CNN_BIN) $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results explore/search -- mnist/tests/xp-search.sh $(XP_BIN) $(CNN_BIN) \
	  $(GOLDEN_BIN) $(BUILD)/tmp/xp-search
TEST_TARGETS += explore/search
