"""``python -m rcakit.bench localize``: top-1/top-3 root-cause localization per dataset and method.

Datasets (each skipped with a note when absent): DoWhy microservice (rank of Caching Service),
PetShop low_traffic through its own protocol and rcakit's PetShop adapter (alarm PetSite latency or
availability, normal data = noissue, a hit = the true component in the top k), Nezha (service level,
one Incident per fault, plus the fault-type accuracy of the top cause; rows in _localize_nezha.py),
the IT-monitoring Storm incident (F1 of the root-cause set chosen by ``Attribution.root_cause_set``;
rows in _localize_storm.py), ``simset``: the same set rules on simulator incidents with one and two
simultaneous root causes (S and M, held-out seeds ``--set-seeds``, default 5-9; rows in
_localize_storm.py), ``simmm``: ``Method.MULTIMODAL`` with and without placement on simulator incidents
with logs and traces, per fault kind (held-out seeds; rows in _localize_multimodal_sim.py), the rcakit
simulator S/M/L (with ``fault type acc``: classify_fault on the true root-cause entity of held-out
simulator incidents of every fault type, S and M).
Graphs: the true/call graph (reference) and, when rcakit.graph is there, the offline drafted graph.
Every table row carries its seconds. ``--plain-dowhy`` runs a plain DoWhy attribute_anomalies call
(automatic mechanisms, the alarm's ancestor subgraph) and rcakit on the same ``--plain-issues``
PetShop latency issues (1-3, default 1) in the same process, and prints plain seconds and rank,
rcakit's first-ranking and final seconds and rank, and the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import os
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
from rcakit.bench._protocol import role_of
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
            "median s": float(np.median(seconds)) if seconds else float("nan"), "role": role_of(dataset),
            **(extra or {})}


# -- PetShop ------------------------------------------------------------------------------------------
def petshop_rows(root: Path, methods: list[Method], plain: int = 0) -> list[dict[str, Any]]:
    """PetShop low_traffic: the generic path first, then PetShop's own harness interface.

    ``analyze (default)``: every issue loaded by the dataset adapter and run through
    :func:`rcakit.pipeline.analyze`, exactly what ``rcakit analyze`` does (drafted graph, structural
    ranking, the alarm's time and direction from the incident); a hit is the true component first in
    the attribution, and ``report lead top1`` counts the entity the report leads with. Then each
    method on the same drafted graphs, and each method through
    :mod:`rcakit.integrations.petshop` (the call graph as PetShop's harness hands it over). No row
    uses PetShop-specific code: there is none. With ``plain`` > 0, the plain-DoWhy comparison.
    """
    from rcakit.telemetry.datasets import load_petshop

    folder = root / "petshop" / "dataset" / "low_traffic"
    if not folder.is_dir():
        return []
    rows = petshop_generic_rows(load_petshop(root / "petshop"), methods)
    rows += petshop_harness_rows(folder, methods, plain)
    return rows


def petshop_generic_rows(incidents: list[Any], methods: list[Method]) -> list[dict[str, Any]]:
    """``analyze(incident)`` on every PetShop issue, then the other methods on the same drafted graphs."""
    from rcakit.pipeline import analyze

    per: dict[str, dict[str, tuple[list[int | None], list[float]]]] = {}
    leads: dict[str, list[bool]] = {}
    drafts = []
    for inc in incidents:
        truth = _truth(inc).root_cause_entities[0]
        metric = _petshop_metric(inc)
        t0 = time.perf_counter()
        result = analyze(inc, llm=None)
        ranks, secs = per.setdefault("analyze (default)", {}).setdefault(metric, ([], []))
        ranks.append(result.attribution.rank_of(truth))
        secs.append(time.perf_counter() - t0)
        leads.setdefault(metric, []).append(result.top_entity == truth)
        drafts.append((inc, result.draft))
    for method in methods:
        if method is Method.STRUCTURAL:
            continue
        for inc, draft in drafts:
            t0 = time.perf_counter()
            res = attribute(draft if method.needs_graph else None, inc, method=method,
                            config=AttributionConfig(n_bootstrap=0, fault_type=False))
            ranks, secs = per.setdefault(method.value, {}).setdefault(_petshop_metric(inc), ([], []))
            ranks.append(res.rank_of(_truth(inc).root_cause_entities[0]))
            secs.append(time.perf_counter() - t0)
    rows = []
    for label, by_metric in per.items():
        for metric, (ranks, secs) in by_metric.items():
            extra = {"report lead top1": f"{np.mean(leads[metric]):.2f}"} if label.startswith("analyze") else {}
            rows.append(_row(f"petshop {metric}", "drafted (adapter)", label, ranks, secs, extra))
    return rows


def _petshop_metric(incident: Any) -> str:
    return str(incident.meta["target"]["target"]["metric"])


def petshop_harness_rows(folder: Path, methods: list[Method], plain: int = 0) -> list[dict[str, Any]]:
    """Each method through PetShop's harness interface (call graph given, the alarm's metric only)."""
    from rcakit.integrations.petshop import make_analyze_root_causes

    graph = nx.from_pandas_adjacency(pd.read_csv(folder / "graph.csv", index_col=0), create_using=nx.DiGraph)
    normal = pd.read_csv(folder / "noissue" / "metrics.csv", header=[0, 1, 2], index_col=0)
    issues = []
    for split in ("train", "test"):
        for issue in sorted((folder / split).iterdir()):
            if issue.is_dir():
                target = json.loads((issue / "target.json").read_text())
                target["name"] = f"{split}/{issue.name}"
                issues.append((pd.read_csv(issue / "metrics.csv", header=[0, 1, 2], index_col=0), target))
    rows = []
    for method in methods:
        analyze = make_analyze_root_causes(method=method)
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
            rows.append(_row(f"petshop {metric}", "call graph (harness)", method.value, ranks, secs))
    if plain:
        rows += plain_comparison(graph, normal, issues, plain)
    return rows


def plain_comparison(graph: nx.DiGraph, normal: pd.DataFrame, issues: list[Any], n_issues: int,
                     ) -> list[dict[str, Any]]:
    """rcakit vs a plain DoWhy attribute_anomalies call on the first ``n_issues`` latency issues, same process.

    Prints one line per issue and method: plain seconds and rank of the truth, rcakit's first-ranking
    seconds (its first partial result, through ``on_progress``), final seconds and rank, and the
    speed ratio plain / rcakit final. DoWhy is imported before any timing, so neither side pays for it.
    """
    import dowhy.gcm  # noqa: F401 - imported before timing: both sides run with DoWhy loaded

    from rcakit.bench._common import markdown_table

    chosen = [x for x in issues if x[1]["target"]["metric"] == "latency"][:n_issues]
    table, rows = [], []
    for abnormal, target in chosen:
        truth = target["root_cause"]["node"]
        plain, plain_ranks = _plain_petshop(graph, normal, [(abnormal, target)])
        for method in (Method.STRUCTURAL, Method.ANOMALY_ATTRIBUTION):
            first, final, rank = _rcakit_petshop(graph, normal, abnormal, target, method)
            table.append({"issue": target.get("name", ""), "truth": truth.split("_")[0],
                          "plain s": plain["median s"],
                          "plain rank": plain_ranks[0] if plain_ranks[0] is not None else "absent",
                          "rcakit method": method.value, "rcakit first s": first, "rcakit final s": final,
                          "rcakit rank": rank if rank is not None else "absent",
                          "speed ratio (plain / rcakit final)": plain["median s"] / final})
        rows.append(plain)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    print(f"\nSame-run comparison with a plain DoWhy call (PetShop low_traffic, latency issues; load average "
          f"at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} over 1/5/15 min, {os.cpu_count()} cores):")
    print(markdown_table(table), flush=True)
    for method in (Method.STRUCTURAL, Method.ANOMALY_ATTRIBUTION):
        mine = [t for t in table if t["rcakit method"] == method.value]
        rows.append(_row("petshop latency", "call graph", f"{method.value} (rcakit, same issues as plain)",
                         [t["rcakit rank"] if isinstance(t["rcakit rank"], int) else None for t in mine],
                         [t["rcakit final s"] for t in mine],
                         {"note": f"{len(mine)} issue(s); first ranking median "
                                  f"{float(np.median([t['rcakit first s'] for t in mine])):.3g} s"}))
    return rows


def _rcakit_petshop(graph: nx.DiGraph, normal: pd.DataFrame, abnormal: pd.DataFrame, target: dict[str, Any],
                    method: Method) -> tuple[float, float, int | None]:
    """(first-ranking s, final s, rank of the truth) of rcakit on one PetShop issue, as the adapter runs it.

    Same inputs and options as ``rcakit.integrations.petshop.analyze_root_causes`` (call graph
    reversed, row 2 on), called through ``attribute`` so that the time of the first partial ranking
    (``on_progress``) can be read.
    """
    t = target["target"]

    def reduce(df: pd.DataFrame) -> pd.DataFrame:
        d = df.loc[:, (slice(None), [t["metric"]], [t["agg"]])]
        d.columns = [f"{str(c[0]).replace(':', '__')}:{t['metric']}" for c in d.columns]
        return d.T.groupby(level=0).mean().T.astype(float)

    t0 = time.perf_counter()
    rename = {n: f"{str(n).replace(':', '__')}:{t['metric']}" for n in graph.nodes}
    causal = nx.relabel_nodes(graph.reverse(copy=True), rename)
    base, inc = reduce(normal), reduce(abnormal)
    columns = list(dict.fromkeys([*base.columns, *inc.columns]))
    config = AttributionConfig(first_row=min(2, len(inc.index) - 1), n_bootstrap=0, fault_type=False)
    firsts: list[float] = []
    res = attribute(causal, (base.reindex(columns=columns), inc.reindex(columns=columns)), method=method,
                    config=config, alarm=rename[t["node"]],
                    on_progress=lambda _r: firsts.append(time.perf_counter() - t0))
    final = time.perf_counter() - t0
    back = {v: k for k, v in rename.items()}
    scored = sorted(((back.get(c.node, c.entity), c.score) for c in res.causes if np.isfinite(c.score)),
                    key=lambda kv: -kv[1])
    ranked = [n for n, _ in scored]
    truth = target["root_cause"]["node"]
    return (firsts[0] if firsts else final), final, (ranked.index(truth) + 1 if truth in ranked else None)


def _plain_petshop(graph: nx.DiGraph, normal: pd.DataFrame, issues: list[Any],
                   ) -> tuple[dict[str, Any], list[int | None]]:
    """A plain DoWhy call as a new user writes it (automatic mechanisms, BETTER quality, ancestor subgraph).

    DoWhy 0.14 ``InvertibleStructuralCausalModel`` on the alarm's ancestor subgraph of the reversed
    call graph, ``assign_causal_mechanisms(quality=BETTER)``, ``fit`` on the noissue data and
    ``attribute_anomalies`` of the first analysed row (row 2); Shapley with ``n_jobs=1`` (DoWhy's
    model selection still uses both cores through joblib).
    """
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
        print(f"  plain DoWhy on {target.get('name', 'an issue')}: {secs[-1]:.1f} s, {len(sub)} nodes, "
              f"truth ranked {ranks[-1]}", flush=True)
    row = _row(f"petshop {issues[0][1]['target']['metric']}", "call graph (ancestors)",
               "plain DoWhy attribute_anomalies", ranks, secs, {"note": f"{len(issues)} issue(s)"})
    return row, ranks


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
    parser.add_argument("--datasets", default="dowhy,petshop,sim,nezha,storm,simset,simmm,fusion,lodo")
    parser.add_argument("--family-seeds", type=int, default=2,
                        help="how many tuning and scoring seeds of the simulator families the fusion and lodo "
                             "sections use (each seed: 4 families x 8 faults)")
    parser.add_argument("--methods", default=",".join(m.value for m in FAST))
    parser.add_argument("--plain-dowhy", action="store_true",
                        help="compare with a plain DoWhy attribute_anomalies call on PetShop latency issues, same run")
    parser.add_argument("--plain-issues", type=int, default=1, choices=(1, 2, 3),
                        help="how many PetShop latency issues the plain DoWhy call runs on (each takes minutes)")
    parser.add_argument("--no-drafted", action="store_true")
    parser.add_argument("--fault-seeds", default="10,11",
                        help="simulator seeds of the fault-type evaluation (held out; '' to skip it)")
    parser.add_argument("--set-seeds", default="5,6,7,8,9",
                        help="simulator seeds of the root-cause set rows (held out: the rules were chosen on 0-4)")
    parser.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="run the sections side by side on dask.distributed (rcakit.scale): a LocalCluster of "
                             "2 workers, or the scheduler at ADDRESS; results equal the serial run")
    args = parser.parse_args(argv)
    from rcakit._progress import set_progress
    from rcakit.bench._common import require_datasets
    from rcakit.bench._localize_fusion import fusion_rows
    from rcakit.bench._localize_lodo import lodo_table_rows
    from rcakit.bench._localize_multimodal_sim import multimodal_sim_rows
    from rcakit.bench._localize_nezha import nezha_rows
    from rcakit.bench._localize_storm import sim_set_rows, storm_rows
    from rcakit.scale import TaskRunner

    set_progress(False)
    root = require_datasets()
    methods = [Method(m) for m in args.methods.split(",") if m]
    wanted = set(args.datasets.split(","))
    rows: list[dict[str, Any]] = []
    cfg = AttributionConfig(n_bootstrap=0)
    drafted = not args.no_drafted
    seeds = tuple(int(x) for x in args.fault_seeds.split(",") if x)
    set_seeds = tuple(int(x) for x in args.set_seeds.split(",") if x)
    # Each section is one call: run here one after the other, or side by side on Dask (--dask), where
    # each worker reads its dataset itself; tables print in this order either way.
    sections: list[tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = [
        ("dowhy", dowhy_rows, (root, methods, cfg, drafted), {}),
        ("petshop", petshop_rows, (root, methods, args.plain_issues if args.plain_dowhy else 0), {}),
        ("sim", sim_rows, (methods, cfg), {"drafted": drafted, "fault_seeds": seeds}),
        ("storm", storm_rows, (root, cfg), {"drafted": drafted}),
        ("simset", sim_set_rows, (set_seeds,), {"drafted": drafted}),
        ("simmm", multimodal_sim_rows, (), {"cfg": cfg}),
        ("nezha", nezha_rows, (root, cfg), {}),
        ("fusion", fusion_rows, (root,), {"family_seeds": args.family_seeds}),
        ("lodo", lodo_table_rows, (root,), {"families_seeds": args.family_seeds}),
    ]
    with TaskRunner(args.dask) as runner:
        pending = {name: runner.submit(fn, *a, **kw) for name, fn, a, kw in sections if name in wanted}
        for name, job in pending.items():
            if name not in ("fusion", "lodo"):
                rows = _report(rows, job.result())
        print("\n" + markdown_table(rows, _columns(rows)))
        for name in ("fusion", "lodo"):
            if name in pending:
                print(markdown_table(pending[name].result()), flush=True)
    return 0


def dowhy_rows(root: Path, methods: list[Method], cfg: AttributionConfig, drafted: bool) -> list[dict[str, Any]]:
    """The DoWhy microservice incidents on the true graph (and the drafted one)."""
    got = dowhy_incidents(root)
    if not got:
        return []
    incs, graph = got

    def true_graph(_inc: Any, g: nx.DiGraph = graph) -> nx.DiGraph:
        return g

    graphs: dict[str, Callable[[Any], Any]] = {"true graph": true_graph}
    if drafted:
        graphs["drafted"] = _drafted
    return incident_rows("dowhy microservice", incs, graphs, [*methods, Method.ANOMALY_ATTRIBUTION], cfg)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every column of any row, in first-seen order (datasets add their own columns)."""
    return list(dict.fromkeys(c for r in rows for c in r))


def _report(rows: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add a dataset's rows and print them at once (a long run shows its tables as it goes)."""
    if new:
        print(markdown_table(new, _columns(new)), flush=True)
    return rows + new


def sim_rows(methods: list[Method], cfg: AttributionConfig, drafted: bool,
             fault_seeds: tuple[int, ...] = (10, 11)) -> list[dict[str, Any]]:
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
    accuracy = fault_type_rows(fault_seeds) if fault_seeds else {}
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
        new = incident_rows(f"sim {size}", incs, graphs, methods, cfg)
        for row in new:
            row["fault type acc"] = accuracy.get(size, "")
        rows += new
    return rows


def sim_fault_cases(topology: Any, seed: int) -> list[Any]:
    """One fault of each simulator type on ``topology``, the targets drawn from ``seed`` (GPU, worker, link)."""
    import random

    from rcakit.sim import BatchSizeMisconfig, ErrorBurst, GpuThrottle, NetworkSlowdown, WorkloadSpike

    rng = random.Random(seed)
    gpu, worker = rng.randrange(topology.n_gpus), rng.randrange(topology.workers)
    links = topology.links()
    src, dst = links[rng.randrange(len(links))]
    return [GpuThrottle(f"GPU_{gpu}", duration="10min"), WorkloadSpike(duration="10min"),
            BatchSizeMisconfig(f"Batcher_{worker}", duration="10min"),
            ErrorBurst(f"ModelInference_{gpu}", duration="10min"), NetworkSlowdown(src, dst, duration="10min")]


def fault_type_rows(seeds: tuple[int, ...]) -> dict[str, str]:
    """Accuracy of ``classify_fault`` on the true root-cause entity of simulator incidents, S and M topologies.

    One incident per fault type and seed (held out: the classifier's rules were checked on seeds 0-2
    only). Prints the confusion table (true type x guessed type); returns ``{size: "acc (k/n)"}``.
    """
    from rcakit.attribution.faults import canonical_fault_type, classify_fault
    from rcakit.bench._common import markdown_table
    from rcakit.sim import Topology, make_incident

    confusion: dict[tuple[str, str], int] = {}
    accuracy = {}
    for size, topo in (("S", Topology.small()), ("M", Topology.medium())):
        hits = total = 0
        for seed in seeds:
            for fault in sim_fault_cases(topo, seed):
                inc = make_incident(topo, fault, seed=seed, baseline="30min", logs=False)
                known = _truth(inc)
                guess = classify_fault(inc, known.root_cause_entities[0]).fault_type
                truth = canonical_fault_type(known.fault_type) or "?"
                confusion[(truth, guess)] = confusion.get((truth, guess), 0) + 1
                hits += guess == truth
                total += 1
        accuracy[size] = f"{hits / total:.2f} ({hits}/{total})"
    guesses = sorted({g for _, g in confusion})
    table = [{"true type": t, **{g: confusion.get((t, g), 0) for g in guesses}}
             for t in sorted({t for t, _ in confusion})]
    print(f"\nFault type of the true root cause, simulator S and M, seeds {', '.join(map(str, seeds))} "
          f"(rows: truth, columns: classify_fault):")
    print(markdown_table(table), flush=True)
    return accuracy


def _accepts(cls: type) -> bool:
    return True


def _sim_graph(inc: Any) -> nx.DiGraph:
    g = inc.truth.graph
    observed = [n for n, d in g.nodes(data=True) if d.get("observed", True)]
    from rcakit.attribution.model import drop_unmeasured

    return drop_unmeasured(g, set(observed))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
