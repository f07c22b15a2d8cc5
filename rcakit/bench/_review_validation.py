"""Validation quality: how many of the first questions are worth the look, and seconds per batch on a large draft."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

import networkx as nx

from rcakit.bench._common import Row, graph_case
from rcakit.bench._review_drafts import perturbed_draft

if TYPE_CHECKING:
    from rcakit.graph import CausalDraft, SuspectEdge
    from rcakit.graph.data import WideData

__all__ = ["run_validation", "run_validation_speed"]


def _answer(draft: CausalDraft, item: SuspectEdge, truth: nx.DiGraph) -> None:
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


def _validation_run(draft: CausalDraft, data: WideData, truth: nx.DiGraph, *, batches: int,
                    k: int = 5) -> tuple[list[list[SuspectEdge]], list[float]]:
    """Batches handed out by ``next_batch`` (oracle answering in between) and the seconds of each call."""
    from rcakit.graph import next_batch

    decided: set[tuple[str, str]] = set()
    handed: list[list[SuspectEdge]] = []
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


def run_validation(datasets: list[str], *, seed: int, seeds: int, sim_baseline: str) -> list[Row]:
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


def run_validation_speed(name: str, *, seed: int, sim_baseline: str, batches: int = 5) -> Row:
    """Seconds per ``next_batch`` call on a perturbed draft of a large system, oracle answering in between."""
    source, truth, data = graph_case(name, seed, sim_baseline)
    draft = perturbed_draft(truth, seed=seed, alarm=getattr(source, "alarm", None))
    _, seconds = _validation_run(draft, data, truth, batches=batches)
    return {"dataset": name, "draft edges": len(draft.edges), "batches": len(seconds),
            "first batch s": seconds[0], "later batches, median s": statistics.median(seconds[1:]) if
            len(seconds) > 1 else float("nan")}
