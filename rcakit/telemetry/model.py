"""``Telemetry``: the metrics, logs and spans of one system over some time, and what can be asked of them."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry import grid
from rcakit.telemetry._schema import (
    LOG_SCHEMA,
    METRIC_SCHEMA,
    SPAN_SCHEMA,
    node_name,
    normalize_logs,
    normalize_metrics,
    normalize_spans,
    split_node,
)
from rcakit.telemetry.grid import AGGREGATIONS
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow, parse_duration, to_utc

if TYPE_CHECKING:
    import pandas as pd

    from rcakit._types import FrameLike, TimeLike

__all__ = ["AGGREGATIONS", "AlignedMetrics", "Telemetry"]

Fill = Literal["ffill", "interpolate", "zero"] | None


@dataclass
class AlignedMetrics:
    """Metrics on a regular time grid: one row per step, one ``entity:metric`` column per node.

    Empty cells stay null (``NaN`` in pandas) unless a fill was asked for; ``gaps`` lists every run of
    missing steps per node and ``filled`` counts what a fill invented, so nothing is hidden.
    """

    frame: pl.DataFrame
    freq: timedelta
    agg: str | dict[str, str]
    gaps: pl.DataFrame
    filled: dict[str, int] = field(default_factory=dict)

    @property
    def nodes(self) -> list[str]:
        return [c for c in self.frame.columns if c != "time"]

    @property
    def times(self) -> pl.Series:
        return self.frame.get_column("time")

    def coverage(self) -> dict[str, float]:
        """The share of grid steps with a value, per node."""
        n = max(self.frame.height, 1)
        return {c: 1.0 - self.frame.get_column(c).null_count() / n for c in self.nodes}

    def to_numpy(self) -> np.ndarray:
        return self.frame.select(self.nodes).to_numpy().astype(float)

    def to_pandas(self) -> pd.DataFrame:
        """A pandas frame indexed by UTC time with one column per node (NaN where a gap is)."""
        pdf = self.frame.to_pandas()
        return pdf.set_index("time")

    def __repr__(self) -> str:
        return (f"AlignedMetrics({self.frame.height} steps x {len(self.nodes)} nodes, freq={self.freq}, "
                f"{self.gaps.height} gaps)")

    def _repr_html_(self) -> str:
        return (f"<b>AlignedMetrics</b>: {self.frame.height} steps of {self.freq} x {len(self.nodes)} nodes; "
                f"{self.gaps.height} gaps; fill: {html.escape(str(self.filled or 'none'))}"
                + self.frame.head(5)._repr_html_())


class Telemetry:
    """Metrics, logs and spans as three long polars tables (see ``rcakit.telemetry._schema``).

    Build it from polars or pandas frames whose columns have the canonical names (the loaders map
    other names); the constructor coerces types, reports every coercion in ``report`` and raises a
    :class:`~rcakit.errors.DataError` naming the source, column and row when it cannot.
    """

    def __init__(
        self,
        metrics: FrameLike | None = None,
        logs: FrameLike | None = None,
        spans: FrameLike | None = None,
        *,
        source: str = "<DataFrame>",
        report: LoadReport | None = None,
        time_unit: str | None = None,
        validated: bool = False,
    ) -> None:
        self.report = report if report is not None else LoadReport()
        if validated:
            # validated=True promises canonical polars frames (internal callers only).
            self._metrics = cast(pl.DataFrame, metrics) if metrics is not None else pl.DataFrame(schema=METRIC_SCHEMA)
            self._logs = cast(pl.DataFrame, logs) if logs is not None else pl.DataFrame(schema=LOG_SCHEMA)
            self._spans = cast(pl.DataFrame, spans) if spans is not None else pl.DataFrame(schema=SPAN_SCHEMA)
            return
        self._metrics = (
            normalize_metrics(metrics, source=source, report=self.report, time_unit=time_unit)
            if metrics is not None else pl.DataFrame(schema=METRIC_SCHEMA)
        )
        self._logs = (
            normalize_logs(logs, source=source, report=self.report, time_unit=time_unit)
            if logs is not None else pl.DataFrame(schema=LOG_SCHEMA)
        )
        self._spans = (
            normalize_spans(spans, source=source, report=self.report, time_unit=time_unit)
            if spans is not None else pl.DataFrame(schema=SPAN_SCHEMA)
        )

    # -- the tables --------------------------------------------------------------------------
    @property
    def metrics(self) -> pl.DataFrame:
        return self._metrics

    @property
    def logs(self) -> pl.DataFrame:
        return self._logs

    @property
    def spans(self) -> pl.DataFrame:
        return self._spans

    def to_pandas(self, kind: Literal["metrics", "logs", "spans"] = "metrics") -> pd.DataFrame:
        """One of the tables as a pandas frame (times as UTC-aware pandas timestamps)."""
        table = {"metrics": self._metrics, "logs": self._logs, "spans": self._spans}.get(kind)
        if table is None:
            raise ValueError(f"kind must be 'metrics', 'logs' or 'spans', got {kind!r}")
        return table.to_pandas()

    @classmethod
    def from_wide(
        cls,
        frame: FrameLike,
        *,
        time: str = "time",
        source: str = "<DataFrame>",
        time_unit: str | None = None,
    ) -> Telemetry:
        """Metrics from a wide table: a time column and one ``entity:metric`` column per node."""
        from rcakit.telemetry._wide import wide_to_long

        report = LoadReport()
        long = wide_to_long(frame, time=time, source=source, report=report)
        return cls(metrics=long, source=source, report=report, time_unit=time_unit)

    @property
    def modalities(self) -> list[str]:
        """Which of metrics, logs and spans hold any rows."""
        return [name for name, table in (("metrics", self._metrics), ("logs", self._logs), ("spans", self._spans))
                if table.height]

    # -- what is in it -------------------------------------------------------------------------
    def entities(self) -> list[str]:
        """Every entity seen in any modality, sorted."""
        names: set[str] = set()
        for table in (self._metrics, self._logs, self._spans):
            if table.height:
                names.update(table.get_column("entity").unique().to_list())
        return sorted(names)

    def metric_names(self, entity: str | None = None) -> list[str]:
        table = self._metrics if entity is None else self._metrics.filter(pl.col("entity") == entity)
        return sorted(table.get_column("metric").unique().to_list())

    def nodes(self) -> list[str]:
        """Every metric node ``entity:metric``, sorted."""
        pairs = self._metrics.select("entity", "metric").unique().sort("entity", "metric")
        return [node_name(e, m) for e, m in pairs.iter_rows()]

    def time_range(self) -> TimeWindow | None:
        """The window from the first to just after the last instant in any modality."""
        lows: list[datetime] = []
        highs: list[datetime] = []
        for table, column in ((self._metrics, "time"), (self._logs, "time"), (self._spans, "start")):
            if table.height:
                lows.append(cast(datetime, table.get_column(column).min()))
                highs.append(cast(datetime, table.get_column(column).max()))
        if not lows:
            return None
        low, high = min(lows), max(highs)
        return TimeWindow(low, high + timedelta(microseconds=1))

    def series(self, node: str) -> pl.DataFrame:
        """The raw ``time, value`` rows of one node."""
        entity, metric = split_node(node)
        rows = self._metrics.filter((pl.col("entity") == entity) & (pl.col("metric") == metric))
        if rows.height == 0:
            raise DataError(f"no metric node {node!r}", hint=_did_you_mean(node, self.nodes()))
        return rows.select("time", "value")

    # -- slicing and combining -----------------------------------------------------------------
    def window(self, start: TimeWindow | tuple[TimeLike, TimeLike] | TimeLike, end: TimeLike | None = None) -> Telemetry:
        """The telemetry inside ``[start, end)``; pass a TimeWindow or the two ends."""
        win = TimeWindow.of(start if end is None else (start, end))
        lo, hi = win.start, win.end
        metrics = self._metrics.filter(pl.col("time").is_between(lo, hi, closed="left"))
        logs = self._logs.filter(pl.col("time").is_between(lo, hi, closed="left"))
        spans = self._spans.filter(pl.col("start").is_between(lo, hi, closed="left"))
        return Telemetry(metrics, logs, spans, report=self.report, validated=True)

    def select(self, entities: Iterable[str] | None = None, nodes: Iterable[str] | None = None) -> Telemetry:
        """Keep only some entities (all modalities) and/or some metric nodes."""
        metrics, logs, spans = self._metrics, self._logs, self._spans
        if entities is not None:
            keep = list(entities)
            unknown = sorted(set(keep) - set(self.entities()))
            if unknown:
                raise DataError(f"no entity {unknown[0]!r}", hint=_did_you_mean(unknown[0], self.entities()))
            metrics = metrics.filter(pl.col("entity").is_in(keep))
            logs = logs.filter(pl.col("entity").is_in(keep))
            spans = spans.filter(pl.col("entity").is_in(keep))
        if nodes is not None:
            wanted = list(nodes)
            known = set(self.nodes())
            for node in wanted:
                if node not in known:
                    raise DataError(f"no metric node {node!r}", hint=_did_you_mean(node, sorted(known)))
            key = pl.concat_str([pl.col("entity"), pl.lit(":"), pl.col("metric")])
            metrics = metrics.filter(key.is_in(wanted))
        return Telemetry(metrics, logs, spans, report=self.report, validated=True)

    def merge(self, *others: Telemetry) -> Telemetry:
        """All rows of this and the other telemetries together (sources of one system).

        Extra columns are kept where any source has them (null elsewhere). Rows are not deduplicated:
        ``align`` combines coinciding metric rows with its aggregation.
        """
        parts = [self, *others]
        for other in others:
            if not isinstance(other, Telemetry):
                raise TypeError(f"can only merge Telemetry objects, got {type(other).__name__}")

        def combine(tables: list[pl.DataFrame], column: str | None) -> pl.DataFrame:
            tables = [t for t in tables if t.height] or tables[:1]
            if len(tables) == 1:
                return tables[0]
            out = pl.concat(tables, how="diagonal_relaxed")
            if column is None or out.get_column(column).is_sorted():
                return out
            return out.sort(column, maintain_order=True)

        report = LoadReport()
        for part in parts:
            report.extend(part.report)
        return Telemetry(
            combine([p._metrics for p in parts], "time"),
            combine([p._logs for p in parts], "time"),
            combine([p._spans for p in parts], None),  # spans keep their sources' order
            report=report,
            validated=True,
        )

    def __add__(self, other: Telemetry) -> Telemetry:
        return self.merge(other)

    # -- alignment -----------------------------------------------------------------------------
    def align(
        self,
        freq: str | timedelta,
        agg: str | Mapping[str, str],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        nodes: Iterable[str] | None = None,
        fill: Fill = None,
    ) -> AlignedMetrics:
        """Metrics on a regular grid of step ``freq`` as a wide frame with one column per node.

        ``agg`` is explicit: one aggregation for every node, or a mapping from node (or metric
        name) to aggregation, with ``"*"`` as the default. The grid starts at ``start`` (default: the
        first row, floored to the step) and covers ``[start, end)``. Steps without data stay null and
        are listed in ``gaps``; ``fill`` may forward-fill, interpolate or zero them, counted in ``filled``.
        """
        step = parse_duration(freq)
        metrics = self._metrics
        if nodes is not None:
            metrics = self.select(nodes=nodes)._metrics
        lo = to_utc(start) if start is not None else None
        hi = to_utc(end) if end is not None else None
        inside = metrics
        if lo is not None:
            inside = inside.filter(pl.col("time") >= lo)
        if hi is not None:
            inside = inside.filter(pl.col("time") < hi)
        if inside.height == 0 and (lo is None or hi is None):
            raise DataError("no metric rows to align" + (" in the window" if lo or hi else ""),
                            hint="Check the window against Telemetry.time_range() and the node names")
        times = inside.get_column("time")
        # An open end of the window: the grid starts at the first row floored to the step (since the
        # epoch) and ends after the step of the last row.
        first = lo if lo is not None else grid.floor_to_step(cast(datetime, times.min()), step)
        stop = hi if hi is not None else (
            first + (cast(datetime, times.max()) - first) // step * step + step)
        keyed = inside.select("time", grid.node_key(), "value")
        node_list = sorted(keyed.get_column("node").unique().to_list()) if nodes is None else list(nodes)
        how: str | dict[str, str] = agg if isinstance(agg, str) else self._agg_per_node(agg, node_list)
        frame = grid.to_wide(keyed, TimeWindow(first, stop), step, agg=how, columns=node_list)

        gaps = _find_gaps(frame, node_list)
        filled: dict[str, int] = {}
        if fill is not None:
            frame, filled = _fill(frame, node_list, fill)
        agg_repr: str | dict[str, str] = agg if isinstance(agg, str) else dict(agg)
        return AlignedMetrics(frame=frame, freq=step, agg=agg_repr, gaps=gaps, filled=filled)

    @staticmethod
    def _agg_per_node(agg: Mapping[str, str], nodes: list[str]) -> dict[str, str]:
        """Each node's aggregation from a mapping by node, by metric name, or ``"*"`` for the rest."""
        default = agg.get("*")
        out: dict[str, str] = {}
        for node in nodes:
            how = agg.get(node, agg.get(split_node(node)[1], default))
            if how is None:
                raise DataError(f"no aggregation for node {node!r}",
                                hint="Give one for the node, its metric name, or '*' for the rest")
            out[node] = how
        return out

    # -- display -------------------------------------------------------------------------------
    def summary(self) -> dict[str, int | str]:
        span = self.time_range()
        return {
            "entities": len(self.entities()),
            "metric_nodes": self._metrics.select("entity", "metric").n_unique() if self._metrics.height else 0,
            "metric_rows": self._metrics.height,
            "log_lines": self._logs.height,
            "spans": self._spans.height,
            "traces": self._spans.get_column("trace_id").n_unique() if self._spans.height else 0,
            "time_range": str(span) if span else "empty",
            "coercions": len(self.report),
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (f"Telemetry({s['entities']} entities, {s['metric_nodes']} metric nodes, {s['metric_rows']} metric rows, "
                f"{s['log_lines']} log lines, {s['spans']} spans; {s['time_range']})")

    def _repr_html_(self) -> str:
        s = self.summary()
        ents = self.entities()
        shown = ", ".join(html.escape(e) for e in ents[:12]) + (f", … (+{len(ents) - 12})" if len(ents) > 12 else "")
        rows = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in (
                ("time range", s["time_range"]),
                ("entities", f"{s['entities']}: {shown}" if ents else "0"),
                ("metric nodes", s["metric_nodes"]), ("metric rows", f"{s['metric_rows']:,}"),
                ("log lines", f"{s['log_lines']:,}"), ("spans", f"{s['spans']:,} in {s['traces']:,} traces"),
            )
        )
        note = ""
        if self.report:
            note = f"<div>{len(self.report)} coercions on load (see <code>.report</code>)</div>"
        return f"<div><b>Telemetry</b><table>{rows}</table>{note}</div>"


