"""``fit(graph, baseline)``: mechanisms fitted once per graph and reused across incidents.

A :class:`FittedModel` records the graph it was fitted on (a fingerprint of its nodes and edges) and
raises :class:`~rcakit.errors.GraphChangedError` when asked about another graph, as DoWhy does.
After a review decision, :meth:`FittedModel.update` returns a model for the new graph that refits
only the nodes whose parents changed and keeps every other mechanism, linear and DoWhy alike.
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias

import networkx as nx
import numpy as np
import pandas as pd

from rcakit.attribution._data import frames_of
from rcakit.attribution._scores import robust_stats
from rcakit.errors import DataError, GraphChangedError
from rcakit.telemetry import Incident

if TYPE_CHECKING:
    from dowhy.gcm import InvertibleStructuralCausalModel
    from dowhy.gcm.causal_mechanisms import ConditionalStochasticModel, StochasticModel

    from rcakit.graph import CausalDraft
    from rcakit.graph.data import WideData

__all__ = ["FittedModel", "GraphInput", "LinearMechanism", "as_graph", "drop_unmeasured", "fit", "graph_fingerprint", "load_gcm"]

#: A graph to attribute on (see :func:`as_graph`): a DiGraph, a CausalDraft, or a FittedModel.
GraphInput: TypeAlias = "nx.DiGraph | CausalDraft | FittedModel"
#: The key of a cached DoWhy SCM: (subgraph fingerprint, quality), prefixed with "previous" once per update.
_SCMKey: TypeAlias = tuple[str, ...]


def graph_fingerprint(graph: nx.DiGraph) -> str:
    """A hash of a graph's node and edge sets: equal fingerprints mean the same graph for attribution."""
    payload = json.dumps([sorted(map(str, graph.nodes)), sorted([str(u), str(v)] for u, v in graph.edges)])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def drop_unmeasured(graph: nx.DiGraph, measured: set[str]) -> nx.DiGraph:
    """Collapse nodes without data (A -> U -> B becomes A -> B) and remember them in the edge's ``via``."""
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes(data=True))
    for u, v, data in graph.edges(data=True):
        g.add_edge(u, v, **{**data, "via": list(data.get("via") or [])})
    for hidden in [n for n in list(g.nodes) if n not in measured]:
        for p in list(g.predecessors(hidden)):
            for s in list(g.successors(hidden)):
                if p == s:
                    continue
                via = [*g.edges[p, hidden]["via"], hidden, *g.edges[hidden, s]["via"]]
                if g.has_edge(p, s):
                    old = g.edges[p, s]["via"]
                    g.edges[p, s]["via"] = old + [x for x in via if x not in old]
                else:
                    g.add_edge(p, s, via=via)
        g.remove_node(hidden)
    return g


@dataclass
class LinearMechanism:
    """x = intercept + coef . parents + noise, fitted by least squares on the baseline."""

    parents: tuple[str, ...]
    intercept: float
    coef: np.ndarray
    noise_sd: float

    def predict(self, parent_values: np.ndarray) -> np.ndarray:
        return self.intercept + parent_values @ self.coef if self.parents else np.full(len(parent_values),
                                                                                      self.intercept)


def _fit_linear(data: pd.DataFrame, node: str, parents: tuple[str, ...]) -> LinearMechanism:
    y = data[node].to_numpy(float)
    if not parents:
        return LinearMechanism(parents, float(np.mean(y)), np.zeros(0), float(np.std(y)))
    x = data[list(parents)].to_numpy(float)
    design = np.column_stack([np.ones(len(y)), x])
    ridge = 1e-6 * np.eye(design.shape[1])
    ridge[0, 0] = 0.0
    beta = np.linalg.solve(design.T @ design + ridge * len(y), design.T @ y)
    resid = y - design @ beta
    return LinearMechanism(parents, float(beta[0]), beta[1:], float(np.std(resid)))


