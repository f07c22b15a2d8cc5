"""What every attribution method shares: the request as resolved from the caller's arguments, the baseline and
incident frames, and the building of partial and final :class:`Attribution` results.

A method (one module each, registered in :mod:`rcakit.attribution.registry`) receives a :class:`Request`;
the methods that score metric nodes call :func:`prepare` for the frames, the candidates and the anomaly
of every node, and build their results with :meth:`Prepared.result`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

import networkx as nx
import numpy as np
import pandas as pd

from rcakit._progress import CancelToken
from rcakit.attribution._data import frames_of, grid_freq
from rcakit.attribution._scores import NodeAnomaly, baro_scores, node_anomaly
from rcakit.attribution.config import AttributionConfig, Method
from rcakit.attribution.model import FittedModel, as_graph, drop_unmeasured, graph_fingerprint
from rcakit.attribution.result import Attribution, RankedCause
from rcakit.errors import DataError
from rcakit.telemetry import Incident

if TYPE_CHECKING:
    from rcakit.detect.logs import LogAnalysis
    from rcakit.graph import CausalDraft

__all__ = ["SHORT_BASELINE_NOTE", "SHORT_BASELINE_ROWS", "GraphLike", "IncidentLike", "Prepared", "Progress", "Request", "prepare",
           "short_baseline_note"]

#: Fewer baseline rows per series than this and the ranking notes that its z-scores are rough: the robust
#: spread's relative standard deviation (about 1.17 / sqrt(n)) is then above a quarter. A note, not a rule.
SHORT_BASELINE_ROWS = 20
#: How that note starts (the report lists it among its limits; a run's summary says what it lacked with it).
SHORT_BASELINE_NOTE = "too short a baseline for robust z-scores"

Progress = Callable[[Attribution], None]
#: What attribute() ranks on: a causal graph, a draft (its observed graph), a fitted model, or nothing.
GraphLike: TypeAlias = "nx.DiGraph | CausalDraft | FittedModel | None"
#: An Incident, or a (baseline, incident) pair of frames with one column per node.
IncidentLike: TypeAlias = "Incident | tuple[pd.DataFrame, pd.DataFrame]"


@dataclass
class Request:
    """One call of :func:`rcakit.attribution.attribute`, its arguments resolved and checked."""

    method: Method
    incident: IncidentLike
    cfg: AttributionConfig
    rng: np.random.Generator
    token: CancelToken
    on_progress: Progress | None = None
    graph: nx.DiGraph | None = None
    fitted: FittedModel | None = None
    fingerprint: str | None = None
    alarm: str | None = None
    logs: LogAnalysis | None = None
    t0: float = field(default_factory=time.perf_counter)

    @property
    def name(self) -> str:
        return str(getattr(self.incident, "name", "") or "")

    @classmethod
    def of(cls, graph_or_model: GraphLike, incident: IncidentLike, *, method: Method, cfg: AttributionConfig,
           rng: np.random.Generator, token: CancelToken, on_progress: Progress | None, model: FittedModel | None,
           alarm: str | None, logs: LogAnalysis | None) -> Request:
        """The request from what the caller passed: graph, fitted model, alarm (argument, incident, draft)."""
        graph, fitted, draft_alarm, fingerprint = _resolve(graph_or_model, model)
        alarm = alarm or (incident.alarm if isinstance(incident, Incident) else None) or draft_alarm
        if method.needs_graph and graph is None:
            raise ValueError(f"method {method.value!r} needs a causal graph; pass a DiGraph, a CausalDraft or a "
                             "FittedModel, or use Method.ROBUST_Z / Method.N_SIGMA without one")
        if graph is not None and alarm is None:
            raise DataError("no alarm node: the incident has none set", source=getattr(incident, "name", None),
                            hint="Call incident.set_alarm('entity:metric') or pass alarm='entity:metric'")
        if graph is not None and graph.number_of_nodes() == 0:
            raise DataError("the causal graph is empty (no nodes)", source=getattr(incident, "name", None),
                            hint="Draft one with rcakit.draft_graph(incident), or pass None with a graph-free method")
        return cls(method=method, incident=incident, cfg=cfg, rng=rng, token=token, on_progress=on_progress,
                   graph=graph, fitted=fitted, fingerprint=fingerprint, alarm=alarm, logs=logs)

    def emit(self, result: Attribution) -> None:
        if self.on_progress is not None:
            self.on_progress(result)

    def finish(self, result: Attribution) -> Attribution:
        """The final result with the fault type of its first cause guessed (never failing the ranking)."""
        if isinstance(self.incident, Incident) and result.causes and self.cfg.fault_type:
            try:
                from rcakit.attribution.faults import classify_fault

                result.fault_type = classify_fault(self.incident, result.causes[0].entity)
            except Exception as exc:  # a fault-type guess must never sink the ranking
                result.notes.append(f"fault type not classified: {exc}")
        result.elapsed = time.perf_counter() - self.t0
        return result


def _resolve(graph_or_model: GraphLike, model: FittedModel | None) -> tuple[nx.DiGraph | None, FittedModel | None,
                                                                     str | None, str | None]:
    """(graph as given, fitted model, draft alarm, fingerprint) from what the caller passed."""
    if graph_or_model is None:
        return None, model, None, None
    if isinstance(graph_or_model, FittedModel):
        return graph_or_model.graph, graph_or_model, None, graph_or_model.fingerprint
    alarm = getattr(graph_or_model, "alarm", None) if not isinstance(graph_or_model, nx.DiGraph) else None
    graph = as_graph(graph_or_model)
    if model is not None:
        model.check(graph)
    return graph, model, alarm, graph_fingerprint(graph)


@dataclass
class Prepared:
    """The frames of a node-scoring method: baseline and incident rows, the measured graph, the candidates and
    each node's anomaly, and the rows explained."""

    request: Request
    cfg: AttributionConfig
    graph: nx.DiGraph | None
    base: pd.DataFrame
    inc: pd.DataFrame
    candidates: list[str]
    anomaly: NodeAnomaly
    notes: list[str]

    @property
    def rows(self) -> list[int]:
        return list(self.anomaly.rows)

    def result(self, scores: dict[str, float], stage: str, final: bool, *,
               intervals: dict[str, tuple[float, float]] | None = None, notes: list[str] | None = None,
               label: str | None = None) -> Attribution:
        """An Attribution of ``scores`` (best first), with intervals and paths to the alarm for the top nodes."""
        req = self.request
        ranked = sorted(scores.items(), key=lambda kv: (-_finite(kv[1]), kv[0]))
        causes = []
        for i, (node, score) in enumerate(ranked):
            lo, hi = (intervals or {}).get(node, (math.nan, math.nan))
            cause = RankedCause(node=node, score=float(score), low=float(lo), high=float(hi),
                                anomaly=float(self.anomaly.z.get(node, 0.0)))
            if self.graph is not None and req.alarm is not None and i < self.cfg.top_k:
                cause.path, cause.unobserved = path_to_alarm(self.graph, node, req.alarm, self.anomaly.z)
            causes.append(cause)
        return Attribution(method=label or req.method.value, alarm=req.alarm, causes=causes, stage=stage,
                           final=final, elapsed=time.perf_counter() - req.t0, graph_fingerprint=req.fingerprint,
                           incident=req.name, rows=self.rows, notes=[*(notes or []), *self.notes])

    def bootstrap(self, fn: Callable[[pd.DataFrame], dict[str, float]]) -> dict[str, tuple[float, float]]:
        """Score intervals from ``cfg.n_bootstrap`` resamples of the baseline rows, drawn from the request's
        generator."""
        if self.cfg.n_bootstrap == 0:
            return {}
        draws: dict[str, list[float]] = {}
        n = len(self.base.index)
        for _ in range(self.cfg.n_bootstrap):
            self.request.token.raise_if_cancelled()
            sample = self.base.iloc[self.request.rng.integers(0, n, n)]
            for node, score in fn(sample).items():
                draws.setdefault(node, []).append(score)
        return {node: quantiles(np.asarray(v, float), self.cfg.interval) for node, v in draws.items()}


