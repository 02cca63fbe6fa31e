"""The software environment: one set of pinned versions, the same in pyproject.toml, the conda
environment file and the running interpreter, so that results do not depend on where they are built."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;,]+)\s*$")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(specs: list[str], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in specs:
        m = _PIN.match(spec)
        assert m, f"{where}: '{spec}' is not pinned with == (every dependency must be)"
        name = _canon(m.group(1))
        assert name not in out, f"{where}: {name} listed twice"
        out[name] = m.group(2)
    return out


@pytest.fixture(scope="module")
def pyproject(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def conda_env(root: Path) -> dict:
    return yaml.safe_load((root / "envs" / "coalitions.yaml").read_text(encoding="utf-8"))


def _conda_pip_pins(env: dict) -> dict[str, str]:
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "envs/coalitions.yaml: expected exactly one pip: section"
    specs = [s for s in pip_lists[0] if not s.startswith("-e")]
    return _pins(specs, "envs/coalitions.yaml")


def test_pyproject_pins_equal_the_conda_environment(pyproject: dict, conda_env: dict) -> None:
    project = _pins(pyproject["project"]["dependencies"], "pyproject.toml [project].dependencies")
    conda = _conda_pip_pins(conda_env)
    only_project = {k: v for k, v in project.items() if k not in conda}
    only_conda = {k: v for k, v in conda.items() if k not in project}
    differ = {k: (project[k], conda[k]) for k in project.keys() & conda.keys() if project[k] != conda[k]}
    assert not only_project, f"pinned in pyproject.toml but not in envs/coalitions.yaml: {only_project}"
    assert not only_conda, f"pinned in envs/coalitions.yaml but not in pyproject.toml: {only_conda}"
    assert not differ, f"different pins (pyproject.toml, envs/coalitions.yaml): {differ}"


def test_conda_environment_installs_the_project_and_a_supported_python(pyproject: dict, conda_env: dict) -> None:
    pip = next(d["pip"] for d in conda_env["dependencies"] if isinstance(d, dict))
    assert "-e .." in pip, "envs/coalitions.yaml must install the coalitions package itself"
    pythons = [d for d in conda_env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert len(pythons) == 1
    major, minor = (int(x) for x in pythons[0].split("=")[1].split(".")[:2])
    req = pyproject["project"]["requires-python"]
    lo = re.search(r">=\s*(\d+)\.(\d+)", req)
    hi = re.search(r"<\s*(\d+)\.(\d+)", req)
    assert lo and (major, minor) >= (int(lo[1]), int(lo[2])), req
    assert hi and (major, minor) < (int(hi[1]), int(hi[2])), req
    assert sys.version_info[:2] >= (int(lo[1]), int(lo[2])) and sys.version_info[:2] < (int(hi[1]), int(hi[2]))


@pytest.mark.parametrize("group", ["dependencies", "test", "slurm"])
def test_installed_versions_equal_the_pins(pyproject: dict, group: str) -> None:
    specs = (pyproject["project"]["dependencies"] if group == "dependencies"
             else pyproject["project"]["optional-dependencies"][group])
    wrong = {}
    for name, pin in _pins(specs, f"pyproject.toml {group}").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pin:
            wrong[name] = (pin, installed)
    assert not wrong, f"installed versions differ from the pins (pin, installed): {wrong}"


def test_the_pin_parser_refuses_unpinned_specs() -> None:
    with pytest.raises(AssertionError, match="not pinned"):
        _pins(["pandas>=2"], "x")
    with pytest.raises(AssertionError, match="listed twice"):
        _pins(["PyYAML==6.0.3", "pyyaml==6.0.3"], "x")
    assert _pins(["Jinja2 == 3.1.6"], "x") == {"jinja2": "3.1.6"}
