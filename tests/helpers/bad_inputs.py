"""Scaffolding of the table-driven bad-input suite (tests/test_bad_inputs.py).

A :class:`Row` is one bad input: what is changed, the expected error text (a regular expression that
must name the culprit: file, key, row, URL or member) and a ``run`` function that applies the change
and returns an :class:`Outcome`: whether the input was refused, the message the user sees, the full
output (to look for tracebacks) and every file left behind that a later run could trust.

Three ways of running a row, the cheapest that shows the real behaviour:

* ``py``: call the workflow's Python function (fetch, readers, coding and case-file loaders) and
  catch the :class:`~coalitions.util.CoalitionsError` it raises;
* ``smk``: ``snakemake -n`` (start-up checks) or one small target in a scratch copy of the workflow;
  a job-level row starts from a copy of a prepared build (clean tables and the baseline's Weisiger
  data, built once per session), so that only the job under test runs;
* ``make``: the Makefile with a stand-in virtualenv whose programs record the arguments they get.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .workflow import copy_workflow, output_of, snakemake


@dataclass
class Outcome:
    refused: bool
    message: str
    output: str = ""
    leftovers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    id: str
    area: str
    what: str  # what is changed
    expect: str  # regular expression the message must match (names the culprit)
    run: Callable[["Ctx"], Outcome]
    issue: str | None = None  # the item of the issue this row closes ("1" ... "13", with a sub-label)
    accepted: bool = False  # the input is legitimate and must now be accepted (issue item 6)
    via: str = "py"


class Ctx:
    """What a row needs: the project, the mirror, a scratch folder and the prepared build."""

    def __init__(self, root: Path, mirror: Path, tmp: Path, prepared: Callable[[], Path]):
        self.root, self.mirror, self.tmp, self._prepared = root, mirror, tmp, prepared

    def scratch(self, name: str = "wf") -> Path:
        """A fresh copy of the workflow's code and configuration (no data)."""
        return copy_workflow(self.root, self.tmp / name)

    def built(self, name: str = "built") -> Path:
        """A copy of the prepared build (tables and baseline Weisiger data), mtimes kept."""
        dst = self.tmp / name
        shutil.copytree(self._prepared(), dst, symlinks=True, ignore=shutil.ignore_patterns(".snakemake"))
        return dst

    @property
    def prepared(self) -> Path:
        return self._prepared()


# ------------------------------------------------------------------------------------------------
# running


def expect_error(fn: Callable, *args, leftovers: Callable[[], list[str]] | None = None, **kwargs) -> Outcome:
    """Call ``fn``; a CoalitionsError is a refusal (its text the message), success is acceptance."""
    from coalitions.util import CoalitionsError

    try:
        fn(*args, **kwargs)
    except CoalitionsError as exc:
        return Outcome(True, str(exc), str(exc), leftovers() if leftovers else [])
    return Outcome(False, "(accepted)", "", leftovers() if leftovers else [])


def user_line(out: str) -> str:
    """The one line the workflow prints for a bad input: ``Error: ...`` at start-up, ``ERROR coalitions: ...``
    in a job; else Snakemake's own error block (its first lines)."""
    for line in out.splitlines():
        if line.startswith("Error: ") or line.startswith("ERROR coalitions: "):
            return line.split(": ", 1)[1]
    m = re.search(r"^(\w*(Error|Exception)\b.*(?:\n(?!\s*$).*){0,4})", out, flags=re.M)
    block = m.group(1) if m else out.strip()[-600:]
    return " ".join(line.strip() for line in block.splitlines() if line.strip())  # Snakemake's own message


def run_smk(work: Path, *args: str, timeout: float = 300, env: dict | None = None) -> tuple[int, str]:
    if env is None:
        proc = snakemake(work, *args, timeout=timeout)
    else:
        full = {k: v for k, v in os.environ.items() if k != "COALITIONS_MIRROR"} | env
        proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=work, env=full,
                              capture_output=True, text=True, timeout=timeout)
    return proc.returncode, output_of(proc)


