"""The PetShop rows of ``python -m rcakit.bench localize``: the generic path (``analyze`` on the dataset adapter's
incidents, then each method on the same drafted graphs), each method through PetShop's own harness interface,
and the same-run comparison with a plain DoWhy call (``--plain-dowhy``)."""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

import networkx as nx
import numpy as np
import pandas as pd

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.bench._localize_common import _row, _truth
from rcakit.telemetry import Incident

if TYPE_CHECKING:
    from rcakit._types import JSONObject
    from rcakit.bench._common import Row

__all__ = ["petshop_rows", "plain_comparison"]

#: One issue as PetShop's harness reads it: its metrics.csv (3-level columns) and its target.json (with "name").
Issue = tuple[pd.DataFrame, "JSONObject"]
#: One line of the same-run comparison table (rank "absent" when the truth is not ranked).
_Comparison = TypedDict("_Comparison", {
    "issue": str, "truth": str, "plain s": float, "plain rank": int | str, "rcakit method": str,
    "rcakit first s": float, "rcakit final s": float, "rcakit rank": int | str,
    "speed ratio (plain / rcakit final)": float})


def petshop_rows(root: Path, methods: list[Method], plain: int = 0) -> list[Row]:
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


def petshop_generic_rows(incidents: list[Incident], methods: list[Method]) -> list[Row]:
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
    rows: list[Row] = []
    for label, by_metric in per.items():
        for metric, (ranks, secs) in by_metric.items():
            extra = {"report lead top1": f"{np.mean(leads[metric]):.2f}"} if label.startswith("analyze") else {}
            rows.append(_row(f"petshop {metric}", "drafted (adapter)", label, ranks, secs, extra))
    return rows


def _petshop_metric(incident: Incident) -> str:
    return str(incident.meta["target"]["target"]["metric"])


def petshop_harness_rows(folder: Path, methods: list[Method], plain: int = 0) -> list[Row]:
    """Each method through PetShop's harness interface (call graph given, the alarm's metric only)."""
    from rcakit.integrations.petshop import make_analyze_root_causes

    graph = nx.from_pandas_adjacency(pd.read_csv(folder / "graph.csv", index_col=0), create_using=nx.DiGraph)
    normal = pd.read_csv(folder / "noissue" / "metrics.csv", header=[0, 1, 2], index_col=0)
    issues: list[Issue] = []
    for split in ("train", "test"):
        for issue in sorted((folder / split).iterdir()):
            if issue.is_dir():
                target: JSONObject = json.loads((issue / "target.json").read_text())
                target["name"] = f"{split}/{issue.name}"
                issues.append((pd.read_csv(issue / "metrics.csv", header=[0, 1, 2], index_col=0), target))
    rows: list[Row] = []
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


def plain_comparison(graph: nx.DiGraph, normal: pd.DataFrame, issues: list[Issue], n_issues: int,
                     ) -> list[Row]:
    """rcakit vs a plain DoWhy attribute_anomalies call on the first ``n_issues`` latency issues, same process.

    Prints one line per issue and method: plain seconds and rank of the truth, rcakit's first-ranking
    seconds (its first partial result, through ``on_progress``), final seconds and rank, and the
    speed ratio plain / rcakit final. DoWhy is imported before any timing, so neither side pays for it.
    """
    import dowhy.gcm  # noqa: F401 - imported before timing: both sides run with DoWhy loaded

    from rcakit.bench._common import markdown_table

    chosen = [x for x in issues if x[1]["target"]["metric"] == "latency"][:n_issues]
    table: list[_Comparison] = []
    rows: list[Row] = []
    for abnormal, target in chosen:
        truth = target["root_cause"]["node"]
        plain, plain_ranks = _plain_petshop(graph, normal, [(abnormal, target)])
        plain_s = cast(float, plain["median s"])  # _row's median seconds
        for method in (Method.STRUCTURAL, Method.ANOMALY_ATTRIBUTION):
            first, final, rank = _rcakit_petshop(graph, normal, abnormal, target, method)
            table.append({"issue": target.get("name", ""), "truth": truth.split("_")[0],
                          "plain s": plain_s,
                          "plain rank": plain_ranks[0] if plain_ranks[0] is not None else "absent",
                          "rcakit method": method.value, "rcakit first s": first, "rcakit final s": final,
                          "rcakit rank": rank if rank is not None else "absent",
                          "speed ratio (plain / rcakit final)": plain_s / final})
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


def _rcakit_petshop(graph: nx.DiGraph, normal: pd.DataFrame, abnormal: pd.DataFrame, target: JSONObject,
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


def _plain_petshop(graph: nx.DiGraph, normal: pd.DataFrame, issues: list[Issue],
                   ) -> tuple[Row, list[int | None]]:
    """A plain DoWhy call as a new user writes it (automatic mechanisms, BETTER quality, ancestor subgraph).

    DoWhy 0.14 ``InvertibleStructuralCausalModel`` on the alarm's ancestor subgraph of the reversed
    call graph, ``assign_causal_mechanisms(quality=BETTER)``, ``fit`` on the noissue data and
    ``attribute_anomalies`` of the first analysed row (row 2); Shapley with ``n_jobs=1`` (DoWhy's
    model selection still uses both cores through joblib).
    """
    from dowhy import gcm
    from dowhy.gcm.shapley import ShapleyConfig

    gcm.config.disable_progress_bars()
    ranks: list[int | None] = []
    secs: list[float] = []
    for abnormal, target in issues:
        t = target["target"]

        def reduce(df: pd.DataFrame, t: JSONObject = t) -> pd.DataFrame:
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
