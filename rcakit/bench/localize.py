"""``python -m rcakit.bench localize``: top-1/top-3 root-cause localization per dataset and method.

Datasets (each skipped with a note when absent): DoWhy microservice (rank of Caching Service),
PetShop low_traffic through its own protocol and rcakit's PetShop adapter (alarm PetSite latency or
availability, normal data = noissue, a hit = the true component in the top k), Nezha (service level,
one Incident per fault, plus the fault-type accuracy of the top cause), the rcakit simulator S/M/L.
Graphs: the true/call graph (reference) and, when rcakit.graph is there, the offline drafted graph.
Every table row carries its seconds; ``--plain-dowhy`` adds a plain DoWhy attribute_anomalies call
on the same graph and data, timed in the same process, as the speed baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.bench._common import markdown_table
from rcakit.telemetry import GroundTruth

__all__ = ["main"]

PEERS = {
    ("petshop latency", 1): "0.57 (graph traversal)", ("petshop latency", 3): "0.86 (CIRCA)",
    ("petshop availability", 1): "0.75 (ranked correlation)", ("petshop availability", 3): "1.00",
    ("nezha", 1): "0.867 (Nezha, two days)",
}
FAST = [Method.STRUCTURAL, Method.ATE, Method.ROBUST_Z, Method.N_SIGMA]


def _row(dataset: str, graph: str, method: str, ranks: list[int | None], seconds: list[float],
         extra: dict[str, Any] | None = None) -> dict[str, Any]:
    r = np.array([99 if x is None else x for x in ranks])
    return {"dataset": dataset, "graph": graph, "method": method, "n": len(ranks),
            "top1": float(np.mean(r <= 1)) if len(r) else float("nan"),
            "top3": float(np.mean(r <= 3)) if len(r) else float("nan"),
            "peer top1": PEERS.get((dataset, 1), ""), "peer top3": PEERS.get((dataset, 3), ""),
            "median s": float(np.median(seconds)) if seconds else float("nan"), **(extra or {})}


# -- PetShop ------------------------------------------------------------------------------------------
def petshop_rows(root: Path, methods: list[Method], plain: bool) -> list[dict[str, Any]]:
    from rcakit.integrations.petshop import make_analyze_root_causes

    folder = root / "petshop" / "dataset" / "low_traffic"
    if not folder.is_dir():
        return []
    graph = nx.from_pandas_adjacency(pd.read_csv(folder / "graph.csv", index_col=0), create_using=nx.DiGraph)
    normal = pd.read_csv(folder / "noissue" / "metrics.csv", header=[0, 1, 2], index_col=0)
    issues = []
    for split in ("train", "test"):
        for issue in sorted((folder / split).iterdir()):
            if issue.is_dir():
                target = json.loads((issue / "target.json").read_text())
                issues.append((pd.read_csv(issue / "metrics.csv", header=[0, 1, 2], index_col=0), target))
    rows = []
    variants = [(m, m.value, 0.5) for m in methods]
    if Method.STRUCTURAL in methods:
        variants.insert(methods.index(Method.STRUCTURAL) + 1,
                        (Method.STRUCTURAL, "structural, no remote prior", 1.0))
    for method, label, prior in variants:
        analyze = make_analyze_root_causes(method=method, remote_prior=prior)
        per: dict[str, tuple[list[int | None], list[float]]] = {}
        for abnormal, target in issues:
            t = target["target"]
            t0 = time.perf_counter()
            found = analyze(graph, t["node"], t["metric"], t["agg"], normal, abnormal)
            dt = time.perf_counter() - t0
            ranked = [c.node for c in sorted(found, key=lambda c: c.score, reverse=True)]
            truth = target["root_cause"]["node"]
            ranks, secs = per.setdefault(t["metric"], ([], []))
            ranks.append(ranked.index(truth) + 1 if truth in ranked else None)
            secs.append(dt)
        for metric, (ranks, secs) in per.items():
            rows.append(_row(f"petshop {metric}", "call graph", label, ranks, secs))
    if plain:
        import dowhy.gcm  # noqa: F401 - imported before timing: both sides run with DoWhy loaded

        sample = [issues[8]]
        ours = make_analyze_root_causes(method=Method.ANOMALY_ATTRIBUTION)
        t0 = time.perf_counter()
        found = ours(graph, "PetSite", "latency", "Average", normal, sample[0][0])
        dt = time.perf_counter() - t0
        ranked = [c.node for c in sorted(found, key=lambda c: c.score, reverse=True)]
        truth = sample[0][1]["root_cause"]["node"]
        rows.append(_row("petshop latency", "call graph", "attribute_anomalies (rcakit, linear SCM)",
                         [ranked.index(truth) + 1 if truth in ranked else None], [dt], {"note": "1 issue"}))
        rows.append(_plain_petshop(graph, normal, sample))
    return rows


def _plain_petshop(graph: nx.DiGraph, normal: pd.DataFrame, issues: list[Any]) -> dict[str, Any]:
    """PetShop's own counterfactual method as a new user runs it (DoWhy, BETTER auto-assignment)."""
    from dowhy import gcm
    from dowhy.gcm.shapley import ShapleyConfig

    gcm.config.disable_progress_bars()
    ranks, secs = [], []
    for abnormal, target in issues:
        t = target["target"]

        def reduce(df: pd.DataFrame, t: dict[str, Any] = t) -> pd.DataFrame:
            d = df.loc[:, (slice(None), [t["metric"]], [t["agg"]])]
            d.columns = [c[0] for c in d.columns]
            return d

        causal = graph.reverse()
        sub = causal.subgraph(nx.ancestors(causal, t["node"]) | {t["node"]}).copy()
        n = reduce(normal).reindex(columns=list(sub.nodes))
        n = n.fillna(n.mean()).fillna(0.0)
        a = reduce(abnormal).reindex(columns=list(sub.nodes)).iloc[2:3]
        a = a.fillna(n.mean())
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scm = gcm.InvertibleStructuralCausalModel(sub)
            gcm.auto.assign_causal_mechanisms(scm, n, quality=gcm.auto.AssignmentQuality.BETTER)
            gcm.fit(scm, n)
            scores = gcm.attribute_anomalies(scm, t["node"], a, shapley_config=ShapleyConfig(n_jobs=1),
                                             attribute_mean_deviation=True,
                                             anomaly_scorer=gcm.anomaly_scorers.MeanDeviationScorer())
        secs.append(time.perf_counter() - t0)
        ranked = sorted(scores, key=lambda k: -float(np.mean(scores[k])))
        truth = target["root_cause"]["node"]
        ranks.append(ranked.index(truth) + 1 if truth in ranked else None)
    return _row(f"petshop {issues[0][1]['target']['metric']}", "call graph (ancestors)",
                "plain DoWhy attribute_anomalies", ranks, secs, {"note": f"{len(issues)} issue(s)"})


