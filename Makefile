# Two commands on a fresh machine (see README.md):
#   make all   MIRROR=/path/to/mirror   set up, then build everything (omit MIRROR to download)
#   make test                            set up, then run the test suite
# MIRROR=DIR (a mirror folder) and CONFIGFILE=FILE (a --configfile) may hold spaces and any character.
# Other targets: setup, paper, package, report, bench, lint, clean.

PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 8
MIRROR ?= $(value COALITIONS_MIRROR)
BIN    := $(VENV)/bin
# MIRROR as typed (make does not expand a `$` in it): from the command line or the environment
MIRROR_ := $(if $(filter command% environment%,$(origin MIRROR)),$(value MIRROR),$(MIRROR))
# every value a user passes reaches the shell single-quoted (a mirror path may hold spaces or `$;|`):
# q = the value in single quotes, each ' inside written as '\''
q       = '$(subst ','\'',$(1))'
# an absolute path, made by the shell (make's own abspath splits a path at spaces)
ABS     = "$$(p=$(call q,$(1)); case "$$p" in /*) printf '%s' "$$p";; *) printf '%s/%s' "$$PWD" "$$p";; esac)"
SMK    := $(call q,$(BIN)/snakemake) --cores $(call q,$(CORES))
# --config takes every word after it: targets must come before it
CFG    := $(if $(MIRROR_),--config mirror=$(call ABS,$(MIRROR_)))
# CONFIGFILE=my.yaml: checked first (a duplicate key or a YAML tag is named with its line), then used
CONFIGFILE_ := $(if $(filter command% environment%,$(origin CONFIGFILE)),$(value CONFIGFILE))
CFGFILE := $(if $(CONFIGFILE_),--configfile $(call q,$(CONFIGFILE_)))
CHECK  := $(if $(CONFIGFILE_),$(call q,$(BIN)/python) -m coalitions.guard $(call q,$(CONFIGFILE_)) &&)

.PHONY: all setup system-packages test lint paper package report bench clean

all: setup
	$(CHECK) $(SMK) $(CFGFILE) $(CFG)

# Python environment with the pinned versions of pyproject.toml (re-run when it changes)
setup: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(call q,$(VENV))
	$(call q,$(BIN)/pip) install --quiet --upgrade pip
	$(call q,$(BIN)/pip) install --quiet -e '.[test,slurm]'
	touch $(call q,$@)

# R with the survival package (independent check of the Cox estimator) and a TeX engine for the
# PDF paper, from Debian/Ubuntu packages. Needs root or sudo; skipped with a note otherwise.
system-packages:
	bash scripts/install-system-packages.sh

test: setup system-packages
	COALITIONS_MIRROR=$(call ABS,$(or $(MIRROR_),../shared/data)) $(call q,$(BIN)/pytest) -q

lint: setup
	$(call q,$(BIN)/snakemake) --lint

paper: setup
	$(CHECK) $(SMK) paper $(CFGFILE) $(CFG)

package: setup
	$(CHECK) $(SMK) package $(CFGFILE) $(CFG)

report: setup
	$(CHECK) $(SMK) --report results/report.html $(CFGFILE) $(CFG)

bench: setup
	$(call q,$(BIN)/python) scripts/benchmark.py $(if $(MIRROR_),--mirror $(call ABS,$(MIRROR_))) $(BENCH_ARGS)

clean:
	rm -rf results/*/ resources/ logs/ benchmarks/ .snakemake/
