"""``attribute(graph_or_model, incident, *, method, config, on_progress, cancel) -> Attribution``."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from rcakit._progress import CancelToken
from rcakit.attribution._data import frames_of, grid_freq
from rcakit.attribution._scores import (
    NodeAnomaly,
    additive_units,
    baro_scores,
    node_anomaly,
    nsigma_scores,
    robust_stats,
)
from rcakit.attribution.config import AttributionConfig, Method
from rcakit.attribution.model import FittedModel, _as_graph, _gcm, drop_unmeasured, fit, graph_fingerprint
from rcakit.attribution.result import Attribution, RankedCause
from rcakit.errors import DataError
from rcakit.telemetry import Incident

__all__ = ["attribute", "structural_scores"]

Progress = Callable[[Attribution], None]


def structural_scores(graph: nx.DiGraph, candidates: list[str], anomaly: NodeAnomaly,
                      threshold: float) -> dict[str, float]:
    """Root-cause scores from anomalies and structure.

    A node scores high when it is anomalous, its anomaly is not explained by anomalous parents (a
    parent explains the part of the child's deviation it matches), and it accounts for the anomalies
    of many nodes downstream (each descendant that moved, either way, reached through nodes that
    moved, counts with the share of its deviation this node can account for: a cause may push its
    effects either way, while a suspect must itself have moved the way that counts).

    Shares compare raw deviations only where the units are known to be equal and the amounts add up
    (:func:`rcakit.attribution._scores.additive_units`: both nodes measure the same latency metric);
    everywhere else, including nodes that merely share a metric name, they compare robust z-scores,
    each against the node's own baseline.
    """
    z, delta, z_any, delta_any = anomaly.z, anomaly.delta, anomaly.z_any, anomaly.delta_any
    soft = np.log1p(z.clip(lower=0.0))
    soft_any = np.log1p(z_any.clip(lower=0.0))
    anomalous = {n for n in graph.nodes if z.get(n, 0.0) > threshold}
    moved = {n for n in graph.nodes if z_any.get(n, 0.0) > threshold}
    hot = graph.subgraph(moved)
    scores: dict[str, float] = {}

    def share(cause: str, effect: str, zs: pd.Series, deltas: pd.Series) -> float:
        """How much of ``effect``'s deviation ``cause`` can account for (0..1)."""
        if additive_units(cause, effect) and deltas.get(effect, 0.0) > 0:
            ratio = max(float(delta.get(cause, 0.0)), 0.0) / float(deltas[effect])
        else:
            ratio = float(z.get(cause, 0.0)) / max(float(zs.get(effect, 0.0)), 1e-9)
        return min(1.0, ratio)

    for node in candidates:
        own = float(soft.get(node, 0.0))
        if node not in anomalous:
            scores[node] = 0.01 * own
            continue
        explained = max((share(parent, node, z, delta) for parent in graph.predecessors(node)
                         if parent in anomalous), default=0.0)
        effects = sum(float(soft_any.get(d, 0.0)) * share(node, d, z_any, delta_any)
                      for d in nx.descendants(hot, node))
        scores[node] = (1.0 - 0.9 * explained) * (own + effects)
    return scores


def _resolve(graph_or_model: Any, model: FittedModel | None) -> tuple[nx.DiGraph | None, FittedModel | None,
                                                                     str | None, str | None]:
    """(graph as given, fitted model, draft alarm, fingerprint) from what the caller passed."""
    if graph_or_model is None:
        return None, model, None, None
    if isinstance(graph_or_model, FittedModel):
        return graph_or_model.graph, graph_or_model, None, graph_or_model.fingerprint
    alarm = getattr(graph_or_model, "alarm", None) if not isinstance(graph_or_model, nx.DiGraph) else None
    graph = _as_graph(graph_or_model)
    if model is not None:
        model.check(graph)
    return graph, model, alarm, graph_fingerprint(graph)


def attribute(
    graph_or_model: Any,
    incident: Any,
    *,
    method: Method | str = Method.STRUCTURAL,
    config: AttributionConfig | None = None,
    on_progress: Progress | None = None,
    cancel: CancelToken | None = None,
    model: FittedModel | None = None,
    alarm: str | None = None,
) -> Attribution:
    """Rank the root causes of ``incident``'s alarm.

    ``graph_or_model``: a networkx DiGraph (cause -> effect, nodes ``entity:metric``), a CausalDraft
    (its observed graph is used; collapsed unobserved nodes become possible culprits), a
    :class:`FittedModel` from :func:`fit` (reused across incidents), or None for the graph-free
    methods. Passing ``model=`` with a graph checks that the model was fitted on that very graph
    (GraphChangedError otherwise). ``incident``: an Incident, or a ``(baseline, incident)`` pair of
    frames with one column per node. ``on_progress`` receives partial Attributions (a quick
    graph-free ranking, the structural ranking, then the final one); ``cancel`` stops the run
    between steps (:class:`rcakit._progress.Cancelled`).

    ``Method.MULTIMODAL`` (graph-free, pass None) ranks entities from trace exclusive time and
    caller-side gaps, CPU/memory metrics and log templates (:mod:`rcakit.attribution.multimodal`);
    its causes are one per entity (``entity:trace.self_time``, ``entity:<cpu metric>`` or
    ``entity:log.new_or_error``, naming the strongest signal) and its notes hold the signals used,
    what was skipped and why, and one ``evidence <entity>: ...`` line per top entity::

        result = attribute(None, incident, method=Method.MULTIMODAL)
        result.entities[:3], [n for n in result.notes if n.startswith("evidence")]
    """
    t0 = time.perf_counter()
    cfg = config or AttributionConfig()
    method = Method(method)
    token = cancel or CancelToken()
    graph, fitted, draft_alarm, fingerprint = _resolve(graph_or_model, model)
    alarm = alarm or (incident.alarm if isinstance(incident, Incident) else None) or draft_alarm
    if method.needs_graph and graph is None:
        raise ValueError(f"method {method.value!r} needs a causal graph; pass a DiGraph, a CausalDraft or a "
                         "FittedModel, or use Method.ROBUST_Z / Method.N_SIGMA without one")
    if graph is not None and alarm is None:
        raise DataError("no alarm node: the incident has none set", source=getattr(incident, "name", None),
                        hint="Call incident.set_alarm('entity:metric') or pass alarm='entity:metric'")
    name = getattr(incident, "name", "")
    if method is Method.MULTIMODAL:
        return _multimodal(incident, cfg, alarm, t0, on_progress, token)

    # -- data ------------------------------------------------------------------------------------
    if fitted is not None:
        mgraph = fitted.graph
        _, inc = frames_of(incident, list(mgraph.nodes), freq=cfg.freq, agg=cfg.agg) if isinstance(
            incident, Incident) else frames_of(incident, list(mgraph.nodes))
        base = fitted.baseline.reindex(columns=list(mgraph.nodes))
    else:
        nodes = list(graph.nodes) if graph is not None else None
        freq = cfg.freq if graph is not None else grid_freq(incident, cfg.freq)
        base, inc = frames_of(incident, nodes, freq=freq, agg=cfg.agg)
        measured = set(base.columns[base.notna().any()]) | set(inc.columns[inc.notna().any()])
        mgraph = drop_unmeasured(graph, measured) if graph is not None else None
        if mgraph is not None:
            base, inc = base.reindex(columns=list(mgraph.nodes)), inc.reindex(columns=list(mgraph.nodes))
        else:  # a node recorded in one window only still gets a column in both (no baseline: no anomaly)
            columns = list(dict.fromkeys([*inc.columns, *base.columns]))
            base, inc = base.reindex(columns=columns), inc.reindex(columns=columns)
    cfg, alarm_note = _alarm_time_rows(incident, inc, cfg)
    if alarm is not None and alarm not in inc.columns:
        raise DataError(f"the alarm node {alarm!r} has no data in the incident window", source=name or None,
                        hint="Pick an alarm among the incident's metric nodes (Telemetry.nodes())")
    if mgraph is not None and alarm is not None and alarm not in mgraph:
        raise DataError(f"the alarm node {alarm!r} is not a node of the graph", source=name or None,
                        hint="Add it to the draft, or set the incident's alarm to a node of the graph")
    if mgraph is not None and cfg.restrict_to_ancestors:
        candidates = sorted(nx.ancestors(mgraph, alarm) | {alarm})
    else:
        candidates = list(inc.columns)
    anomaly = node_anomaly(base, inc, cfg, alarm)
    rows = anomaly.rows

    def make(scores: dict[str, float], stage: str, final: bool, *, intervals: dict[str, tuple[float, float]]
             | None = None, notes: list[str] | None = None, label: str | None = None) -> Attribution:
        ranked = sorted(scores.items(), key=lambda kv: (-_finite(kv[1]), kv[0]))
        causes = []
        for i, (node, score) in enumerate(ranked):
            lo, hi = (intervals or {}).get(node, (math.nan, math.nan))
            cause = RankedCause(node=node, score=float(score), low=float(lo), high=float(hi),
                                anomaly=float(anomaly.z.get(node, 0.0)))
            if mgraph is not None and alarm is not None and i < cfg.top_k:
                cause.path, cause.unobserved = _path_to_alarm(mgraph, node, alarm, anomaly.z)
            causes.append(cause)
        return Attribution(method=label or method.value, alarm=alarm, causes=causes, stage=stage, final=final,
                           elapsed=time.perf_counter() - t0, graph_fingerprint=fingerprint, incident=name,
                           rows=list(rows), notes=[*(notes or []), *([alarm_note] if alarm_note else [])])

    def emit(result: Attribution) -> None:
        if on_progress is not None:
            on_progress(result)

    # 1. a quick graph-free ranking of the candidates, then the structural one
    quick = baro_scores(base[candidates], inc[candidates], rows)
    emit(make(quick.to_dict(), "quick", False, label=Method.ROBUST_Z.value))
    token.raise_if_cancelled()
    if method in (Method.ROBUST_Z, Method.N_SIGMA):
        fn = baro_scores if method is Method.ROBUST_Z else nsigma_scores
        scores = fn(base[candidates], inc[candidates], rows).to_dict()
        intervals = _bootstrap(lambda b: fn(b[candidates], inc[candidates], rows).to_dict(), base, cfg, token)
        return _finish(make(scores, "final", True, intervals=intervals), incident, cfg)

    structural = structural_scores(mgraph, candidates, anomaly, cfg.threshold)
    if method is Method.STRUCTURAL:
        emit(make(structural, "structural", False))

        def one(b: pd.DataFrame) -> dict[str, float]:
            an = node_anomaly(b, inc, cfg, alarm, stats=robust_stats(b))
            return structural_scores(mgraph, candidates, an, cfg.threshold)

        intervals = _bootstrap(one, base, cfg, token)
        return _finish(make(structural, "final", True, intervals=intervals), incident, cfg)

    emit(make(structural, "structural", False, label=Method.STRUCTURAL.value))
    token.raise_if_cancelled()
    if fitted is None:
        fitted = fit(mgraph, base)
        fitted.fingerprint = fingerprint or fitted.fingerprint
    token.raise_if_cancelled()

    if method is Method.ATE:
        if alarm is None:
            raise DataError("ATE scores need an alarm node", hint="Set the incident's alarm or pass alarm=")
        target: str = alarm
        values = inc.iloc[rows].mean(skipna=True)

        def ate(model: FittedModel) -> dict[str, float]:
            effects = model.total_effects(target, candidates)
            raw = {n: effects.get(n, 0.0) * float(np.nan_to_num(values.get(n, np.nan) - model.center.get(n, 0.0)))
                   for n in candidates if n != alarm}
            total = sum(abs(v) for v in raw.values()) or 1.0
            return {n: abs(v) / total for n, v in raw.items()}

        scores = ate(fitted)
        intervals = _bootstrap(lambda b: ate(FittedModel(mgraph, b, source_fingerprint="bootstrap")), base, cfg,
                               token)
        return _finish(make(scores, "final", True, intervals=intervals,
                            notes=["ATE_i = E[alarm | do(x_i = observed)] - E[alarm | do(x_i = baseline median)] "
                                   "under the fitted linear mechanisms; S_i = |ATE_i| / sum_j |ATE_j|"]),
                       incident, cfg)

    gcm = _gcm()
    from dowhy.gcm.shapley import ShapleyApproximationMethods, ShapleyConfig

    shapley = ShapleyConfig(approximation_method=ShapleyApproximationMethods.PERMUTATION,
                            num_permutations=cfg.shapley_permutations, n_jobs=cfg.n_jobs)
    scm = fitted.dowhy_scm(candidates, quality=cfg.dowhy_quality)
    token.raise_if_cancelled()
    fill = fitted.center.reindex(candidates).fillna(0.0)
    samples = inc.iloc[rows[: cfg.max_dowhy_samples]][candidates].fillna(fill)
    np.random.seed(cfg.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method is Method.ANOMALY_ATTRIBUTION:
            raw = gcm.attribute_anomalies(scm, target_node=alarm, anomaly_samples=samples.reset_index(drop=True),
                                          num_distribution_samples=cfg.num_distribution_samples,
                                          shapley_config=shapley)
            scores = {n: float(np.nanmean(v)) for n, v in raw.items()}
            intervals = {n: _quantiles(np.asarray(v, float), cfg.interval) for n, v in raw.items() if len(v) > 1}
        else:
            window = inc.iloc[rows if len(rows) > 1 else list(range(cfg.first_row, len(inc.index)))][candidates].fillna(fill)
            scores = gcm.distribution_change(scm, fitted.filled[candidates], window.reset_index(drop=True), alarm,
                                             num_samples=cfg.num_distribution_samples, shapley_config=shapley)
            scores = {n: float(v) for n, v in scores.items()}
            intervals = {}
    return _finish(make(scores, "final", True, intervals=intervals), incident, cfg)


def _multimodal(incident: Any, cfg: AttributionConfig, alarm: str | None, t0: float,
                on_progress: Progress | None, token: CancelToken) -> Attribution:
    """Method.MULTIMODAL: entity-level ranking with per-entity evidence in the notes."""
    from rcakit.attribution.multimodal import multimodal_causes, multimodal_scores

    token.raise_if_cancelled()
    scores = multimodal_scores(incident, cfg)
    token.raise_if_cancelled()
    causes = [RankedCause(node=node, score=score, anomaly=anomaly) for node, score, anomaly in
              multimodal_causes(scores)]
    notes = [f"signals used: {', '.join(scores.signals) or 'none'}; score = "
             + " + ".join(f"{w:g} * {k}_share" for k, w in scores.weights.items())]
    if scores.reference is not None:
        notes.append(f"reference window for traces and logs: {scores.reference}")
    notes.extend(scores.notes)
    for entity, sentences in scores.evidence.items():
        notes.append(f"evidence {entity}: " + "; ".join(sentences))
    credited = {str(row["entity"]): str(row["placement_on"]).split(",")[0].strip()
                for row in scores.table.iter_rows(named=True) if row.get("placement_on")}
    result = Attribution(method=Method.MULTIMODAL.value, alarm=alarm, causes=causes, stage="final", final=True,
                         elapsed=time.perf_counter() - t0, incident=getattr(incident, "name", ""), notes=notes,
                         credited_to=credited)
    result = _finish(result, incident, cfg)
    result.elapsed = time.perf_counter() - t0
    if on_progress is not None:
        on_progress(result)
    return result


def _alarm_time_rows(incident: Any, inc: pd.DataFrame, cfg: AttributionConfig,
                     ) -> tuple[AttributionConfig, str | None]:
    """The config with ``first_row`` set from the incident's alarm time, and a note saying so.

    Rows that start before the alarm fired are pre-fault: the first analysed row is the first one that
    starts at or after ``Incident.alarm_time`` (a row that straddles the alarm is partly normal), and
    the earlier rows become the local reference. A ``first_row`` set by the caller wins; an alarm time
    outside the incident rows changes nothing and says so.
    """
    alarm_time = getattr(incident, "alarm_time", None) if isinstance(incident, Incident) else None
    if alarm_time is None or not cfg.use_alarm_time or cfg.first_row or not len(inc.index) or not isinstance(inc.index, pd.DatetimeIndex):
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


def _finish(result: Attribution, incident: Any, cfg: AttributionConfig) -> Attribution:
    if isinstance(incident, Incident) and result.causes and cfg.extra.get("fault_type", True):
        try:
            from rcakit.attribution.faults import classify_fault

            result.fault_type = classify_fault(incident, result.causes[0].entity)
        except Exception as exc:  # a fault-type guess must never sink the ranking
            result.notes.append(f"fault type not classified: {exc}")
    return result


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -math.inf


def _quantiles(values: np.ndarray, level: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def _bootstrap(fn: Callable[[pd.DataFrame], dict[str, float]], base: pd.DataFrame, cfg: AttributionConfig,
               token: CancelToken) -> dict[str, tuple[float, float]]:
    """Score intervals from ``cfg.n_bootstrap`` resamples of the baseline rows (seeded)."""
    if cfg.n_bootstrap == 0:
        return {}
    rng = np.random.default_rng(cfg.seed)
    draws: dict[str, list[float]] = {}
    n = len(base.index)
    for _ in range(cfg.n_bootstrap):
        token.raise_if_cancelled()
        sample = base.iloc[rng.integers(0, n, n)]
        for node, score in fn(sample).items():
            draws.setdefault(node, []).append(score)
    return {node: _quantiles(np.asarray(v, float), cfg.interval) for node, v in draws.items()}


def _path_to_alarm(graph: nx.DiGraph, node: str, alarm: str, z: pd.Series) -> tuple[list[str], list[str]]:
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
