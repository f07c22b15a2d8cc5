"""Shared helpers of the benchmarks: timing, memory, tables."""

from __future__ import annotations

import pkgutil
import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, TypeVar, cast

if TYPE_CHECKING:
    import networkx as nx
    import polars as pl

    from rcakit.telemetry import Incident, Telemetry
    from rcakit.telemetry.datasets import GraphDataset

__all__ = [
    "Row",
    "available_benchmarks",
    "graph_case",
    "markdown_table",
    "median_time",
    "peak_rss_mb",
    "require_datasets",
    "wide_metrics",
]

#: One row of a printed table: column name -> value (a number, a string, a list of ranks...).
Row: TypeAlias = dict[str, object]
_T = TypeVar("_T")


def available_benchmarks() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def median_time(fn: Callable[[], _T], *, repeat: int = 3) -> tuple[float, _T]:
    """Median wall-clock seconds of ``repeat`` calls, and the last call's result."""
    times: list[float] = []
    result: _T | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), cast("_T", result)  # median() raised if no call ran


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MB (Linux reports kB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


def markdown_table(rows: Sequence[Mapping[str, object]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def require_datasets() -> Path:
    from rcakit._paths import shared_datasets_dir

    path = shared_datasets_dir()
    if path is None:
        raise SystemExit("../shared/datasets not found; set RCAKIT_DATASETS=/path/to/shared/datasets")
    return path


def wide_metrics(telemetry: Telemetry) -> pl.DataFrame:
    """Every metric node as a column, one row per recorded time (no grid, no fill)."""
    import polars as pl

    m = telemetry.metrics.with_columns(
        pl.concat_str([pl.col("entity"), pl.lit(":"), pl.col("metric")]).alias("node"))
    return m.pivot(on="node", index="time", values="value", aggregate_function="mean").sort("time")


_GRAPH_DATASETS: dict[str, dict[str, GraphDataset]] = {}


def graph_case(name: str, seed: int, sim_baseline: str) -> tuple[Incident | GraphDataset, nx.DiGraph, pl.DataFrame]:
    """A system with a true graph, shared by the graph and review benchmarks.

    ``sim-S``/``sim-M``/``sim-L`` simulate a GPU-throttle incident of that topology; ``fam-<family>`` a
    CPU fault of a :mod:`rcakit.sim.families` family (a scoring seed: the knowledge rules never saw
    these systems; truth restricted to the observed nodes); other names are
    :func:`rcakit.telemetry.datasets.load_graph_datasets` entries. Returns (source for draft_graph,
    true graph over observed nodes, wide data).
    """
    if name.startswith("fam-"):
        from rcakit.sim import families

        incident = families.family_incident(name[4:], "cpu", seed=families.SCORING_SEEDS[0] + seed)
        truth = incident.truth.graph if incident.truth is not None else None
        observed = set(incident.telemetry.nodes())
        graph = truth.subgraph([n for n in truth.nodes if n in observed]).copy() if truth is not None else None
        return incident, graph, wide_metrics(incident.telemetry)
    if name.startswith("sim-"):
        from rcakit.sim import GpuThrottle, Topology, make_incident, true_graph

        topo = {"S": Topology.small, "M": Topology.medium, "L": Topology.large}[name[-1]]()
        incident = make_incident(topo, GpuThrottle("GPU_0", duration="20min"), seed=seed, baseline=sim_baseline,
                                 logs=False)
        return incident, true_graph(topo, hidden=("power",)), wide_metrics(incident.telemetry)
    from rcakit.telemetry.datasets import load_graph_datasets

    if "all" not in _GRAPH_DATASETS:
        _GRAPH_DATASETS["all"] = load_graph_datasets()
    ds = _GRAPH_DATASETS["all"][name]
    return ds, ds.graph, wide_metrics(ds.telemetry)
