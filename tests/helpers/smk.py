"""A stand-in for the ``snakemake`` object a rule passes to its script, to call an entry point of
:mod:`coalitions.entry` directly (named inputs, outputs, params and wildcards; an optional log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class Named(list):
    """Snakemake's named list: positional items, each also reachable as an attribute and by ``get``."""

    def __init__(self, **named: Any) -> None:
        super().__init__(named.values())
        self._named = dict(named)
        for k, v in named.items():
            setattr(self, k, v)

    def get(self, key: str, default: Any = None) -> Any:
        return self._named.get(key, default)

    def keys(self):
        return self._named.keys()


class FakeSmk:
    def __init__(self, *, input: dict, output: dict, params: dict | None = None, wildcards: dict | None = None,
                 log: str | Path | None = None) -> None:
        self.input = Named(**{k: (str(v) if isinstance(v, Path) else v) for k, v in input.items()})
        self.output = Named(**{k: str(v) for k, v in output.items()})
        self.params = Named(**(params or {}))
        self.wildcards = Named(**(wildcards or {}))
        self.log = [str(log)] if log else []
