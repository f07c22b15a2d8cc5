"""``python -m rcakit.bench review``: how fast does a human fix a drafted graph, five edges at a time?

Review efficiency. For MoM, DoWhy microservice, PetShop (latency) and the simulator S/M/L, a
:class:`~rcakit.review.ReviewSession` hands out batches of five suspicious edges
(``rcakit.graph.validate.next_batch`` on the dataset's data) and an oracle that knows the true graph
answers each: accept a true edge, reject a false one, reverse a reversed one, accept (add) a missing
one the batch proposes, skip an edge on an unmeasured metric. F1 (directed, observed graph,
``rcakit.graph.compare_graphs``) is printed after each batch. Two starting drafts:

* ``knowledge``: ``draft_graph(dataset)`` with the offline systems-knowledge suggester (the default
  drafter without an LLM endpoint);
* ``perturbed``: the true graph with a seeded 15 % of edges dropped, 15 % reversed and 15 % false
  edges added (confidences drawn at random), to measure the review loop apart from the drafter.

Validation quality (``--sections validation``): on perturbed drafts (six seeds each) of DoWhy
microservice, PetShop (latency) and the simulator S/M, how many of the first five edges
``next_batch`` hands out are worth the look (precision@5: a drafted edge that is reversed or false,
or a proposed missing edge that the truth has), and the share of the wrong drafted edges (reversed
or false) handed out within the first two batches, the oracle answering between batches. On the
simulator L (``--validation-speed``), the seconds of the first ``next_batch`` call and the median of
the later ones while the oracle answers five batches.

Speed (``--sections speed``): the median decision round trip through the GraphReviewer
(click -> ReviewSession updated and autosaved -> view traitlets rebuilt) on a 200-edge draft, beside
the bare ``CausalDraft.set_status`` and a session without a view in the same process; the
Python-side serialization of the 200-edge view; with ``--browser`` the time Debian's chromium takes
to draw the 200-edge standalone HTML export.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import networkx as nx

from rcakit.bench._common import graph_case, markdown_table, median_time, peak_rss_mb

__all__ = ["main", "oracle_review", "perturbed_draft"]

DATASETS = ("mom", "dowhy", "petshop-latency", "sim-S", "sim-M", "sim-L")
DRAFTS = ("knowledge", "perturbed")
SECTIONS = ("efficiency", "validation", "speed")
VALIDATION_DATASETS = ("dowhy", "petshop-latency", "sim-S", "sim-M")


def perturbed_draft(truth: nx.DiGraph, *, seed: int, drop: float = 0.15, reverse: float = 0.15,
                    add: float = 0.15, alarm: str | None = None) -> Any:
    """The true graph with a seeded share of edges dropped, reversed and false ones added (all proposed)."""
    from rcakit.graph import CausalDraft, EdgeStatus

    rng = random.Random(seed)
    edges = sorted(truth.edges)
    rng.shuffle(edges)
    n = len(edges)
    n_drop, n_rev = round(drop * n), round(reverse * n)
    draft = CausalDraft(alarm=None, meta={"name": "perturbed"})
    for node in sorted(truth.nodes):
        draft.add_node(node)
    for i, (u, v) in enumerate(edges):
        if i < n_drop:
            continue
        src, dst = (v, u) if i < n_drop + n_rev else (u, v)
        draft.add_edge(src, dst, status=EdgeStatus.PROPOSED, provenance="llm", confidence=round(rng.uniform(0.3, 1), 2))
    nodes = sorted(truth.nodes)
    added, tries = 0, 0
    while added < round(add * n) and tries < 100 * n + 100:
        tries += 1
        u, v = rng.sample(nodes, 2)
        if truth.has_edge(u, v) or truth.has_edge(v, u) or draft.has_edge(u, v) or draft.has_edge(v, u):
            continue
        draft.add_edge(u, v, status=EdgeStatus.PROPOSED, provenance="llm", confidence=round(rng.uniform(0.3, 1), 2))
        added += 1
    draft.alarm = alarm if alarm in truth else None
    return draft


def _f1(session: Any, truth: nx.DiGraph) -> float:
    from rcakit.graph import compare_graphs

    return float(compare_graphs(session.to_networkx(), truth, nodes=truth.nodes).f1)


def oracle_review(session: Any, truth: nx.DiGraph, *, batches: int, k: int = 5) -> list[tuple[int, float]]:
    """Answer ``batches`` batches as a reviewer who knows ``truth``; (answers so far, F1) after each batch."""
    true_edges = set(truth.edges)
    curve = [(0, _f1(session, truth))]
    answers = 0
    for _ in range(batches):
        batch = session.next_batch(k)
        if not batch:
            break
        for item in batch:
            u, v = item.edge
            answers += 1
            if u not in truth or v not in truth:
                session.skip(u, v, reason="oracle: an unmeasured metric")
            elif (u, v) in true_edges:
                session.accept(u, v, reason="oracle")
            elif (v, u) in true_edges:
                session.reverse(u, v, reason="oracle")
            else:
                session.reject(u, v, reason="oracle")
        curve.append((answers, _f1(session, truth)))
    return curve


def _answers_to(curve: list[tuple[int, float]], goal: float) -> str:
    for answers, f1 in curve:
        if f1 >= goal:
            return str(answers)
    return f"> {curve[-1][0]}"


def run_efficiency(datasets: list[str], drafts: list[str], *, seed: int, batches: int, sim_baseline: str,
                   folder: Path) -> list[dict[str, Any]]:
    from rcakit.graph import KnowledgeSuggester, draft_graph
    from rcakit.review import ReviewSession
    from rcakit.review._ranking import ranking_source

    rows = []
    for name in datasets:
        source, truth, data = graph_case(name, seed, sim_baseline)
        alarm = getattr(source, "alarm", None)
        for kind in drafts:
            if kind == "knowledge":
                draft = draft_graph(source, suggesters=[KnowledgeSuggester()])
            else:
                draft = perturbed_draft(truth, seed=seed, alarm=alarm)
            draft.meta["name"] = f"bench-{name}-{kind}"
            session = ReviewSession(draft, path=folder / f"{name}-{kind}.json", data=data)
            t0 = time.perf_counter()
            curve = oracle_review(session, truth, batches=batches)
            seconds = time.perf_counter() - t0
            row: dict[str, Any] = {"dataset": name, "draft": kind, "true edges": truth.number_of_edges(),
                                   "draft edges": len(draft.edges)}
            for i in range(batches + 1):
                row[f"F1@{5 * i}"] = curve[i][1] if i < len(curve) else curve[-1][1]
            row["answers to F1>=0.9"] = _answers_to(curve, 0.9)
            row["goal (<=10)"] = "yes" if any(a <= 10 and f >= 0.9 for a, f in curve) else "no"
            row["review s"] = seconds
            rows.append(row)
            print(f"  {name:16s} {kind:10s} " + " ".join(f"{f:.2f}@{a}" for a, f in curve)
                  + f"  ({ranking_source()} ranking, {seconds:.1f} s)", flush=True)
    return rows


def _answer(draft: Any, item: Any, truth: nx.DiGraph) -> None:
    """The oracle's decision on one suspect, applied to the draft directly (no session)."""
    from rcakit.graph import EdgeStatus, Provenance

    u, v = item.edge
    if u not in truth or v not in truth:
        return
    if item.kind == "missing":
        if truth.has_edge(u, v) or truth.has_edge(v, u):
            src, dst = (u, v) if truth.has_edge(u, v) else (v, u)
            if draft.has_edge(dst, src):
                draft.remove_edge(dst, src)
            draft.add_edge(src, dst, status=EdgeStatus.ACCEPTED, provenance=Provenance.HUMAN, confidence=1.0)
        return
    if not draft.has_edge(u, v):
        return
    if truth.has_edge(u, v):
        draft.set_status(u, v, EdgeStatus.ACCEPTED)
    elif truth.has_edge(v, u):
        draft.reverse_edge(u, v)
        draft.set_status(v, u, EdgeStatus.ACCEPTED)
    else:
        draft.set_status(u, v, EdgeStatus.REJECTED)