def _find_gaps(frame: pl.DataFrame, nodes: list[str]) -> pl.DataFrame:
    """Runs of missing steps per node: node, start, end (exclusive, the next present step), steps."""
    times = frame.get_column("time")
    out: dict[str, list[object]] = {"node": [], "start": [], "end": [], "steps": []}
    n = frame.height
    # One pass for the null mask of every column; only columns with a gap are walked.
    masks = frame.select([pl.col(c).is_null() for c in nodes]).to_numpy() if nodes else np.zeros((n, 0), bool)
    for j in np.flatnonzero(masks.any(axis=0)) if n else []:
        node = nodes[int(j)]
        missing = masks[:, j]
        padded = np.concatenate([[False], missing, [False]])
        edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
        for begin, stop in zip(edges[::2], edges[1::2], strict=True):
            out["node"].append(node)
            out["start"].append(times[int(begin)])
            out["end"].append(times[int(stop)] if stop < n else None)
            out["steps"].append(int(stop - begin))
    return pl.DataFrame(
        out,
        schema={"node": pl.String, "start": pl.Datetime("ns", "UTC"), "end": pl.Datetime("ns", "UTC"), "steps": pl.Int64},
    )


def _fill(frame: pl.DataFrame, nodes: list[str], how: str) -> tuple[pl.DataFrame, dict[str, int]]:
    before = {n: frame.get_column(n).null_count() for n in nodes}
    if how == "ffill":
        out = frame.with_columns([pl.col(n).forward_fill() for n in nodes])
    elif how == "interpolate":
        out = frame.with_columns([pl.col(n).interpolate().forward_fill().backward_fill() for n in nodes])
    elif how == "zero":
        out = frame.with_columns([pl.col(n).fill_null(0.0) for n in nodes])
    else:
        raise DataError(f"unknown fill {how!r}", hint="Use 'ffill', 'interpolate', 'zero' or None")
    filled = {n: before[n] - out.get_column(n).null_count() for n in nodes}
    return out, {n: k for n, k in filled.items() if k}


def _did_you_mean(name: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    if close:
        return "Did you mean " + " or ".join(repr(c) for c in close) + "?"
    if not choices:
        return "There are none"
    return f"Known names include {', '.join(repr(c) for c in choices[:5])}"
