# Regressions on a farm: plans (scripts/farm/plans/*.plan) run as independent mpq-tb jobs on this
# machine or on Slurm, merged into one answer (scripts/farm/regress.py). Included by the top Makefile.
#
#   make regress PLAN=smoke [BACKEND=local|slurm] [RERUN=failed] [COVERAGE=1] [SHARDS=n] [JOBS=n]
#   make regress-shard PLAN=smoke SHARD=i      one shard of the first round here, no merge (CI matrix)
#   make regress-merge PLAN=smoke              merge the results folder of this commit and plan again
#   make regress-list PLAN=smoke               the jobs, their commands and shards; nothing run
# Results: $(BUILD)/regress/<commit>-<plan>[-cov]/ (summary.txt, junit.xml, failures.json, ...).
# BACKEND=slurm submits a job array to the cluster of $SLURM_CONF (START_TIMEOUT: seconds a
# task may stay pending; TASK_TIME: minutes per task); scripts/farm/slurm-cluster.sh starts a
# one-node cluster on this machine to try it.
PLAN ?=
BACKEND ?= local
RERUN ?=
COVERAGE ?= 0
SHARDS ?=
SHARD ?=
JOBS ?=
START_TIMEOUT ?= 1800
TASK_TIME ?=
REGRESS_BUILD_CMD = $(MAKE) -s --no-print-directory SAN=$(SAN) BUILD=$(BUILD)
regress_args = --plan "$(PLAN)" --build $(BUILD) --golden $(GOLDEN_BIN) $(if $(filter 1 yes,$(COVERAGE)),--coverage)

# The coverage kind of the model (tb/build-model.sh ... cov): writes counters to $MPQ_COV_DIR.
$(BUILD)/vl/%/cov/mpq-tb: $(TB_DEPS) rtl/cfg/%.cfg
	@echo "verilator: $* (coverage)"
	@TB_OBJS="$(TB_OBJS)" GOLDEN_LIB="$(GOLDEN_LIB)" GOLDEN_BIN="$(GOLDEN_BIN)" VERILATOR="$(VERILATOR)" CXX="$(CXX)" \
	  CXXFLAGS_SAN="$(SAN_FLAGS)" LDFLAGS_SAN="$(SAN_FLAGS)" \
	  tb/build-model.sh $* cov $(BUILD)/vl/$*/cov rtl

# mpq-golden reads the configurations and gives mpq-tb's option table to the farm.
.PHONY: regress regress-shard regress-merge regress-list
regress regress-shard regress-merge regress-list: $(GOLDEN_BIN)
regress:
	@$(PYTHON) scripts/farm/regress.py run $(regress_args) --backend "$(BACKEND)" --rerun "$(RERUN)" \
	  --shards "$(SHARDS)" --jobs "$(JOBS)" --start-timeout "$(START_TIMEOUT)" --task-time "$(TASK_TIME)" \
	  --build-cmd "$(REGRESS_BUILD_CMD)"
regress-shard:
	@$(PYTHON) scripts/farm/regress.py run $(regress_args) --backend local --shard "$(if $(SHARD),$(SHARD),unset)" \
	  --build-cmd "$(REGRESS_BUILD_CMD)"
regress-merge:
	@$(PYTHON) scripts/farm/regress.py merge $(regress_args)
regress-list:
	@$(PYTHON) scripts/farm/regress.py list $(regress_args) --shards "$(SHARDS)"

# --- Tests in `make test` -----------------------------------------------------------------------
# farm/local: the local backend on a small plan with real mismatches (signatures, reproduce
# commands that reproduce, idempotent merge, RERUN=failed, coverage counters merged; the
# lane-2 sign error of scripts/mutate/mutants.tsv, built by scripts/mutate/mutate.sh, grouped as lane 2), every
# kind of bad input refused with exit 2, results of other runs refused, plans deterministic.
# farm/slurm-smoke: the smoke plan through the slurm backend on a one-node cluster
# (scripts/farm/slurm-cluster.sh), started for the test and always stopped.
# farm/slurm-faults: on its own cluster, a job that crashes, one past its time limit, a task
# past Slurm's time limit, a task killed, one cancelled, tasks that never start; each reported
# as such, and RERUN=failed picks them all up.
FARM_SMOKE_CFGS := default small mix2 tern
FARM_MODELS := $(foreach c,$(FARM_SMOKE_CFGS),$(BUILD)/vl/$(c)/plain/mpq-tb $(BUILD)/vl/$(c)/trace/mpq-tb)
FARM_ENV = BUILD=$(BUILD) PYTHON=$(PYTHON) REGRESS_BUILD_CMD="$(REGRESS_BUILD_CMD)" MPQ_GOLDEN=$(GOLDEN_BIN)
.PHONY: farm/local farm/slurm-smoke farm/slurm-faults
farm/local: $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/default/trace/mpq-tb $(BUILD)/vl/small/cov/mpq-tb \
            $(TB_OBJS) $(GOLDEN_LIB) $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results farm/local -- env $(FARM_ENV) $(MUTATE_ENV) \
	  scripts/farm/tests/farm-local.sh $(BUILD)/tmp/farm-local
farm/slurm-smoke: $(FARM_MODELS) $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results farm/slurm-smoke -- env $(FARM_ENV) scripts/farm/tests/farm-slurm-smoke.sh $(BUILD)/tmp/farm-slurm-smoke
farm/slurm-faults: $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/default/trace/mpq-tb $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results farm/slurm-faults -- env $(FARM_ENV) scripts/farm/tests/farm-slurm-faults.sh $(BUILD)/tmp/farm-slurm-faults
# farm/slurm-faults mostly waits (for Slurm's time limit): first in the list, so that make -j
# starts it early and the waiting overlaps the other tests.
TEST_TARGETS := farm/slurm-faults $(TEST_TARGETS) farm/local farm/slurm-smoke

# --- Benchmark piece of `make bench` ------------------------------------------------------------
# $(BENCH_OUT)/farm.json: aggregate cycles per second with 1 and 2 shards (local backend), the
# slurm backend's overhead per job, the merge time of 1,000 job results.
.PHONY: bench-farm
bench-farm: $(BUILD)/vl/default/plain/mpq-tb $(BUILD)/vl/default/trace/mpq-tb $(GOLDEN_BIN)
	@$(FARM_ENV) scripts/farm/bench-farm.sh $(BENCH_OUT)
