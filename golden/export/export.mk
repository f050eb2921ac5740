# golden/export/: the golden model inside other testbenches (docs/scoreboard.md). Included by
# golden/golden.mk, whose library (libmpq.a) holds the scoreboard API (export/mpq_sb.c).
#   $(BUILD)/libmpq.so       the golden library as a shared library (Python ctypes, cocotb:
#                            golden/export/python/mpq_golden.py)
#   $(BUILD)/libmpq_dpi.so   the same with the DPI-C adapter golden/export/sv/mpq_golden_dpi.c,
#                            for mpq_golden_pkg.sv on any simulator (-sv_lib)
# Tests: golden/export-sv (Verilator --timing testbench through DPI-C), golden/export-cocotb
# (a cocotb test of rtl/mpq_requant.sv checked through ctypes).

EXPORT_SO := $(BUILD)/libmpq.so
EXPORT_DPI_SO := $(BUILD)/libmpq_dpi.so
EXPORT_PIC_OBJS := $(patsubst %.c,$(BUILD)/pic/%.o,$(GOLDEN_LIB_SRCS))
EXPORT_DPI_OBJ := $(BUILD)/pic/golden/export/sv/mpq_golden_dpi.o
# svdpi.h, the standard header of IEEE 1800 Annex H, as the build's Verilator ships it.
EXPORT_SVDPI = $(shell $(VERILATOR) --getenv VERILATOR_ROOT)/include/vltstd

# Position-independent objects of the library, with the flags golden.mk gives the kernels.
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@
$(BUILD)/pic/golden/arith/mpq_mac.o $(BUILD)/pic/golden/arith/mpq_conv.o: CFLAGS += -O3
$(BUILD)/pic/golden/arith/mpq_abfp.o: CFLAGS += -O3 -ffp-contract=off
$(EXPORT_DPI_OBJ): CPPFLAGS += -I$(EXPORT_SVDPI)

$(EXPORT_SO): $(EXPORT_PIC_OBJS)
	$(CC) -shared $(LDFLAGS) $^ $(LDLIBS) -o $@
# The sv* functions of svdpi.h stay undefined: the simulator that loads the library has them.
$(EXPORT_DPI_SO): $(EXPORT_PIC_OBJS) $(EXPORT_DPI_OBJ) $(EXPORT_DPI_OBJ:.o=.cxx-ok)
	$(CC) -shared $(LDFLAGS) $(EXPORT_PIC_OBJS) $(EXPORT_DPI_OBJ) $(LDLIBS) -o $@
# Verilator compiles a .c file given to it as C++: the adapter must be valid C++ as well.
$(EXPORT_DPI_OBJ:.o=.cxx-ok): golden/export/sv/mpq_golden_dpi.c golden/export/mpq_sb.h golden/arith/mpq.h
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -Igolden -I$(EXPORT_SVDPI) -fsyntax-only -x c++ $<
	@touch $@

.PHONY: export
export: $(EXPORT_SO) $(EXPORT_DPI_SO)

-include $(shell find $(BUILD)/pic -name '*.d' 2>/dev/null)

# --- golden/export-sv: the SystemVerilog testbench (golden/export/tests/tb_golden_dpi.sv) ----
EXPORT_SV_DIR := $(BUILD)/export-sv
EXPORT_SEED ?= 27
EXPORT_CASES_BIN := $(BUILD)/dpi_cases
$(EXPORT_CASES_BIN): $(BUILD)/obj/golden/export/tests/dpi_cases.o $(GOLDEN_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(EXPORT_SV_DIR)/tb_golden_dpi: golden/export/sv/mpq_golden_pkg.sv golden/export/tests/tb_golden_dpi.sv \
  golden/export/tests/build-sv.sh golden/export/tests/tb_golden_dpi.vlt rtl/mpq_requant.sv rtl/mpq_layout_pkg.sv rtl/mpq.vlt $(EXPORT_DPI_SO)
	@echo "verilator: golden/export/tests/tb_golden_dpi.sv (--binary --timing)"
	@VERILATOR="$(VERILATOR)" SAN_FLAGS="$(SAN_FLAGS)" golden/export/tests/build-sv.sh $(EXPORT_SV_DIR) $(EXPORT_DPI_SO)

.PHONY: golden/export-sv
golden/export-sv: $(EXPORT_SV_DIR)/tb_golden_dpi $(EXPORT_CASES_BIN)
	@scripts/check.sh $(BUILD)/results golden/export-sv -- bash -c 'set -e; \
	  $(EXPORT_CASES_BIN) --seed $(EXPORT_SEED) -o $(EXPORT_SV_DIR)/cases.txt; \
	  $(EXPORT_SV_DIR)/tb_golden_dpi +seed=$(EXPORT_SEED) +cases=$(EXPORT_SV_DIR)/cases.txt'
TEST_TARGETS += golden/export-sv

# --- golden/export-python: the ctypes binding alone (golden/export/tests/test_binding.py) ------
# The same random layers as golden/export-sv, and hand-checked ones. SAN=1: the library's
# sanitizer runtimes are preloaded into Python (whose own allocations outlive the run).
EXPORT_PY_SAN := $(if $(filter 1,$(SAN)),env LD_PRELOAD=$(shell $(CC) -print-file-name=libasan.so):$(shell   $(CC) -print-file-name=libubsan.so) ASAN_OPTIONS=detect_leaks=0)
.PHONY: golden/export-python
golden/export-python: $(EXPORT_SO) $(EXPORT_CASES_BIN)
	@mkdir -p $(BUILD)/export-python
	@scripts/check.sh $(BUILD)/results golden/export-python -- bash -c 'set -e; \
	  $(EXPORT_CASES_BIN) --seed $(EXPORT_SEED) -o $(BUILD)/export-python/cases.txt; \
	  $(EXPORT_PY_SAN) $(PYTHON) golden/export/tests/test_binding.py $(BUILD)/export-python/cases.txt $(EXPORT_SO)'
TEST_TARGETS += golden/export-python

# --- golden/export-cocotb: the cocotb example (golden/export/tests/cocotb/) -------------------
# rtl/mpq_requant.sv driven from Python and checked through the ctypes binding; cocotb is
# installed on first use into build/tools/cocotb-venv (golden/export/tests/cocotb/venv.sh).
EXPORT_COCOTB_DIR := $(BUILD)/export-cocotb
.PHONY: golden/export-cocotb
golden/export-cocotb: $(EXPORT_SO)
	@scripts/check.sh $(BUILD)/results golden/export-cocotb -- env VERILATOR="$(VERILATOR)" CC="$(CC)" \
	  SAN=$(SAN) MPQ_SEED=$(EXPORT_SEED) golden/export/tests/cocotb/run.sh $(EXPORT_COCOTB_DIR) $(EXPORT_SO)
TEST_TARGETS += golden/export-cocotb
