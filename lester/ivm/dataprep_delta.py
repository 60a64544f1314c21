"""Re-running a pipeline's data preparation on changed source rows only.

A stored run knows which prepared rows came from which source rows, so deleting source rows
from a plan that is *linear* in that source (filters, projections, inner joins, unions,
explode, sort: every output row comes from exactly one row of the source; see
:mod:`lester.frame.dependence`) just removes the derived rows. A redaction changes source
rows: the prepared rows derived from them are recomputed by running the pipeline's own
``dataprep`` with that source restricted to the changed rows (so Python functions run on
those rows only) and the other sources whole.

Plans that are not linear in the source (an aggregate or ``distinct`` over it, ``limit``, the
right side of a left join, a self-join, a vectorized Python function or a SQL window that sees
the whole column) are recomputed in full with the changed source, and the stored rows are
diffed against the result: exact, but as slow as the data preparation itself.

Sources are swapped in memory, never by rewriting files: ``dataprep`` builds its lazy plan
from the paths as usual, then the plan's :class:`~lester.frame.sources.Source` for the source
is given the rows (and their original provenance ids) to use instead of its file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lester.errors import LesterError
from lester.frame import Frame
from lester.frame.frame import PROVENANCE_COLUMN_PREFIX
from lester.frame.sources import Source
from lester.pipeline.definition import Pipeline


class DataprepDeltaError(LesterError, RuntimeError):
    """The pipeline's data preparation could not be re-run for the changed rows."""


@dataclass(frozen=True)
class SourceRows:
    """Rows to use for a source instead of its file, with their original provenance ids."""

    rows: pd.DataFrame
    ids: np.ndarray


def _patch(source: Source, replacement: SourceRows) -> None:
    # Only this plan's Source object is patched: dataprep() built it a moment ago.
    source.load = lambda: replacement.rows  # type: ignore[method-assign]
    source.ids = lambda frame: replacement.ids  # type: ignore[method-assign]


def build_frame(definition: Pipeline, paths: Mapping[str, str]) -> Frame:
    """Call ``dataprep`` to build the (lazy) plan; no data is read beyond the headers."""
    try:
        frame = definition.dataprep(**paths)
    except LesterError:
        raise
    except Exception as exc:
        raise DataprepDeltaError(f"dataprep() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(frame, Frame):
        raise DataprepDeltaError(f"dataprep() must return a lester Frame, got {type(frame).__name__}")
    return frame


def sources_named(frame: Frame, source: str) -> list[Source]:
    found = {id(s): s for s in frame.sources.values() if s.name == source}
    return list(found.values())


def source_rows(frame: Frame, source: str) -> tuple[pd.DataFrame, np.ndarray, Source]:
    """The source's rows as the pipeline reads them, and their provenance ids."""
    matches = sources_named(frame, source)
    if not matches:
        known = sorted({s.name for s in frame.sources.values()})
        raise DataprepDeltaError(f"the pipeline's dataprep() reads no source named {source!r}; it reads {known}")
    origin = matches[0]
    rows = origin.load()
    return rows, np.asarray(origin.ids(rows)), origin


def prepare_with(
    definition: Pipeline,
    paths: Mapping[str, str],
    source: str,
    replacement: SourceRows,
) -> tuple[pd.DataFrame, Frame]:
    """Run ``dataprep`` with ``source`` replaced by ``replacement``; the prepared rows come
    with their ``prov:`` columns, as the runner stores them."""
    frame = build_frame(definition, paths)
    for origin in sources_named(frame, source):
        _patch(origin, replacement)
    return frame.to_pandas(provenance=True), frame


def prepare_through(
    definition: Pipeline,
    paths: Mapping[str, str],
    sets: Any,
    replaced: Mapping[str, tuple[pd.DataFrame, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """Run ``dataprep`` with every source read through the store's forget and redaction
    ``sets`` (:mod:`lester.pipeline.forget_set`): no row forgotten by any request, for any
    version, comes back in a re-derivation, and no redacted value in clear. ``replaced`` gives
    rows to use instead of a source's file (the rows a redaction touches), which go through
    the sets too."""
    from lester.pipeline.forget_set import apply_to_frame

    frame = build_frame(definition, paths)
    apply_to_frame(frame, sets, replaced)
    return frame.to_pandas(provenance=True)


def pipeline_with(definition: Pipeline, source: str, change: Callable[[pd.DataFrame, np.ndarray], SourceRows]) -> Pipeline:
    """A copy of the pipeline whose ``dataprep`` reads ``source`` through ``change`` (the
    full rows and ids in, the rows and ids to use out): the runner can then retrain on the
    reduced or redacted source without a file being written."""
    original = definition.dataprep

    def dataprep(**paths: Any) -> Frame:
        frame = original(**paths)
        for origin in sources_named(frame, source):
            rows = origin.load()
            _patch(origin, change(rows, np.asarray(origin.ids(rows))))
        return frame

    dataprep.__wrapped__ = original  # type: ignore[attr-defined]
    return replace(definition, dataprep=dataprep)


def provenance_columns(frame: Frame) -> list[str]:
    return [f"{PROVENANCE_COLUMN_PREFIX}{label}" for label in frame.plan.provenance]


def source_paths(definition: Pipeline, configured: Mapping[str, Any]) -> dict[str, str]:
    """The paths ``dataprep`` was called with: the configuration's, else its defaults."""
    paths = {}
    for name, default in definition.source_defaults().items():
        value = configured.get(name, default)
        if value is None or not Path(value).exists():
            raise DataprepDeltaError(
                f"source {name!r}: {value}: no such file; the run's sources must still be readable"
            )
        paths[name] = str(value)
    return paths