def _validation_run(draft: Any, data: Any, truth: nx.DiGraph, *, batches: int,
                    k: int = 5) -> tuple[list[list[Any]], list[float]]:
    """Batches handed out by ``next_batch`` (oracle answering in between) and the seconds of each call."""
    from rcakit.graph import next_batch

    decided: set[tuple[str, str]] = set()
    handed: list[list[Any]] = []
    seconds: list[float] = []
    for _ in range(batches):
        t0 = time.perf_counter()
        batch = next_batch(draft, data, k=k, exclude=decided)
        seconds.append(time.perf_counter() - t0)
        if not batch:
            break
        handed.append(batch)
        for item in batch:
            u, v = item.edge
            decided |= {(u, v), (v, u)}
            _answer(draft, item, truth)
    return handed, seconds


def run_validation(datasets: list[str], *, seed: int, seeds: int, sim_baseline: str) -> list[dict[str, Any]]:
    """Precision@5 of the suspicion ranking and wrong edges found within two batches, on perturbed drafts."""
    rows = []
    for name in datasets:
        source, truth, data = graph_case(name, seed, sim_baseline)
        alarm = getattr(source, "alarm", None)
        useful5 = first5 = wrong_total = wrong_found = dropped_total = dropped_found = 0
        seconds: list[float] = []
        for s in range(seed, seed + seeds):
            draft = perturbed_draft(truth, seed=s, alarm=alarm)
            wrong = {e for e in draft.edges if not truth.has_edge(*e)}
            dropped = {frozenset(e) for e in truth.edges
                       if not draft.has_edge(*e) and not draft.has_edge(e[1], e[0])}
            handed, secs = _validation_run(draft, data, truth, batches=2)
            seconds += secs
            for i, batch in enumerate(handed):
                for item in batch:
                    edge = tuple(item.edge)
                    if item.kind == "missing":
                        hit = frozenset(edge) in dropped
                        dropped_found += hit
                    else:
                        hit = edge in wrong
                        wrong_found += hit
                    if i == 0:
                        useful5 += hit
                        first5 += 1
            wrong_total += len(wrong)
            dropped_total += len(dropped)
        row = {"dataset": name, "drafts": seeds, "true edges": truth.number_of_edges(),
               "wrong per draft": wrong_total / seeds,
               "precision@5": useful5 / max(first5, 1),
               "wrong found in 2 batches": f"{wrong_found}/{wrong_total} ({wrong_found / max(wrong_total, 1):.0%})",
               "dropped found": f"{dropped_found}/{dropped_total}",
               "s per batch": statistics.median(seconds) if seconds else float("nan")}
        rows.append(row)
        print(f"  {name:16s} precision@5 {row['precision@5']:.2f}  wrong found {row['wrong found in 2 batches']}"
              f"  dropped found {row['dropped found']}  {row['s per batch']:.2f} s/batch", flush=True)
    return rows


