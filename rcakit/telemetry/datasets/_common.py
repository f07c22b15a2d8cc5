"""What every dataset adapter shares: layout checks, canonical frames, synthetic time grids, caches."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

import networkx as nx
import polars as pl

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.telemetry._schema import LOG_SCHEMA, METRIC_SCHEMA, SPAN_SCHEMA
from rcakit.telemetry.incident import call_pairs
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from rcakit._types import JSONObject, PolarsSchema
    from rcakit.telemetry.incident import Incident

__all__ = [
    "SYNTHETIC_EPOCH",
    "GraphDataset",
    "as_dir",
    "cached",
    "canonical_logs",
    "canonical_metrics",
    "canonical_spans",
    "clear_cache",
    "collapse_unobserved",
    "epoch_ns_to_time",
    "epoch_seconds_to_time",
    "find_file",
    "imax",
    "imin",
    "incidents_table",
    "read_edge_list",
    "require_files",
    "safe_entity",
    "tmax",
    "tmin",
]

#: Anchor of the synthetic time grids given to datasets whose rows carry no time (DoWhy, Storm).
SYNTHETIC_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(eq=False)
class GraphDataset:
    """Observational telemetry with a true causal graph, for evaluating graph drafting.

    ``graph`` holds edges cause -> effect between ``entity:metric`` nodes of ``telemetry`` (or, for
    PetShop, between nodes named after its ``latency_average`` metric). ``system`` is an optional
    system description (Atlas-like dict) and ``meta`` anything the adapter wants to keep.
    """

    name: str
    telemetry: Telemetry
    graph: nx.DiGraph
    description: str = ""
    system: JSONObject | None = None
    meta: JSONObject = field(default_factory=dict)
    #: ``(caller, callee)`` entity pairs known from outside the metrics (as ``Incident.call_graph``); drafting
    #: turns them into candidate interactions between the entities' metrics.
    call_graph: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        self.call_graph = call_pairs(self.call_graph, self.name)

    @property
    def nodes(self) -> list[str]:
        return sorted(self.graph.nodes)

    def to_dict(self) -> JSONObject:
        return {
            "name": self.name,
            "description": self.description,
            "nodes": self.nodes,
            "edges": [list(e) for e in self.graph.edges],
            "telemetry": self.telemetry.summary(),
            "call_graph": [list(pair) for pair in self.call_graph],
            "meta": self.meta,
        }

    def to_frame(self) -> pl.DataFrame:
        """The true edges as a table: cause, effect."""
        edges = list(self.graph.edges)
        return pl.DataFrame({"cause": [a for a, _ in edges], "effect": [b for _, b in edges]},
                            schema={"cause": pl.String, "effect": pl.String})

    def __repr__(self) -> str:
        return (f"GraphDataset({self.name!r}, {self.graph.number_of_nodes()} nodes, "
                f"{self.graph.number_of_edges()} edges, {self.telemetry!r})")

    def _repr_html_(self) -> str:
        edges = "".join(f"<li>{html.escape(a)} &rarr; {html.escape(b)}</li>" for a, b in list(self.graph.edges)[:30])
        more = self.graph.number_of_edges() - 30
        tail = f"<li>… (+{more})</li>" if more > 0 else ""
        return (f"<div><b>GraphDataset</b> {html.escape(self.name)}: {self.graph.number_of_nodes()} nodes, "
                f"{self.graph.number_of_edges()} true edges<div>{html.escape(self.description)}</div>"
                f"<ul>{edges}{tail}</ul>{self.telemetry._repr_html_()}</div>")


def incidents_table(incidents: Iterable[Incident]) -> pl.DataFrame:
    """One row per Incident: name, alarm, root causes, fault type and the two windows (a notebook overview)."""
    rows = []
    for incident in incidents:
        truth = incident.truth
        rows.append({
            "name": incident.name,
            "alarm": incident.alarm,
            "root_cause_entities": ", ".join(truth.root_cause_entities) if truth else None,
            "root_cause_nodes": ", ".join(truth.root_cause_nodes) if truth else None,
            "fault_type": truth.fault_type if truth else None,
            "baseline_start": incident.baseline_window.start,
            "baseline_end": incident.baseline_window.end,
            "incident_start": incident.incident_window.start,
            "incident_end": incident.incident_window.end,
        })
    schema: PolarsSchema = {"name": pl.String, "alarm": pl.String, "root_cause_entities": pl.String, "root_cause_nodes": pl.String,
              "fault_type": pl.String, "baseline_start": pl.Datetime("us", "UTC"), "baseline_end": pl.Datetime("us", "UTC"),
              "incident_start": pl.Datetime("us", "UTC"), "incident_end": pl.Datetime("us", "UTC")}
    return pl.DataFrame(rows, schema=schema)


# -- layout ------------------------------------------------------------------------------------------
def as_dir(path: str | os.PathLike[str], dataset: str, expected: str) -> Path:
    """The folder ``path``, or a DatasetLayoutError naming it and what the adapter expected."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DatasetLayoutError(f"the {dataset} folder does not exist", source=str(folder),
                                 hint=f"Pass the folder that holds {expected}")
    if not folder.is_dir():
        raise DatasetLayoutError(f"the {dataset} adapter needs a folder, got a file", source=str(folder),
                                 hint=f"Pass the folder that holds {expected}")
    return folder