# -- incidents through attribute() --------------------------------------------------------------------
def incident_rows(dataset: str, incidents: list[Any], graphs: dict[str, Callable[[Any], Any]],
                  methods: list[Method], config: AttributionConfig, entity_level: bool = False,
                  ) -> list[dict[str, Any]]:
    rows = []
    for gname, make_graph in graphs.items():
        built = []
        for inc in incidents:
            t0 = time.perf_counter()
            try:
                built.append((inc, make_graph(inc), time.perf_counter() - t0))
            except Exception as exc:
                print(f"  {dataset}/{gname}: graph failed for {inc.name}: {exc}")
        for method in methods:
            ranks: list[int | None] = []
            secs: list[float] = []
            for inc, graph, _ in built:
                t0 = time.perf_counter()
                try:
                    res = attribute(graph if method.needs_graph else None, inc, method=method, config=config)
                except Exception as exc:
                    print(f"  {dataset}/{gname}/{method.value}: {inc.name}: {exc}")
                    ranks.append(None)
                    continue
                secs.append(time.perf_counter() - t0)
                known = _truth(inc)
                truth = known.root_cause_entities if entity_level or not known.root_cause_nodes else (
                    known.root_cause_nodes)
                found = [r for r in (res.rank_of(t) for t in truth) if r is not None]
                ranks.append(min(found) if found else None)
            if built:
                rows.append(_row(dataset, gname, method.value, ranks, secs))
    return rows


def _truth(incident: Any) -> GroundTruth:
    if incident.truth is None:
        raise ValueError(f"incident {incident.name!r} has no ground truth to score against")
    return incident.truth


