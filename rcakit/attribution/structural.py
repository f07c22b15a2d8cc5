"""``Method.STRUCTURAL``: root causes from the anomalies and the structure of the graph alone (no fitted model)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from rcakit.attribution._run import Prepared, Request, prepare
from rcakit.attribution._scores import NodeAnomaly, additive_units, node_anomaly, robust_stats
from rcakit.attribution.config import Method
from rcakit.attribution.model import FittedModel, fit
from rcakit.attribution.registry import register
from rcakit.attribution.result import Attribution
from rcakit.graph.meanings import Meaning, is_accumulator, metric_meaning
from rcakit.telemetry import split_node

__all__ = ["fit_after_structural", "run_structural", "structural_scores"]

#: The meanings a backlog of the same component explains in full (see :func:`structural_scores`).
_FOLLOW_BACKLOG = frozenset({Meaning.LATENCY, Meaning.ERROR_RATE})


def structural_scores(graph: nx.DiGraph, candidates: list[str], anomaly: NodeAnomaly,
                      threshold: float) -> dict[str, float]:
    """Root-cause scores from anomalies and structure.

    A node scores high when it is anomalous, its anomaly is not explained by anomalous parents (a
    parent explains the part of the child's deviation it matches), and it accounts for the anomalies
    of many nodes downstream (each descendant that moved, either way, reached through nodes that
    moved, counts with the share of its deviation this node can account for: a cause may push its
    effects either way, while a suspect must itself have moved the way that counts).

    A backlog (a queue length, pending messages: metrics meaning saturation) is an accumulator: it integrates
    the difference between what arrives and what is served, so a small lasting change of either fills it
    far beyond its own baseline spread. An anomalous parent of a backlog explains all of it, and a cause
    gets the backlog's whole deviation downstream. What a backlog does within its own component follows it the
    same way: the time a new request waits there grows with the backlog (Little's law: wait = backlog / drain
    rate) and a full queue rejects requests, so the component's latency and error rate move far more, each in
    its own spread, than the backlog's z-score says. An anomalous backlog that the graph puts behind its own
    component's latency or error rate explains all of either.

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
    accumulators = {n for n in graph.nodes if is_accumulator(split_node(n)[1])}
    # latency / error rate -> the backlogs of its own component the graph puts behind it
    behind = {n: {p for p in graph.predecessors(n) if p in accumulators and split_node(p)[0] == split_node(n)[0]}
              for n in graph.nodes if metric_meaning(split_node(n)[1]) in _FOLLOW_BACKLOG}
    scores: dict[str, float] = {}

    def share(cause: str, effect: str, zs: pd.Series, deltas: pd.Series) -> float:
        """How much of ``effect``'s deviation ``cause`` can account for (0..1)."""
        if effect in accumulators:
            return 1.0  # a backlog integrates its inflow minus its outflow: any lasting change of either fills it
        if cause in behind.get(effect, ()):
            return 1.0  # the wait behind a backlog and the rejects of a full queue grow with it
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


@register(Method.STRUCTURAL)
def run_structural(req: Request) -> Attribution:
    """Structural scores of the alarm's ancestors, with bootstrap intervals over the baseline rows."""
    run = prepare(req)
    assert run.graph is not None  # Request.of refuses a graph method without a graph
    graph, cfg, inc, candidates = run.graph, run.cfg, run.inc, run.candidates
    scores = structural_scores(graph, candidates, run.anomaly, cfg.threshold)
    req.emit(run.result(scores, "structural", False))

    def one(b: pd.DataFrame) -> dict[str, float]:
        return structural_scores(graph, candidates, node_anomaly(b, inc, cfg, req.alarm, stats=robust_stats(b)),
                                 cfg.threshold)

    return req.finish(run.result(scores, "final", True, intervals=run.bootstrap(one)))


def fit_after_structural(run: Prepared) -> FittedModel:
    """For the fitted methods: emit the structural ranking as a partial result, then the fitted model (the
    request's, or one fitted now on the baseline rows)."""
    req = run.request
    assert run.graph is not None  # Request.of refuses a graph method without a graph
    req.emit(run.result(structural_scores(run.graph, run.candidates, run.anomaly, run.cfg.threshold), "structural",
                        False, label=Method.STRUCTURAL.value))
    req.token.raise_if_cancelled()
    fitted = req.fitted
    if fitted is None:
        fitted = fit(run.graph, run.base)
        fitted.fingerprint = req.fingerprint or fitted.fingerprint
    req.token.raise_if_cancelled()
    return fitted
