"""Baseline and incident matrices (pandas, one column per node) from an Incident or from frames."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry import Incident, grid
from rcakit.telemetry.window import parse_duration

if TYPE_CHECKING:
    from rcakit._types import DurationLike
    from rcakit.attribution._run import IncidentLike

__all__ = ["frames_of", "grid_freq", "is_irregular", "wide_window"]


def is_irregular(incident: Incident) -> bool:
    """True when the metrics of the baseline and incident windows are not recorded on shared timestamps.

    Pods scraped at different seconds of each minute give every node its own timestamps; a frame
    pivoted on the raw times then holds one value per row and NaN elsewhere, so row-wise scores (the
    alarm's hot rows, the max over rows) compare different nodes on different rows. Irregular means
    the windows hold more than 1.5 times as many distinct timestamps as the busiest node has rows.
    """
    windows = (incident.baseline_window, incident.incident_window)
    metrics = incident.telemetry.metrics
    if metrics.height == 0:
        return False
    inside = metrics.filter(pl.any_horizontal([pl.col("time").is_between(w.start, w.end, closed="left")
                                               for w in windows]))
    if inside.height == 0:
        return False
    distinct = inside.get_column("time").n_unique()
    busiest = int(inside.group_by("entity", "metric").len().get_column("len").max() or 0)  # type: ignore[arg-type]
    return busiest > 0 and distinct > 1.5 * busiest


def grid_freq(incident: IncidentLike, freq: DurationLike | None = None) -> DurationLike | None:
    """The grid to align on: ``freq`` when given; for an Incident with irregular timestamps
    (:func:`is_irregular`) the median sampling interval (:func:`rcakit.detect.infer_freq`, one minute
    for minute data); otherwise None (the rows as recorded)."""
    if freq is not None or not isinstance(incident, Incident):
        return freq
    if not is_irregular(incident):
        return None
    from rcakit.detect import infer_freq

    return infer_freq(incident)


def wide_window(incident: Incident, which: str, nodes: Iterable[str] | None, freq: DurationLike | None = None,
                agg: str | Mapping[str, str] = "mean") -> pd.DataFrame:
    """The baseline or incident window as a time-indexed pandas frame with one float column per node:
    on the grid of step ``freq`` (:mod:`rcakit.telemetry.grid`), or on the rows as recorded when None."""
    window = incident.baseline_window if which == "baseline" else incident.incident_window
    node_list = None if nodes is None else list(nodes)
    keyed = incident.telemetry.metrics.select("time", grid.node_key(), "value")
    if freq is not None:
        wide = grid.to_wide(keyed, window, parse_duration(freq), agg=agg, columns=node_list)
    else:
        wide = grid.recorded_wide(keyed, window, columns=node_list)
    return wide.to_pandas().set_index("time").astype(float)


def frames_of(incident: IncidentLike, nodes: Iterable[str] | None, *, freq: DurationLike | None = None,
              agg: str | Mapping[str, str] = "mean") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(baseline, incident) frames for ``nodes`` from an Incident or a ``(baseline, incident)`` pair."""
    node_list = None if nodes is None else list(nodes)
    if isinstance(incident, Incident):
        base = wide_window(incident, "baseline", node_list, freq, agg)
        inc = wide_window(incident, "incident", node_list, freq, agg)
    elif isinstance(incident, tuple) and len(incident) == 2:
        base, inc = (_as_pandas(f, "baseline") for f in incident)
        if node_list is not None:
            missing = [n for n in node_list if n not in base.columns and n not in inc.columns]
            if len(missing) == len(node_list):
                raise DataError(f"none of the graph's nodes is a column of the data (first: {node_list[0]!r})",
                                source="<DataFrame>", hint="Columns must be named like the graph's nodes")
            base, inc = base.reindex(columns=node_list), inc.reindex(columns=node_list)
    else:
        raise TypeError("incident must be an rcakit Incident or a (baseline_frame, incident_frame) pair, got "
                        f"{type(incident).__name__}")
    if len(base.index) < 3:
        raise DataError(f"the baseline window holds {len(base.index)} rows; at least 3 are needed",
                        source=getattr(incident, "name", "<DataFrame>"),
                        hint="Widen the baseline window (Incident.set_baseline_window) or pass more normal data")
    if len(inc.index) == 0:
        raise DataError("the incident window holds no rows", source=getattr(incident, "name", "<DataFrame>"),
                        hint="Check Incident.incident_window against Telemetry.time_range()")
    return base, inc


def _as_pandas(frame: object, what: str) -> pd.DataFrame:
    if isinstance(frame, pl.DataFrame):
        frame = frame.to_pandas()
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"the {what} data must be a pandas or polars DataFrame, got {type(frame).__name__}")
    out = frame.copy()
    for column in out.columns:
        out[column] = pd.to_numeric(out[column], errors="coerce")
    return out.astype(float).replace([np.inf, -np.inf], np.nan)
