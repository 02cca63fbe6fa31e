# Two commands on a fresh machine (see README.md):
#   make all   MIRROR=/path/to/mirror   set up, then build everything (omit MIRROR to download)
#   make test                            set up, then run the test suite
# Other targets: setup, paper, package, report, bench, lint, clean.

PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 8
MIRROR ?= $(COALITIONS_MIRROR)
BIN    := $(VENV)/bin
SMK    := $(BIN)/snakemake --cores $(CORES) $(if $(MIRROR),--config mirror=$(abspath $(MIRROR)))

.PHONY: all setup system-packages test lint paper package report bench clean

all: setup
	$(SMK)

# Python environment with the pinned versions of pyproject.toml (re-run when it changes)
setup: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
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
	$(SMK) paper

package: setup
	$(SMK) package

report: setup
	$(SMK) --report results/report.html

bench: setup
	$(BIN)/python scripts/benchmark.py $(if $(MIRROR),--mirror $(abspath $(MIRROR)))

clean:
	rm -rf results/*/ resources/ logs/ benchmarks/ .snakemake/
