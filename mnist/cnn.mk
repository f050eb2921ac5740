# mnist/cnn.mk: the CNN on Fashion-MNIST (make cnn), included by mnist/mnist.mk. Shares the
# MLP's data loader, quantizer, study harness, plots and RTL runner (mpq-mnist-rtl loads
# either model).
CNN_BIN := $(BUILD)/mpq-cnn
CNN_OUT ?= $(BUILD)/cnn
CNN_ARCH ?= c16,p2,c32s2,c64s2v,f10
CNN_SEED ?= 1
CNN_EPOCHS ?= 6
CNN_IMAGES ?= 1000
# RTL configurations the CNN runs on, each in its own weight format (mpq-mnist-rtl --scheme
# auto): default = ternary + 1:16 int8, mix2 = ternary + 2:16 (20-bit accumulator), tern =
# ternary only, dense = dense int8.
CNN_RTL_CONFIGS ?= default mix2 tern dense

$(CNN_BIN): $(MNIST_LIB_OBJS) $(BUILD)/obj/mnist/cnn_main.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

comma := ,
CNN_MODEL := $(CNN_OUT)/cnn-$(subst $(comma),_,$(CNN_ARCH))-s$(CNN_SEED)-e$(CNN_EPOCHS).bin

# The RTL runner of another configuration (the default one is mnist.mk's).
$(BUILD)/vl/%/mnist/mpq-mnist-rtl: $(MNIST_RTL_OBJS) $(GOLDEN_LIB) $(RTL_DEPS) \
                  rtl/mpq_top.dut tb/dut_runtime.h tb/mpq_dut.h tb/build-model.sh tb/build-lib.sh rtl/cfg/%.cfg $(GOLDEN_BIN)
	@echo "verilator: $* (mnist runner)"
	@TB_NAME=mpq-mnist-rtl TB_OBJS="$(MNIST_RTL_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" GOLDEN_BIN="$(GOLDEN_BIN)" \
	  VERILATOR="$(VERILATOR)" CXX="$(CXX)" CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" \
	  tb/build-model.sh $* plain $(BUILD)/vl/$*/mnist rtl

.PHONY: cnn cnn-golden cnn-rtl cnn-train
# The trained model is cached: it is rebuilt only when the training code changes (the float
# kernels and the random numbers; the data loader), not when the rest of mpq-cnn does.
$(CNN_MODEL): $(BUILD)/obj/mnist/cnn_net.o $(BUILD)/obj/mnist/mn_mlp.o $(BUILD)/obj/mnist/mn_data.o | $(CNN_BIN) mnist-data
	$(CNN_BIN) --arch $(CNN_ARCH) --seed $(CNN_SEED) --epochs $(CNN_EPOCHS) --out $(CNN_OUT) --train-only
cnn-train: $(CNN_MODEL)

# make cnn: accuracy per scheme and the study (golden model), then the RTL runs, then plots.
cnn: cnn-golden cnn-rtl
	@scripts/workloads/mnist-plot.sh $(CNN_OUT) "Fashion-MNIST CNN"

cnn-golden: $(CNN_BIN) $(CNN_MODEL)
	set -o pipefail; $(CNN_BIN) --arch $(CNN_ARCH) --seed $(CNN_SEED) --epochs $(CNN_EPOCHS) --out $(CNN_OUT) \
	  | tee $(CNN_OUT)/golden.txt.tmp && mv -f $(CNN_OUT)/golden.txt.tmp $(CNN_OUT)/golden.txt

# One run per configuration, CNN_IMAGES test images each: build/cnn/rtl-<config>.txt.
cnn-rtl: $(foreach c,$(CNN_RTL_CONFIGS),cnn-rtl-$(c))
cnn-rtl-%: $(BUILD)/vl/%/mnist/mpq-mnist-rtl $(CNN_MODEL)
	set -o pipefail; $< --config rtl/cfg/$*.cfg --model $(CNN_MODEL) --images $(CNN_IMAGES) \
	  | tee $(CNN_OUT)/rtl-$*.txt.tmp && mv -f $(CNN_OUT)/rtl-$*.txt.tmp $(CNN_OUT)/rtl-$*.txt

# In make test: the CNN flow, small (1 epoch on 1,500 images, trained twice to check it is
# deterministic; the golden model's inference against a plain recomputation in every scheme;
# the study on 300 test images; 2 images through the RTL), and the refusals.
CNN_CHECK_BIN := $(BUILD)/mnist-tests/cnn_check
$(CNN_CHECK_BIN): $(MNIST_LIB_OBJS) $(BUILD)/obj/mnist/tests/cnn_check.o $(GOLDEN_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
.PHONY: cnn/flow cnn/bad-input
cnn/flow: $(CNN_BIN) $(CNN_CHECK_BIN) $(MNIST_RTL_BIN)
	@scripts/check.sh $(BUILD)/results cnn/flow -- mnist/tests/cnn-flow.sh $(CNN_BIN) $(CNN_CHECK_BIN) $(MNIST_RTL_BIN) $(BUILD)/tmp/cnn-flow
cnn/bad-input: $(CNN_BIN) $(MNIST_RTL_BIN)
	@scripts/check.sh $(BUILD)/results cnn/bad-input -- mnist/tests/cnn-bad-input.sh $(CNN_BIN) $(MNIST_RTL_BIN) $(BUILD)/tmp/cnn-bad
TEST_TARGETS += cnn/flow cnn/bad-input