def prepare(req: Request) -> Prepared:
    """Frames, measured graph, candidates and anomalies of ``req``; emits the quick graph-free ranking."""
    cfg = req.cfg
    incident = req.incident
    if req.fitted is not None:
        mgraph: nx.DiGraph | None = req.fitted.graph
        nodes = list(req.fitted.graph.nodes)
        _, inc = (frames_of(incident, nodes, freq=cfg.freq, agg=cfg.agg) if isinstance(incident, Incident)
                  else frames_of(incident, nodes))
        base = req.fitted.baseline.reindex(columns=nodes)
    else:
        graph = req.graph
        freq = cfg.freq if graph is not None else grid_freq(incident, cfg.freq)
        base, inc = frames_of(incident, list(graph.nodes) if graph is not None else None, freq=freq, agg=cfg.agg)
        measured = set(base.columns[base.notna().any()]) | set(inc.columns[inc.notna().any()])
        if graph is not None and req.alarm is not None and req.alarm not in graph:
            raise DataError(f"the alarm node {req.alarm!r} is not a node of the graph ({graph.number_of_nodes()} "
                            "nodes)", source=req.name or None,
                            hint="Add it to the draft, or set the incident's alarm to a node of the graph")
        mgraph = drop_unmeasured(graph, measured) if graph is not None else None
        # a node recorded in one window only still gets a column in both (no baseline: no anomaly)
        columns = list(mgraph.nodes) if mgraph is not None else list(dict.fromkeys([*inc.columns, *base.columns]))
        base, inc = base.reindex(columns=columns), inc.reindex(columns=columns)
    cfg, alarm_note = _alarm_time_rows(incident, inc, cfg)
    alarm = req.alarm
    if alarm is not None and alarm not in inc.columns:
        raise DataError(f"the alarm node {alarm!r} has no data in the incident window", source=req.name or None,
                        hint="Pick an alarm among the incident's metric nodes (Telemetry.nodes())")
    if mgraph is not None and alarm is not None and alarm not in mgraph:
        raise DataError(f"the alarm node {alarm!r} is not a node of the graph", source=req.name or None,
                        hint="Add it to the draft, or set the incident's alarm to a node of the graph")
    if mgraph is not None and alarm is not None and cfg.restrict_to_ancestors:
        candidates = sorted(nx.ancestors(mgraph, alarm) | {alarm})
    else:
        candidates = list(inc.columns)
    notes = [alarm_note] if alarm_note else []
    short = short_baseline_note(base[candidates])
    if short:
        notes.append(short)
    if req.fitted is None and req.graph is not None:
        notes += graph_notes(req.graph, mgraph, alarm, candidates if cfg.restrict_to_ancestors else None)
    prepared = Prepared(request=req, cfg=cfg, graph=mgraph, base=base, inc=inc, candidates=candidates,
                        anomaly=node_anomaly(base, inc, cfg, alarm), notes=notes)
    quick = baro_scores(base[candidates], inc[candidates], prepared.rows)
    req.emit(prepared.result(quick.to_dict(), "quick", False, label=Method.ROBUST_Z.value))
    req.token.raise_if_cancelled()
    return prepared