def _listing(folder: Path, limit: int = 8) -> str:
    try:
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    except OSError:
        return "nothing readable"
    if not names:
        return "an empty folder"
    shown = ", ".join(names[:limit])
    return shown + (f", … (+{len(names) - limit})" if len(names) > limit else "")


def require_files(folder: Path, names: Iterable[str], dataset: str, hint: str) -> None:
    """Raise a DatasetLayoutError listing every missing entry (``name`` or ``name/`` for a folder)."""
    missing = []
    for name in names:
        want_dir = name.endswith("/")
        target = folder / name.rstrip("/")
        if (want_dir and not target.is_dir()) or (not want_dir and find_file(folder, name) is None):
            missing.append(name)
    if missing:
        raise DatasetLayoutError(
            f"this is not a {dataset} folder: missing {', '.join(missing)}; found {_listing(folder)}",
            source=str(folder), hint=hint,
        )


def find_file(folder: Path, name: str) -> Path | None:
    """``folder/name``, or its gzipped form ``name.gz``, whichever exists."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def safe_entity(name: str) -> str:
    """An upstream component name as an rcakit entity: ':' separates entity and metric, so it becomes '_'."""
    return name.replace(":", "_")


def read_edge_list(path: Path, *, dataset: str, suffix: str | None = None) -> nx.DiGraph:
    """A ``cause effect`` edge list (one edge per line, whitespace separated) as a DiGraph."""
    graph = nx.DiGraph()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split()
        if len(parts) != 2:
            raise DataError(f"an edge line must be 'cause effect', got {text!r}", source=str(path), row=number,
                            hint=f"Fix line {number} of the {dataset} structure file")
        cause, effect = parts
        if suffix is not None:
            cause, effect = f"{cause}{suffix}", f"{effect}{suffix}"
        graph.add_edge(cause, effect)
    return graph


def collapse_unobserved(graph: nx.DiGraph, observed: Iterable[str]) -> tuple[nx.DiGraph, list[str]]:
    """The graph without nodes that have no data, keeping transitive paths (A -> U -> B becomes A -> B)."""
    keep = set(observed)
    out = graph.copy()
    removed = sorted(n for n in graph.nodes if n not in keep)
    for node in removed:
        out.add_edges_from((a, b) for a in out.predecessors(node) for b in out.successors(node) if a != b)
        out.remove_node(node)
    return out, removed


# -- canonical frames ------------------------------------------------------------------------------------
def _nan_to_null(df: pl.DataFrame, column: str, source: str, report: LoadReport) -> pl.DataFrame:
    if df.height == 0:
        return df
    values = pl.col(column)
    counts = df.select(values.is_nan().sum().alias("nan"), values.is_infinite().sum().alias("inf")).row(0)
    if counts[0]:
        report.add(source, column, "set NaN to null", int(counts[0]), "NaN marks a missing value")
    if counts[1]:
        report.add(source, column, "set infinite values to null", int(counts[1]), "an infinite value is not a measurement")
    if counts[0] or counts[1]:
        df = df.with_columns(pl.when(values.is_finite()).then(values).otherwise(None).alias(column))
    return df


def _ordered(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    casts = [pl.col(name).cast(dtype) for name, dtype in schema.items()]
    extra = [c for c in df.columns if c not in schema]
    return df.select([*casts, *extra])


def canonical_metrics(df: pl.DataFrame, *, source: str, report: LoadReport) -> pl.DataFrame:
    """``time, entity, metric, value`` + extras, NaN/inf as null (reported), sorted by time."""
    df = _nan_to_null(df.with_columns(pl.col("value").cast(pl.Float64)), "value", source, report)
    df = _ordered(df, METRIC_SCHEMA)
    if not df.get_column("time").is_sorted():
        df = df.sort("time", maintain_order=True)
    return df


def canonical_logs(df: pl.DataFrame) -> pl.DataFrame:
    df = _ordered(df, LOG_SCHEMA)
    if not df.get_column("time").is_sorted():
        df = df.sort("time", maintain_order=True)
    return df


def canonical_spans(df: pl.DataFrame) -> pl.DataFrame:
    df = _ordered(df, SPAN_SCHEMA)
    if not df.get_column("start").is_sorted():
        df = df.sort("start", maintain_order=True)
    return df


def tmin(series: pl.Series) -> datetime:
    """The earliest instant of a non-empty time column."""
    return cast(datetime, series.min())


def tmax(series: pl.Series) -> datetime:
    """The latest instant of a non-empty time column."""
    return cast(datetime, series.max())


def imin(series: pl.Series) -> int:
    return int(cast(int, series.min()))


def imax(series: pl.Series) -> int:
    return int(cast(int, series.max()))


def epoch_seconds_to_time(expr: pl.Expr) -> pl.Expr:
    """Epoch seconds (int or float) to ``Datetime("ns", "UTC")``."""
    return (expr.cast(pl.Float64) * 1e9).round(0).cast(pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")


_ExprOrSeries = TypeVar("_ExprOrSeries", pl.Expr, pl.Series)


def epoch_ns_to_time(expr: _ExprOrSeries) -> _ExprOrSeries:
    """Epoch nanoseconds (an Expr or a Series) to ``Datetime("ns", "UTC")``."""
    return expr.cast(pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")


# -- caching -------------------------------------------------------------------------------------------
T = TypeVar("T")
_Signature = tuple[tuple[str, int | None, int | None], ...]
_CACHE: dict[tuple[Hashable, ...], tuple[_Signature, object]] = {}


def _signature(paths: Iterable[Path]) -> _Signature:
    out: list[tuple[str, int | None, int | None]] = []
    for path in paths:
        try:
            stat = path.stat()
            out.append((str(path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append((str(path), None, None))
    return tuple(out)


def cached(key: tuple[Hashable, ...], files: Iterable[Path], build: Callable[[], T]) -> T:
    """``build()`` once per key while the files it reads are unchanged (same mtime and size)."""
    signature = _signature(files)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == signature:
        return cast(T, hit[1])  # stored by this function under the same key
    value = build()
    _CACHE[key] = (signature, value)
    return value


def clear_cache() -> None:
    """Forget every frame the adapters cached (they reload on the next call)."""
    _CACHE.clear()