def run_validation_speed(name: str, *, seed: int, sim_baseline: str, batches: int = 5) -> dict[str, Any]:
    """Seconds per ``next_batch`` call on a perturbed draft of a large system, oracle answering in between."""
    source, truth, data = graph_case(name, seed, sim_baseline)
    draft = perturbed_draft(truth, seed=seed, alarm=getattr(source, "alarm", None))
    _, seconds = _validation_run(draft, data, truth, batches=batches)
    return {"dataset": name, "draft edges": len(draft.edges), "batches": len(seconds),
            "first batch s": seconds[0], "later batches, median s": statistics.median(seconds[1:]) if
            len(seconds) > 1 else float("nan")}


def _big_draft(n_edges: int = 200, seed: int = 0) -> Any:
    from rcakit.graph import CausalDraft

    rng = random.Random(seed)
    names = [f"svc{i}:m{j}" for i in range(40) for j in range(3)]
    draft = CausalDraft(alarm=names[-1], meta={"name": "big"})
    while len(draft.edges) < n_edges:
        a, b = sorted(rng.sample(range(len(names)), 2))
        draft.add_edge(names[a], names[b], provenance=rng.choice(["llm", "knowledge", "data"]),
                       confidence=round(rng.random(), 3), rationale="synthetic")
    return draft


def run_speed(folder: Path, *, decisions: int = 40, browser: bool = False) -> list[dict[str, Any]]:
    from rcakit.review import ReviewSession
    from rcakit.review._vis import layout_positions, vis_elements
    from rcakit.ui import GraphReviewer

    rows = []
    draft = _big_draft()
    keys = list(draft.edges)[:decisions]
    # baseline: the bare data-model call, no session, no file, no view
    bare = draft.copy()
    times = []
    for i, key in enumerate(keys):
        t0 = time.perf_counter()
        bare.set_status(*key, "accepted" if i % 2 else "rejected")
        times.append(time.perf_counter() - t0)
    rows.append({"measure": "CausalDraft.set_status (baseline)", "edges": 200, "median ms": 1000 * statistics.median(times),
                 "target": ""})
    session = ReviewSession(draft.copy(), path=folder / "speed-session.json")
    times = []
    for i, key in enumerate(keys):
        t0 = time.perf_counter()
        (session.accept if i % 2 else session.reject)(*key)
        times.append(time.perf_counter() - t0)
    rows.append({"measure": "ReviewSession decision + atomic autosave", "edges": 200,
                 "median ms": 1000 * statistics.median(times), "target": ""})
    reviewer = GraphReviewer(draft.copy(), path=folder / "speed-widget.json")
    times = []
    for i, key in enumerate(keys):
        t0 = time.perf_counter()
        reviewer.select_edge(*key)  # the click
        (reviewer.accept if i % 2 else reviewer.reject)()  # the button; returns once the view state is rebuilt
        times.append(time.perf_counter() - t0)
    rows.append({"measure": "GraphReviewer round trip (click, decide, autosave, view updated)", "edges": 200,
                 "median ms": 1000 * statistics.median(times), "target": "<= 50"})
    seconds, positions = median_time(lambda: layout_positions(reviewer.session.draft), repeat=3)
    rows.append({"measure": "200-edge layout (Python side, once per widget)", "edges": 200,
                 "median ms": 1000 * seconds, "target": ""})
    seconds, _ = median_time(lambda: json.dumps({"graph": vis_elements(reviewer.session.draft, positions=positions),
                                                  "queue": reviewer.queue, "details": reviewer.details}), repeat=9)
    rows.append({"measure": "200-edge view serialization (Python side)", "edges": 200, "median ms": 1000 * seconds,
                 "target": "<= 1000 (with render)"})
    if browser:
        rows.append(_browser_render(reviewer.session, folder))
    reviewer.close()
    return rows