class FittedModel:
    """Mechanisms of a causal graph fitted on baseline data; reuse it for every incident on that graph.

    ``graph`` is the graph as measured (nodes without data collapsed, their names kept in each edge's
    ``via``); ``fingerprint`` identifies the graph passed to :func:`fit` (or :meth:`update`).
    ``refitted`` lists the nodes whose mechanisms were (re)fitted when this model was made.
    """

    def __init__(self, graph: nx.DiGraph, baseline: pd.DataFrame, *, source_fingerprint: str,
                 linear: dict[str, LinearMechanism] | None = None, refitted: list[str] | None = None,
                 dowhy_cache: dict[_SCMKey, InvertibleStructuralCausalModel] | None = None) -> None:
        self.graph = graph
        self.baseline = baseline
        self.fingerprint = source_fingerprint
        self.center, self.scale = robust_stats(baseline)
        self.filled = baseline.fillna(self.center).fillna(0.0)
        self.linear: dict[str, LinearMechanism] = dict(linear or {})
        todo = [n for n in nx.topological_sort(graph) if n not in self.linear] if nx.is_directed_acyclic_graph(
            graph) else [n for n in graph.nodes if n not in self.linear]
        for node in todo:
            self.linear[node] = _fit_linear(self.filled, node, tuple(sorted(graph.predecessors(node))))
        self.refitted = list(refitted) if refitted is not None else list(todo)
        self._dowhy: dict[_SCMKey, InvertibleStructuralCausalModel] = dict(dowhy_cache or {})
        self._lock = threading.Lock()

    # -- the graph contract ------------------------------------------------------------------------
    def check(self, graph: GraphInput) -> None:
        """Raise GraphChangedError unless ``graph`` is the graph this model was fitted on."""
        g = as_graph(graph)
        if graph_fingerprint(g) != self.fingerprint:
            raise GraphChangedError(
                f"this model was fitted on graph {self.fingerprint} but was asked about graph "
                f"{graph_fingerprint(g)} ({g.number_of_nodes()} nodes, {g.number_of_edges()} edges). "
                "Call model.update(new_graph) to refit only the nodes whose parents changed, or fit() again")

    def update(self, new_graph: GraphInput) -> FittedModel:
        """A model for ``new_graph`` that refits only nodes whose parent set changed (and new nodes)."""
        g_source = as_graph(new_graph)
        measured = drop_unmeasured(g_source, set(self.baseline.columns[self.baseline.notna().any()]))
        keep_linear = {}
        for node in measured.nodes:
            old = self.linear.get(node)
            if old is not None and node in self.graph and set(measured.predecessors(node)) == set(old.parents):
                keep_linear[node] = old
        refit = [n for n in measured.nodes if n not in keep_linear]
        dowhy_cache = {}
        for key, scm_entry in self._dowhy.items():
            dowhy_cache[("previous", *key)] = scm_entry
        return FittedModel(measured, self.baseline, source_fingerprint=graph_fingerprint(g_source),
                           linear=keep_linear, refitted=refit, dowhy_cache=dowhy_cache)

    # -- DoWhy ---------------------------------------------------------------------------------------
    def dowhy_scm(self, nodes: list[str], *, quality: str = "good") -> InvertibleStructuralCausalModel:
        """An invertible DoWhy SCM on the subgraph of ``nodes``, fitted once and cached.

        Mechanisms of nodes whose parents equal those of a previously fitted SCM (this model's, or the
        model it was updated from) are reused, so a review decision refits only what it touched.
        """
        gcm = load_gcm()
        sub = self.graph.subgraph(nodes).copy()
        key = (graph_fingerprint(sub), quality)
        with self._lock:
            if key in self._dowhy:
                return self._dowhy[key]
            scm = gcm.InvertibleStructuralCausalModel(nx.DiGraph(sub.edges) if sub.number_of_edges() else sub)
            for n in sub.nodes:
                scm.graph.add_node(n)
            reused = self._reusable_mechanisms(sub)
            data = self.filled[list(sub.nodes)]
            todo = [n for n in sub.nodes if n not in reused]
            from dowhy.gcm.causal_models import PARENTS_DURING_FIT
            from dowhy.graph import get_ordered_predecessors

            for node, mechanism in reused.items():
                scm.set_causal_mechanism(node, mechanism)
                # the mechanism was fitted on these very parents: tell DoWhy, or it refuses to use it
                scm.graph.nodes[node][PARENTS_DURING_FIT] = get_ordered_predecessors(scm.graph, node)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                quality_enum = {"good": gcm.auto.AssignmentQuality.GOOD,
                                "better": gcm.auto.AssignmentQuality.BETTER,
                                "best": gcm.auto.AssignmentQuality.BEST}.get(quality)
                if quality == "linear":
                    for node in todo:
                        if sub.in_degree(node) == 0:
                            scm.set_causal_mechanism(node, gcm.EmpiricalDistribution())
                        else:
                            scm.set_causal_mechanism(node, gcm.AdditiveNoiseModel(
                                gcm.ml.create_linear_regressor()))
                else:
                    if quality_enum is None:
                        raise ValueError(f"unknown DoWhy quality {quality!r}; use linear, good, better or best")
                    gcm.auto.assign_causal_mechanisms(scm, data, quality=quality_enum, override_models=False)
                for node in todo:
                    gcm.fitting_sampling.fit_causal_model_of_target(scm, node, data)
            self._dowhy[key] = scm
            return scm

    def _reusable_mechanisms(self, sub: nx.DiGraph) -> dict[str, StochasticModel | ConditionalStochasticModel]:
        out: dict[str, StochasticModel | ConditionalStochasticModel] = {}
        for scm in self._dowhy.values():
            for node in sub.nodes:
                if node in out or node not in scm.graph:
                    continue
                if set(scm.graph.predecessors(node)) == set(sub.predecessors(node)):
                    try:
                        out[node] = scm.causal_mechanism(node)
                    except (KeyError, ValueError):
                        continue
        return out

    # -- linear effects --------------------------------------------------------------------------------
    def total_effects(self, target: str, nodes: list[str]) -> dict[str, float]:
        """d E[target | do(x_i)] / d x_i under the linear mechanisms, for every node in ``nodes``."""
        sub = self.graph.subgraph(nodes)
        effect = {target: 1.0}
        for node in reversed(list(nx.topological_sort(sub))):
            if node == target:
                continue
            total = 0.0
            for child in sub.successors(node):
                mech = self.linear[child]
                if node in mech.parents and child in effect:
                    total += float(mech.coef[mech.parents.index(node)]) * effect[child]
            effect[node] = total
        return effect

    def __repr__(self) -> str:
        return (f"FittedModel(graph {self.fingerprint}: {self.graph.number_of_nodes()} measured nodes, "
                f"{self.graph.number_of_edges()} edges; {len(self.baseline)} baseline rows)")


