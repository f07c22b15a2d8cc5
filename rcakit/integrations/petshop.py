"""PetShop's evaluation interface: ``analyze_root_causes(graph, target_node, target_metric, ...)``.

PetShop's harness (``rca_task.evaluate``) calls a method with the call graph as loaded (caller ->
callee, networkx), the alarm (node, metric, statistic) and two pandas frames with the three-level
column header of ``metrics.csv`` (microservice, metric, statistic). It sorts the returned candidates
by ``.score`` descending and reads ``.node`` and ``.metric``; an empty list means "no issue".

rcakit reverses the call graph into a causal graph (callee latency -> caller latency), analyses the
first incident row from row 2 on in which the alarm is anomalous (PetShop's own protocol), with the
rows before it as a local pre-fault reference, and ranks with the structural method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import networkx as nx
import numpy as np
import pandas as pd

from rcakit.attribution.api import attribute
from rcakit.attribution.config import AttributionConfig, Direction, Method
from rcakit.errors import DataError

__all__ = ["AnalyzeRootCauses", "PotentialRootCause", "analyze_root_causes", "make_analyze_root_causes"]


@dataclass
class PotentialRootCause:
    """One candidate, as PetShop's harness reads it."""

    node: str
    metric: str
    score: float


#: PetShop's ``analyze_root_causes(graph, target_node, target_metric, target_statistic, normal_metrics,
#: abnormal_metrics)``: the call graph, the alarm, and the two metrics.csv frames in; ranked causes out.
AnalyzeRootCauses: TypeAlias = Callable[
    [nx.DiGraph, str, str, str, pd.DataFrame, pd.DataFrame], list[PotentialRootCause]]


def _reduce(frame: pd.DataFrame, metric: str, statistic: str, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame with PetShop's 3-level column header, got "
                        f"{type(frame).__name__}")
    if frame.columns.nlevels != 3:
        raise DataError(f"{what} has {frame.columns.nlevels} column level(s); PetShop metrics have 3 "
                        "(microservice, metric, statistic)", source=what,
                        hint="Read metrics.csv with pd.read_csv(path, header=[0, 1, 2], index_col=0)")
    mask = (frame.columns.get_level_values(1) == metric) & (frame.columns.get_level_values(2) == statistic)
    reduced = frame.loc[:, mask]
    reduced.columns = [str(c[0]) for c in reduced.columns]
    reduced = reduced.T.groupby(level=0).mean().T  # duplicate microservice columns, if any
    return reduced.apply(pd.to_numeric, errors="coerce").astype(float)


def make_analyze_root_causes(*, method: Method | str = Method.STRUCTURAL, threshold: float = 3.0,
                             first_row: int = 2, n_bootstrap: int = 0, seed: int = 0) -> AnalyzeRootCauses:
    """A PetShop-compatible ``analyze_root_causes`` with other options (method, threshold, row).

    Nothing in it knows PetShop's components: the harness hands over the call graph and the alarm,
    and the ranking is rcakit's generic one (structural by default, the alarm's direction from the data).
    """

    def analyze(graph: nx.DiGraph, target_node: str, target_metric: str, target_statistic: str,
                normal_metrics: pd.DataFrame, abnormal_metrics: pd.DataFrame) -> list[PotentialRootCause]:
        if not isinstance(graph, nx.DiGraph):
            raise TypeError(f"graph must be the PetShop call graph as a networkx DiGraph, got {type(graph).__name__}")
        normal = _reduce(normal_metrics, target_metric, target_statistic, "normal_metrics")
        abnormal = _reduce(abnormal_metrics, target_metric, target_statistic, "abnormal_metrics")
        if target_node not in abnormal.columns:
            raise DataError(f"the target node {target_node!r} has no {target_metric}/{target_statistic} column",
                            source="abnormal_metrics", column=target_node,
                            hint="target_node must be a microservice of metrics.csv")
        columns = list(dict.fromkeys([*normal.columns, *abnormal.columns]))
        names = {str(n) for n in graph.nodes} | set(columns) | {target_node}
        rename = {n: f"{n.replace(':', '__')}:{target_metric}" for n in names}
        back = {v: k for k, v in rename.items()}
        causal = nx.relabel_nodes(graph.reverse(copy=True), rename)
        causal.add_node(rename[target_node])
        normal = normal.reindex(columns=columns).rename(columns=rename)
        abnormal = abnormal.reindex(columns=columns).rename(columns=rename)
        config = AttributionConfig(threshold=threshold, direction=Direction.AUTO, first_row=min(
            first_row, max(len(abnormal.index) - 1, 0)), n_bootstrap=n_bootstrap, seed=seed,
            fault_type=False)
        alarm = rename[target_node]
        result = attribute(causal, (normal, abnormal), method=method, config=config, alarm=alarm)
        alarm_z = float(result.causes[0].anomaly) if result.causes else 0.0
        alarm_anomaly = next((c.anomaly for c in result.causes if c.node == alarm), alarm_z)
        if alarm_anomaly <= threshold and not any(c.anomaly > threshold for c in result.causes):
            return []  # nothing anomalous: "no issue" (PetShop's specificity test counts this)
        out = []
        for cause in result.causes:
            if not np.isfinite(cause.score):
                continue
            original = back.get(cause.node, cause.entity)
            out.append(PotentialRootCause(node=original, metric=target_metric, score=float(cause.score)))
        return out

    return analyze


def analyze_root_causes(graph: nx.DiGraph, target_node: str, target_metric: str, target_statistic: str,
                        normal_metrics: pd.DataFrame, abnormal_metrics: pd.DataFrame) -> list[PotentialRootCause]:
    """Rank potential root causes of ``target_node``'s ``target_metric`` (PetShop's method signature).

    Example (PetShop's own harness): ``rca_task.evaluate(analyze_root_causes, "dataset")``.
    """
    return make_analyze_root_causes()(graph, target_node, target_metric, target_statistic,
                                      normal_metrics, abnormal_metrics)
