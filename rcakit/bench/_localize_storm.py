"""Storm rows of ``python -m rcakit.bench localize``: the IT-monitoring Storm incident, F1 of the root-cause set.

One real incident (EasyVista's Storm ingestion topology, 8 bolts, two labelled root causes:
capacity_elastic_search_bolt and pre_Message_dispatcher_bolt; alarm capacity_last_metric_bolt:value).
Peers: T-RCA and EasyRCA reach F1 0.8 on it. The set is :meth:`Attribution.root_cause_set` with its
default gap rule (no set size is given), so the F1 says how well a user reading the ranking with
that rule would do. Candidates are every node of the graph, not only the alarm's ancestors
(``restrict_to_ancestors=False``): capacity_elastic_search_bolt is no ancestor of the alarm, so an
ancestors-only ranking could never name both root causes. top-1/top-3: the best-ranked true root cause
is first / in the first three. One incident: every number is 0/1 or a single F1, not a rate.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.attribution.model import _as_graph

__all__ = ["set_f1", "storm_rows"]

PEER_F1 = "0.8 (T-RCA, EasyRCA)"


def set_f1(found: list[str], truth: list[str] | tuple[str, ...]) -> float:
    """F1 of a predicted root-cause set against the true set (0.0 when either is empty)."""
    hits = len(set(found) & set(truth))
    if not found or not truth or not hits:
        return 0.0
    precision, recall = hits / len(set(found)), hits / len(set(truth))
    return 2 * precision * recall / (precision + recall)


def storm_rows(root: Path, cfg: AttributionConfig, *, drafted: bool = True) -> list[dict[str, Any]]:
    """Rows for the expert graph and the drafted graph (structural method) and the graph-free references."""
    from rcakit.bench.localize import _drafted, _row, _truth

    folder = root / "it-monitoring"
    if not folder.is_dir():
        return []
    from rcakit.telemetry.datasets import load_storm

    inc = load_storm(folder)
    truth = list(_truth(inc).root_cause_nodes)
    expert = _truth(inc).graph
    config = AttributionConfig(**{**cfg.__dict__, "restrict_to_ancestors": False,
                                  "extra": {**cfg.extra, "fault_type": False}})
    runs: list[tuple[str, Method, Any]] = [("expert graph", Method.STRUCTURAL, lambda: expert)]
    if drafted:
        runs.append(("drafted", Method.STRUCTURAL, lambda: _drafted(inc)))
    runs += [("none", Method.ROBUST_Z, lambda: None), ("none", Method.N_SIGMA, lambda: None)]
    rows = []
    for gname, method, make_graph in runs:
        t0 = time.perf_counter()
        try:
            graph = make_graph()
            res = attribute(graph, inc, method=method, config=config)
        except Exception as exc:
            print(f"  storm/{gname}/{method.value}: {exc}")
            continue
        dt = time.perf_counter() - t0
        ranks = [r for r in (res.rank_of(t) for t in truth) if r is not None]
        found = res.root_cause_set()
        extra = {"set F1": set_f1(found, truth), "peer set F1": PEER_F1,
                 "set": ", ".join(n.split(":", 1)[0] for n in found)}
        # the "unexplained" rule reads the graph the row used (the expert graph for graph-free rows)
        g = expert if graph is None else _as_graph(graph)
        unexplained = res.root_cause_set("unexplained", graph=g, threshold=config.threshold)
        extra["set F1 unexplained"] = set_f1(unexplained, truth)
        rows.append(_row("storm", gname, method.value, [min(ranks) if ranks else None], [dt], extra))
    return rows
