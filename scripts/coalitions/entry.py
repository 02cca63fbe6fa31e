"""Entry points called by the Snakemake rules (through the thin scripts in ``scripts/rules/``).

Each takes Snakemake's ``snakemake`` object, sets up logging to the rule's log file and calls the
package. Errors meant for the user (:class:`CoalitionsError`) are logged as one clear message.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

from .util import LOG, CoalitionsError, setup_logging, write_json_atomic


def _entry(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(fn)
    def wrapper(smk: Any) -> None:
        log = smk.log[0] if len(smk.log) else None
        setup_logging(log)
        try:
            fn(smk)
        except CoalitionsError as exc:
            LOG.error("%s", exc)
            sys.exit(1)

    return wrapper


@_entry
def fetch_public(smk: Any) -> None:
    from .fetch import fetch_public as _fetch
    from .registry import FileEntry

    entry = FileEntry.from_dict(smk.params.entry)
    prov = _fetch(entry, smk.output.data, mirror=smk.params.mirror, retries=smk.params.retries,
                  timeout=smk.params.timeout)
    write_json_atomic(smk.output.provenance, prov)
    LOG.info("%s: verified by %s, from %s", entry.path, prov["verified_by"], prov["origin"])


@_entry
def fetch_archive(smk: Any) -> None:
    from .fetch import fetch_archive as _fetch
    from .registry import Source

    source = Source.from_dict(smk.params.source)
    _fetch(source, smk.output[0], mirror=smk.params.mirror, require=smk.params.require,
           server=smk.params.server, retries=smk.params.retries, timeout=smk.params.timeout)


@_entry
def clean_table(smk: Any) -> None:
    from .readers import build_table

    df = build_table(smk.wildcards.table, smk.input.raw, smk.output[0], rows=smk.params.rows)
    LOG.info("%s: %d rows, %d columns", smk.wildcards.table, len(df), df.shape[1])
