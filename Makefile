# dip-repro: one-command set-up, workflow runs and tests.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= all
STAMP  := $(VENV)/.installed

# Fits on the hardware at hand: one `gpu` token per GPU that nvidia-smi lists (each fit takes a
# free one); with none (and not macOS, where `device: auto` finds MPS) the fits run on the CPU,
# one thread each and --cores of them at once (docs/performance.md). Override either, e.g.
# `make quick DEVICE=` for the profile's defaults.
GPUS := $(shell nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
ifneq ($(GPUS),0)
GPU_TOKENS ?= --resources gpu=$(GPUS)
else ifneq ($(shell uname -s),Darwin)
DEVICE ?= device=cpu
endif

.PHONY: install run quick studies test test-slurm bench device-data device-check lint report clean

install: $(STAMP)

# torch==2.13.0 first: on these machines it is a CPU wheel on local disk; a bare `torch`
# would download a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,slurm]'
	touch $(STAMP)

run: install            ## the paper reproduction (long without a GPU)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --cores $(CORES) $(GPU_TOKENS) $(if $(DEVICE),--config $(DEVICE))

quick: install          ## the whole DAG on a CPU in minutes
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --cores $(CORES) $(GPU_TOKENS) --config mode=quick $(DEVICE)

studies: install        ## the studies and their report (add MODE=quick for a CPU smoke run)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --cores $(CORES) $(GPU_TOKENS) studies --config mode=$(or $(MODE),paper) $(DEVICE)

report: install         ## Snakemake's own report of the last run
	$(BIN)/snakemake --report reports/snakemake-report.html

# The unit tests on two workers; the end-to-end runs one after another, each using every core.
test: install           ## unit tests + quick end-to-end + browser check
	$(BIN)/python -m pytest -q -n 2 -m "not e2e" --durations=8
	$(BIN)/python -m pytest -q -m e2e --durations=8

test-slurm: install     ## quick mode through a real local Slurm (root + apt)
	bash tests/slurm/run_slurm_e2e.sh

bench: install          ## engine speed, faithful and fast (each next to fp32 eager): table1, 256^2
	for p in faithful fast; do $(BIN)/dip bench --preset table1 --size 256 --iterations 5 --precision $$p --json; done

# The GPU check (docs/performance.md): `make device-data` here fetches the Table-1 images into
# .device-data/ (git-ignored, travels with the tree); `make device-check` on the GPU machine
# runs from the source tree with the python it finds (no install, no network) and writes its
# summary to $(OUT) within $(BUDGET) seconds.
BUDGET ?= 480
OUT    ?= reports/device-check
DEVICE_PYTHON ?= $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)

device-data: install    ## the images `make device-check` needs (set DIP_DATA_MIRROR to work offline)
	$(BIN)/python -m dip.device_check --fetch .device-data

device-check:           ## on a GPU machine: environment, GPU tests, paths, sharing, Table-1 fits
	PYTHONPATH=workflow $(DEVICE_PYTHON) -m dip.device_check --budget $(BUDGET) --out $(OUT) --data .device-data

lint: install
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules

clean:
	rm -rf results data/inputs reports/paper reports/quick reports/*.html reports/*.md logs benchmarks .snakemake