def untrusted(work: Path, *expected_absent: str) -> list[str]:
    """Files a later run could trust: the named outputs if they exist, and any temporary file left."""
    left = [p for p in expected_absent if (work / p).exists()]
    for folder in ("results", "resources"):
        if (work / folder).exists():
            left += [str(p.relative_to(work)) for p in (work / folder).rglob("*") if p.name.endswith(".partial")]
    return left


def smk_outcome(work: Path, args: list[str], absent: list[str] = (), timeout: float = 300,
                env: dict | None = None) -> Outcome:
    rc, out = run_smk(work, *args, timeout=timeout, env=env)
    return Outcome(rc != 0, user_line(out) if rc != 0 else "(accepted)", out, untrusted(work, *absent))


def dry_run(ctx: Ctx, *config: str, edit: Callable[[Path], None] | None = None, extra: list[str] = (),
            name: str = "dry") -> Outcome:
    """``snakemake -n`` in a fresh scratch copy (after ``edit``); nothing may be created."""
    work = ctx.scratch(name)
    if edit:
        edit(work)
    args = ["-n", *extra] + (["--config", *config] if config else [])
    out = smk_outcome(work, args)
    out.leftovers += [p for p in ("results", "resources") if (work / p).exists()]
    return out


def replace_text(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# the Makefile, with a stand-in virtualenv

RECORDER = """#!/bin/sh
# stand-in for {name}: record the arguments and the mirror it was given
if [ "$1" = "-m" ]; then exec {python} "$@"; fi
{{ printf '%s\\n' "{name}" "$@"; printf 'COALITIONS_MIRROR=%s\\n' "$COALITIONS_MIRROR"; }} > "{record}"
"""


def fake_venv(work: Path) -> tuple[Path, Path]:
    """``work/fakevenv`` whose snakemake, pytest and python record their arguments in ``work/args.txt``."""
    venv = work / "fakevenv"
    (venv / "bin").mkdir(parents=True)
    record = work / "args.txt"
    for name in ("snakemake", "pytest", "python", "pip"):
        p = venv / "bin" / name
        p.write_text(RECORDER.format(name=name, python=sys.executable, record=record))
        p.chmod(0o755)
    (venv / ".installed").touch()  # newer than pyproject.toml: `setup` has nothing to do
    return venv, record


def run_make(work: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # `make test MIRROR=...` exports its command-line variables to the tests: none of them may leak in
    inherited = ("COALITIONS_MIRROR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MIRROR", "CONFIGFILE", "CORES",
                 "VENV", "PYTHON", "BENCH_ARGS")
    full = {k: v for k, v in os.environ.items() if k not in inherited}
    full.update(env or {})
    return subprocess.run(["make", "-s", "-o", "system-packages", *args], cwd=work, env=full,
                          capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------------------------------------------
# the start-up checks without Snakemake (what the Snakefile and rules/common.smk call, in order)


def start_up(work: Path, settings: list[str] = (), configfiles: list[str] = ()) -> None:
    """Config files read strictly, ``--config`` values parsed as Snakemake parses them, typed and checked,
    then the registry and the coding files loaded: the start-up of the workflow in ``work``."""
    from snakemake.cli import parse_config
    from snakemake.utils import update_config

    from coalitions import guard, strict_yaml
    from coalitions.codings import load_codings
    from coalitions.registry import load_registry

    cwd = os.getcwd()
    os.chdir(work)
    try:
        guard.check_config_files(["config/config.yaml", "config/schema.yaml", *configfiles])
        config = strict_yaml.load("config/config.yaml")
        for f in configfiles:
            update_config(config, strict_yaml.load(f))
        update_config(config, parse_config(list(settings)))
        guard.check_config(config, "config/schema.yaml")
        load_registry(config["sources"])
        load_codings("config/codings", list(config["codings"]))
    finally:
        os.chdir(cwd)


def start_up_outcome(ctx: "Ctx", settings: list[str] = (), edit: Callable[[Path], None] | None = None,
                     configfiles: list[str] = ()) -> Outcome:
    work = ctx.scratch("start")
    if edit:
        edit(work)
    out = expect_error(start_up, work, list(settings), list(configfiles))
    out.leftovers += [p for p in ("results", "resources") if (work / p).exists()]
    return out
