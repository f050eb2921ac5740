# mnist/: Fashion-MNIST through the golden model and the RTL (make mnist). Included by the
# top Makefile. Data: the Debian package dataset-fashion-mnist (scripts/install-deps.sh data).
MNIST_LIB_SRCS := mnist/mn_data.c mnist/mn_mlp.c mnist/mn_quant.c mnist/mn_study.c mnist/cnn_net.c \
	mnist/mn_vec.c mnist/mn_cli.c
MNIST_LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(MNIST_LIB_SRCS))
MNIST_BIN := $(BUILD)/mpq-mnist
MNIST_RTL_BIN := $(BUILD)/vl/default/mnist/mpq-mnist-rtl
MNIST_OUT ?= $(BUILD)/mnist
MNIST_SEED ?= 1
MNIST_EPOCHS ?= 12
MNIST_IMAGES ?= 1000

$(BUILD)/obj/mnist/%.o: CPPFLAGS += -Imnist -Itb
# Training: dot products vectorize only when float sums may be reassociated; the order is
# still fixed by the binary, so the same seed gives the same weights.
MNIST_TRAIN_CFLAGS := -O3 -fno-math-errno -fassociative-math -fno-signed-zeros -fno-trapping-math
$(BUILD)/obj/mnist/mn_mlp.o $(BUILD)/obj/mnist/cnn_net.o: CFLAGS += $(MNIST_TRAIN_CFLAGS)

$(MNIST_BIN): $(MNIST_LIB_OBJS) $(BUILD)/obj/mnist/mn_main.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The RTL runner links the Verilated default configuration (same shim as the testbench).
MNIST_RTL_OBJS := $(MNIST_LIB_OBJS) $(BUILD)/obj/mnist/mn_cosim.o $(BUILD)/obj/mnist/mn_rtl.o $(BUILD)/obj/tb/tb_cosim.o
$(MNIST_RTL_BIN): $(MNIST_RTL_OBJS) $(GOLDEN_LIB) $(RTL_DEPS) \
                  rtl/mpq_top.dut tb/dut_runtime.h tb/mpq_dut.h tb/build-model.sh tb/build-lib.sh rtl/cfg/default.cfg $(GOLDEN_BIN)
	@echo "verilator: default (mnist runner)"
	@TB_NAME=mpq-mnist-rtl TB_OBJS="$(MNIST_RTL_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" GOLDEN_BIN="$(GOLDEN_BIN)" \
	  VERILATOR="$(VERILATOR)" CXX="$(CXX)" CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" \
	  tb/build-model.sh default plain $(BUILD)/vl/default/mnist rtl

MNIST_MODEL := $(MNIST_OUT)/mlp-s$(MNIST_SEED)-e$(MNIST_EPOCHS).bin

.PHONY: mnist mnist-golden mnist-rtl mnist-data
mnist-data:
	@scripts/install-deps.sh data plot

# The trained model is cached: it is rebuilt only when the training code changes.
$(MNIST_MODEL): $(MNIST_BIN) | mnist-data
	$(MNIST_BIN) --seed $(MNIST_SEED) --epochs $(MNIST_EPOCHS) --out $(MNIST_OUT) --train-only

# make mnist: accuracy per scheme and the study (golden model), then the RTL run, then plots.
mnist: mnist-golden mnist-rtl
	@scripts/workloads/mnist-plot.sh $(MNIST_OUT)

mnist-golden: $(MNIST_BIN) $(MNIST_MODEL)
	$(MNIST_BIN) --seed $(MNIST_SEED) --epochs $(MNIST_EPOCHS) --out $(MNIST_OUT)

mnist-rtl: $(MNIST_RTL_BIN) $(MNIST_MODEL)
	set -o pipefail; $(MNIST_RTL_BIN) --model $(MNIST_MODEL) --images $(MNIST_IMAGES) \
	  | tee $(MNIST_OUT)/rtl.txt.tmp && mv -f $(MNIST_OUT)/rtl.txt.tmp $(MNIST_OUT)/rtl.txt

# In make test: the whole flow, small (1 epoch on 3,000 images, 1,000 test images, 30 through
# the RTL), training twice to check it is deterministic, and the data loader's refusals.
.PHONY: mnist/flow mnist/bad-input
mnist/flow: $(MNIST_BIN) $(MNIST_RTL_BIN)
	@scripts/check.sh $(BUILD)/results mnist/flow -- mnist/tests/flow.sh $(MNIST_BIN) $(MNIST_RTL_BIN) $(BUILD)/tmp/mnist-flow
mnist/bad-input: $(MNIST_BIN)
	@scripts/check.sh $(BUILD)/results mnist/bad-input -- mnist/tests/bad-input.sh $(MNIST_BIN) $(BUILD)/tmp/mnist-bad
TEST_TARGETS += mnist/flow mnist/bad-input

# The CNN (make cnn): mnist/cnn.mk.
include mnist/cnn.mk

# ABFP (make abfp): the MLP and the CNN on emulated analog matrix units (mnist/abfp*.c,
# golden/arith/mpq_abfp.h; docs/abfp.md).
ABFP_BIN := $(BUILD)/mpq-abfp
ABFP_OUT ?= $(BUILD)/abfp
# More mpq-abfp options (e.g. ABFP_FLAGS=--quick for a smoke run, --no-finetune).
ABFP_FLAGS ?=
ABFP_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,mnist/abfp_net.c mnist/abfp_ft.c mnist/abfp_main.c)
$(ABFP_BIN): $(MNIST_LIB_OBJS) $(ABFP_OBJS) $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# make abfp: the study on the cached float models (trained by make mnist / make cnn when
# missing), tables in $(ABFP_OUT)/abfp.md and the plots (scripts/abfp-plot.sh).
.PHONY: abfp
abfp: $(ABFP_BIN) $(MNIST_MODEL) $(CNN_MODEL) | mnist-data
	@mkdir -p $(ABFP_OUT)
	set -o pipefail; $(ABFP_BIN) --mlp $(MNIST_MODEL) --cnn $(CNN_MODEL) --out $(ABFP_OUT) $(ABFP_FLAGS) \
	  | tee $(ABFP_OUT)/study.txt.tmp && mv -f $(ABFP_OUT)/study.txt.tmp $(ABFP_OUT)/study.txt
	@scripts/abfp-plot.sh $(ABFP_OUT)

# In make test: the refusals (exit 2 naming the option), --eval reproducible to the byte with
# noise, and the whole study small (--quick) on models trained small.
.PHONY: abfp/flow
abfp/flow: $(ABFP_BIN) $(MNIST_BIN) $(CNN_BIN)
	@scripts/check.sh $(BUILD)/results abfp/flow -- mnist/tests/abfp-flow.sh $(ABFP_BIN) $(MNIST_BIN) $(CNN_BIN) $(BUILD)/tmp/abfp-flow
TEST_TARGETS += abfp/flow
include mnist/xp.mk
