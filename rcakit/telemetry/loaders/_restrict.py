"""The rows of a Telemetry inside a time window and of some entities: what a lazy read keeps.

The lazy store applies :func:`exact_filter` to the rows it has read and normalized (its scan's filter
keeps a superset); :func:`restrict` applies the same filter to a Telemetry already in memory, so an
eager read with ``window=``/``entities=`` returns what a lazy one does.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.window import TimeWindow, WindowLike

__all__ = ["entity_list", "exact_filter", "restrict"]


def entity_list(entities: Iterable[str]) -> list[str]:
    """The names of ``entities=``: one name or several; a DataError when there are none."""
    if isinstance(entities, str):
        return [entities]
    names = [str(e) for e in entities]
    if not names:
        raise DataError("entities= is empty", hint="Pass the entities to keep, or None for all")
    return names


def restrict(tel: Telemetry, window: WindowLike | None = None, entities: Iterable[str] | None = None) -> Telemetry:
    """The rows of ``tel`` inside ``window`` (all when None) of ``entities`` (all when None).

    What a lazy read returns, applied to a Telemetry already in memory (an entity absent from the
    data gives no rows, no error).
    """
    return exact_filter(tel, None if window is None else TimeWindow.of(window),
                        None if entities is None else entity_list(entities))


def exact_filter(tel: Telemetry, win: TimeWindow | None, names: list[str] | None) -> Telemetry:
    """The exact window and entity filter on the normalized rows (the scan's filter is a superset)."""
    if win is not None:
        tel = tel.window(win)
    if names is None:
        return tel
    keep = pl.col("entity").is_in(names)
    return Telemetry(tel.metrics.filter(keep), tel.logs.filter(keep), tel.spans.filter(keep), report=tel.report,
                     validated=True)