def as_graph(graph_or_draft: GraphInput) -> nx.DiGraph:
    """The graph to attribute on: a DiGraph as is, a CausalDraft's observed graph, a FittedModel's graph."""
    if isinstance(graph_or_draft, nx.DiGraph):
        return graph_or_draft
    if hasattr(graph_or_draft, "observed_graph"):
        return graph_or_draft.observed_graph()
    if isinstance(graph_or_draft, FittedModel):
        return graph_or_draft.graph
    raise TypeError(f"expected a networkx DiGraph or a CausalDraft, got {type(graph_or_draft).__name__}")


def load_gcm() -> ModuleType:
    """DoWhy's ``gcm`` module with its progress bars off (a MissingDependencyError names the package)."""
    try:
        from dowhy import gcm
    except ImportError as exc:  # pragma: no cover - dowhy is a core dependency
        from rcakit.errors import MissingDependencyError

        raise MissingDependencyError("DoWhy is needed for this method: pip install dowhy") from exc
    gcm.config.disable_progress_bars()
    module: ModuleType = gcm  # DoWhy ships no type information
    return module


def fit(graph: GraphInput, baseline: Incident | WideData, *, nodes: list[str] | None = None) -> FittedModel:
    """Fit the mechanisms of ``graph`` (DiGraph or CausalDraft) on baseline data.

    ``baseline`` is an Incident (its baseline window is used) or a pandas/polars frame with one
    column per node. Nodes without any data are collapsed out of the graph and named in the ``via``
    of the edges that pass through them.
    """
    g = as_graph(graph)
    if g.number_of_nodes() == 0:
        raise DataError("the graph has no nodes", hint="Draft or load a graph before fitting")
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        raise DataError(f"the graph has a cycle through {cycle[0][0]!r}",
                        hint="Reverse or reject one edge of the cycle (ReviewSession.reverse/reject) and refit")
    wanted = list(nodes) if nodes is not None else list(g.nodes)
    if isinstance(baseline, Incident):
        base, _ = frames_of(baseline, wanted)
    else:
        frame = baseline.to_pandas() if hasattr(baseline, "to_pandas") and not isinstance(
            baseline, pd.DataFrame) else baseline
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"baseline must be an Incident or a DataFrame, got {type(baseline).__name__}")
        base = frame.reindex(columns=wanted).apply(pd.to_numeric, errors="coerce").astype(float)
    measured_cols = set(base.columns[base.notna().any()])
    if not measured_cols:
        raise DataError("no node of the graph has baseline data", source="baseline",
                        hint=f"Columns must be named like the graph's nodes, e.g. {wanted[0]!r}")
    measured = drop_unmeasured(g.subgraph(wanted) if nodes is not None else g, measured_cols)
    return FittedModel(measured, base[[c for c in base.columns if c in measured_cols]],
                       source_fingerprint=graph_fingerprint(g))