def dowhy_incidents(root: Path) -> tuple[list[Any], nx.DiGraph] | None:
    folder = root / "dowhy-microservice"
    if not folder.is_dir():
        return None
    from rcakit.telemetry.datasets import load_dowhy_microservice

    incidents = load_dowhy_microservice(folder)
    return incidents, _truth(incidents[0]).graph


def _drafted(inc: Any) -> Any:
    from rcakit.graph import draft_graph

    return draft_graph(inc, alarm=inc.alarm)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcakit.bench localize")
    parser.add_argument("--datasets", default="dowhy,petshop,sim,nezha")
    parser.add_argument("--methods", default=",".join(m.value for m in FAST))
    parser.add_argument("--plain-dowhy", action="store_true", help="time a plain DoWhy call on one PetShop issue")
    parser.add_argument("--no-drafted", action="store_true")
    args = parser.parse_args(argv)
    from rcakit._progress import set_progress
    from rcakit.bench._common import require_datasets

    set_progress(False)
    root = require_datasets()
    methods = [Method(m) for m in args.methods.split(",") if m]
    wanted = set(args.datasets.split(","))
    rows: list[dict[str, Any]] = []
    cfg = AttributionConfig(n_bootstrap=0)
    if "dowhy" in wanted:
        got = dowhy_incidents(root)
        if got:
            incs, graph = got
            def true_graph(_inc: Any, g: nx.DiGraph = graph) -> nx.DiGraph:
                return g

            graphs: dict[str, Callable[[Any], Any]] = {"true graph": true_graph}
            if not args.no_drafted:
                graphs["drafted"] = _drafted
            rows = _report(rows, incident_rows("dowhy microservice", incs, graphs,
                                               [*methods, Method.ANOMALY_ATTRIBUTION], cfg))
    if "petshop" in wanted:
        rows = _report(rows, petshop_rows(root, methods, args.plain_dowhy))
    if "sim" in wanted:
        rows = _report(rows, sim_rows(methods, cfg, drafted=not args.no_drafted))
    if "nezha" in wanted:
        from rcakit.bench._localize_nezha import nezha_rows

        rows = _report(rows, nezha_rows(root, cfg))
    print("\n" + markdown_table(rows))
    return 0


def _report(rows: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add a dataset's rows and print them at once (a long run shows its tables as it goes)."""
    if new:
        print(markdown_table(new), flush=True)
    return rows + new


def sim_rows(methods: list[Method], cfg: AttributionConfig, drafted: bool) -> list[dict[str, Any]]:
    try:
        from rcakit.sim import (
            BatchSizeMisconfig,
            ErrorBurst,
            GpuThrottle,
            NetworkSlowdown,
            Topology,
            WorkloadSpike,
            make_incident,
        )
    except ImportError:
        return []
    rows = []
    for size, topo in (("S", Topology.small()), ("M", Topology.medium()), ("L", Topology.large())):
        faults = [GpuThrottle("GPU_0", duration="10min"), WorkloadSpike(duration="10min"),
                  BatchSizeMisconfig("Batcher_0", duration="10min") if _accepts(BatchSizeMisconfig) else None,
                  ErrorBurst("ModelInference_0", duration="10min") if _accepts(ErrorBurst) else None,
                  NetworkSlowdown("Client", "Router", duration="10min")]
        incs = []
        for i, fault in enumerate(f for f in faults if f is not None):
            try:
                incs.append(make_incident(topo, fault, seed=i, baseline="30min"))
            except Exception as exc:
                print(f"  sim {size}: {type(fault).__name__}: {exc}")
        graphs: dict[str, Callable[[Any], Any]] = {"true graph": _sim_graph}
        if drafted:
            graphs["drafted"] = _drafted
        rows += incident_rows(f"sim {size}", incs, graphs, methods, cfg)
    return rows


def _accepts(cls: type) -> bool:
    return True


def _sim_graph(inc: Any) -> nx.DiGraph:
    g = inc.truth.graph
    observed = [n for n, d in g.nodes(data=True) if d.get("observed", True)]
    from rcakit.attribution.model import drop_unmeasured

    return drop_unmeasured(g, set(observed))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
