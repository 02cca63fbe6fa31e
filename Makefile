# Two commands on a fresh machine (see README.md):
#   make all   MIRROR=/path/to/mirror   set up, then build everything (omit MIRROR to download)
#   make test                            set up, then run the test suite
# Other targets: setup, paper, package, report, bench, lint, clean.

PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 8
MIRROR ?= $(COALITIONS_MIRROR)
BIN    := $(VENV)/bin
SMK    := $(BIN)/snakemake --cores $(CORES)
# --config takes every word after it: targets must come before it
CFG    := $(if $(MIRROR),--config mirror=$(abspath $(MIRROR)))

.PHONY: all setup system-packages test lint paper package report bench clean

all: setup
	$(SMK) $(CFG)

# Python environment with the pinned versions of pyproject.toml (re-run when it changes)
setup: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,slurm]'
	touch $@

# R with the survival package (independent check of the Cox estimator) and a TeX engine for the
# PDF paper, from Debian/Ubuntu packages. Needs root or sudo; skipped with a note otherwise.
system-packages:
	bash scripts/install-system-packages.sh

test: setup system-packages
	COALITIONS_MIRROR=$(abspath $(or $(MIRROR),../shared/data)) $(BIN)/pytest -q

lint: setup
	$(BIN)/snakemake --lint

paper: setup
	$(SMK) paper $(CFG)

package: setup
	$(SMK) package $(CFG)

report: setup
	$(SMK) --report results/report.html $(CFG)

bench: setup
	$(BIN)/python scripts/benchmark.py $(if $(MIRROR),--mirror $(abspath $(MIRROR))) $(BENCH_ARGS)

clean:
	rm -rf results/*/ resources/ logs/ benchmarks/ .snakemake/