def _browser_render(session: Any, folder: Path) -> dict[str, Any]:
    """Time from navigation to the first drawing of the 200-edge standalone page in Debian's chromium."""
    from playwright.sync_api import sync_playwright

    page_path = session.export(folder / "big.html")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
        try:
            for _ in range(3):
                # bypass_csp: the page forbids eval, which Playwright's wait_for_function needs
                context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
                page = context.new_page()
                page.goto(page_path.as_uri())
                page.wait_for_function("window.rcakitFirstDrawMs !== undefined", timeout=60_000)
                times.append(float(page.evaluate("window.rcakitFirstDrawMs")))
                context.close()
        finally:
            browser.close()
    return {"measure": "200-edge page load to first drawing in chromium (standalone HTML export)", "edges": 200,
            "median ms": statistics.median(times), "target": "<= 1000"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcakit.bench review", description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated: " + ", ".join(DATASETS))
    parser.add_argument("--drafts", default=",".join(DRAFTS), help="comma-separated: " + ", ".join(DRAFTS))
    parser.add_argument("--batches", type=int, default=6, help="batches of five answered by the oracle")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sim-baseline", default="1h", help="normal operation simulated before the fault")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--validation-datasets", default=",".join(VALIDATION_DATASETS),
                        help="datasets of the validation-quality section")
    parser.add_argument("--validation-seeds", type=int, default=6, help="perturbed drafts per dataset")
    parser.add_argument("--validation-speed", default="sim-L",
                        help="dataset timed for seconds per next_batch ('' to skip)")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed measurements")
    parser.add_argument("--browser", action="store_true", help="also time the 200-edge drawing in chromium")
    args = parser.parse_args(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    drafts = [d for d in args.drafts.split(",") if d]
    sections = [s for s in args.sections.split(",") if s]
    vdatasets = [d for d in args.validation_datasets.split(",") if d]
    unknown = (sorted(set(datasets) - set(DATASETS)) + sorted(set(drafts) - set(DRAFTS))
               + sorted(set(sections) - set(SECTIONS)) + sorted(set(vdatasets) - set(DATASETS)))
    if unknown:
        print(f"unknown dataset, draft or section {unknown}; datasets: {', '.join(DATASETS)}; "
              f"drafts: {', '.join(DRAFTS)}; sections: {', '.join(SECTIONS)}")
        return 2
    from rcakit._progress import set_progress
    from rcakit.review._ranking import ranking_source

    set_progress(False)
    with tempfile.TemporaryDirectory(prefix="rcakit-bench-review-") as tmp:
        folder = Path(tmp)
        if "efficiency" in sections:
            print(f"## Review efficiency (oracle answers batches of 5; ranking: {ranking_source()})\n", flush=True)
            rows = run_efficiency(datasets, drafts, seed=args.seed, batches=args.batches,
                                  sim_baseline=args.sim_baseline, folder=folder)
            print()
            print(markdown_table(rows))
        if "validation" in sections:
            print("\n## Validation quality (perturbed drafts: 15 % dropped, 15 % reversed, 15 % false edges)\n",
                  flush=True)
            rows = run_validation(vdatasets, seed=args.seed, seeds=args.validation_seeds,
                                  sim_baseline=args.sim_baseline)
            print()
            print(markdown_table(rows))
            if args.validation_speed:
                print(f"\n## Seconds per next_batch ({args.validation_speed}, perturbed draft, oracle answering)\n",
                      flush=True)
                print(markdown_table([run_validation_speed(args.validation_speed, seed=args.seed,
                                                           sim_baseline=args.sim_baseline)]))
        if "speed" in sections and not args.no_speed:
            print("\n## Review speed (200-edge draft, medians)\n", flush=True)
            print(markdown_table(run_speed(folder, browser=args.browser)))
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")
    return 0