def _names(nodes: list[str], limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in nodes[:limit])
    return shown + (f" and {len(nodes) - limit} more" if len(nodes) > limit else "")


def short_baseline_note(base: pd.DataFrame) -> str | None:
    """A note when the baseline is too short for robust z-scores: fewer than :data:`SHORT_BASELINE_ROWS` rows per series.

    A node's z divides by its robust spread (1.4826 x the MAD of its baseline rows). From ``n`` normal
    rows that spread has a relative standard deviation of about ``1.17 / sqrt(n)`` (58 % at 4 rows, 37 %
    at 10, 26 % at 20), so on a short baseline a quiet series can look several times more anomalous
    than it is and the metric ranking is rough. Said, not hidden; the ranking itself is unchanged.
    """
    counts = base.notna().sum()
    counts = counts[counts > 0]
    if counts.empty:
        return None
    n = int(counts.median())
    if n >= SHORT_BASELINE_ROWS:
        return None
    return (f"{SHORT_BASELINE_NOTE} ({n} row(s) per series, median; {SHORT_BASELINE_ROWS} or more wanted): a robust "
            f"spread estimated from so few rows is uncertain by about {1.17 / math.sqrt(max(n, 1)):.0%}, so z-scores "
            "and the metric ranking are rough (a quiet series can look several times more anomalous than it is); "
            "widen the baseline window or use a finer resolution (AttributionConfig.freq)")


def graph_notes(graph: nx.DiGraph, measured: nx.DiGraph | None, alarm: str | None,
                candidates: list[str] | None) -> list[str]:
    """What the ranking could not use of the graph it was given, said instead of silently left out: nodes without
    data (or without an ``entity:metric`` name), a cycle, nodes that cannot reach the alarm."""
    notes = []
    kept = set(measured.nodes) if measured is not None else set(graph.nodes)
    missing = sorted(str(n) for n in graph.nodes if n not in kept)
    if missing:
        odd = [n for n in missing if ":" not in n]
        notes.append(f"left out {len(missing)} graph node(s) without data in either window: {_names(missing)}"
                     + (f" ({_names(odd)} not an 'entity:metric' name)" if odd else "")
                     + "; their edges were bridged (A -> missing -> B became A -> B)")
    loops = sorted(str(u) for u, v in graph.edges if u == v)
    if loops:
        notes.append(f"ignored edges from a node to itself: {_names(loops)}")
    try:
        cycle = nx.find_cycle(nx.DiGraph([(u, v) for u, v in graph.edges if u != v]))
    except nx.NetworkXNoCycle:
        cycle = []
    if cycle:
        path = " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
        notes.append(f"the graph has a cycle ({path}): its nodes are each other's ancestors, so the ranking cannot "
                     "tell cause from effect among them; reverse or reject one edge (ReviewSession) and run again")
    if candidates is not None and alarm is not None and measured is not None:
        unreachable = sorted(str(n) for n in measured.nodes if n not in set(candidates))
        if unreachable:
            notes.append(f"{len(unreachable)} graph node(s) have no path to the alarm {alarm!r} and are not ranked: "
                         f"{_names(unreachable)}")
        if candidates == [alarm]:
            notes.append(f"no node of the graph leads to the alarm {alarm!r}: only the alarm itself is ranked")
    return notes


def _alarm_time_rows(incident: IncidentLike, inc: pd.DataFrame, cfg: AttributionConfig,
                     ) -> tuple[AttributionConfig, str | None]:
    """The config with ``first_row`` set from the incident's alarm time, and a note saying so.

    Rows that start before the alarm fired are pre-fault: the first analysed row is the first one that
    starts at or after ``Incident.alarm_time`` (a row that straddles the alarm is partly normal), and
    the earlier rows become the local reference. A ``first_row`` set by the caller wins; an alarm time
    outside the incident rows changes nothing and says so.
    """
    alarm_time = getattr(incident, "alarm_time", None) if isinstance(incident, Incident) else None
    if (alarm_time is None or not cfg.use_alarm_time or cfg.first_row or not len(inc.index)
            or not isinstance(inc.index, pd.DatetimeIndex)):
        return cfg, None
    starts = inc.index if inc.index.tz is not None else inc.index.tz_localize("UTC")
    before = int((starts < pd.Timestamp(alarm_time)).sum())
    if before == 0:
        return cfg, None
    if before >= len(inc.index):
        return cfg, (f"the alarm time {alarm_time:%Y-%m-%d %H:%M:%S} UTC is after every incident row; "
                     "all rows are explained")
    return dataclasses.replace(cfg, first_row=before), (
        f"{before} incident row(s) before the alarm ({alarm_time:%Y-%m-%d %H:%M:%S} UTC) used as the pre-fault "
        "reference")


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -math.inf


def quantiles(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` interval of the finite ``values`` (NaN, NaN when there are none)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def path_to_alarm(graph: nx.DiGraph, node: str, alarm: str, z: pd.Series) -> tuple[list[str], list[str]]:
    """The path from ``node`` to the alarm through the most anomalous nodes, and the unobserved nodes on it."""
    if node == alarm:
        return [alarm], []
    try:
        path = nx.shortest_path(graph, node, alarm,
                                weight=lambda u, v, d: 1.0 / (1.0 + max(float(z.get(v, 0.0)), 0.0)))
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return [node], []
    hidden: list[str] = []
    for u, v in itertools.pairwise(path):
        for name in graph.edges[u, v].get("via") or []:
            if name not in hidden:
                hidden.append(name)
    return list(path), hidden
