"""Review efficiency: an oracle that knows the true graph answers batches of questions; F1 after each batch.

What is counted: one *answer* per question the oracle answers (one click). A question may carry a
propagated suggestion ("the same for the N similar pairs", listed in full before it is applied,
:func:`rcakit.graph.validate.similar_changes`); the oracle confirms it only when every listed change
is right in the true graph, and the click still counts as one answer. Each curve point also records
the *edges decided*: the asked edge plus every edge a confirmed suggestion changed, so a reader can
count per edge instead.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

import networkx as nx

from rcakit.bench._common import Row, graph_case, wide_metrics
from rcakit.bench._review_drafts import data_draft, knowledge_perturbed_draft, perturbed_draft

if TYPE_CHECKING:
    import polars as pl

    from rcakit.graph import CausalDraft
    from rcakit.graph.data import WideData
    from rcakit.review import ReviewSession
    from rcakit.telemetry import Incident
    from rcakit.telemetry.datasets import GraphDataset

__all__ = ["CHECKPOINTS", "GOAL_ANSWERS", "GOAL_F1", "SEEDED_DRAFTS", "Point", "ReviewRun", "answers_to", "best_possible_f1",
           "edges_at", "f1_at", "load_case", "oracle_answer", "oracle_review", "reached", "review_run", "run_efficiency"]

#: Drafts with a seeded perturbation, run once per ``--seeds`` entry; the goal is stated for these.
SEEDED_DRAFTS = ("knowledge-perturbed", "perturbed")
#: Answer counts at which F1 is printed, and the goal: F1 >= GOAL_F1 within GOAL_ANSWERS answers.
CHECKPOINTS = (0, 5, 10, 20, 30)
GOAL_F1, GOAL_ANSWERS = 0.9, 10
#: (answers so far, F1, edges decided so far) after a batch.
Point = tuple[int, float, int]


class ReviewRun(TypedDict):
    """One oracle review (:func:`review_run`): the F1 curve, the hindsight bound at the goal, the seconds."""

    curve: list[Point]
    bound: float
    seconds: float


def best_possible_f1(session: ReviewSession, truth: nx.DiGraph, answers: int) -> float:
    """F1 after ``answers`` perfect answers chosen with hindsight (each fixes one wrong edge, best first).

    An upper bound for any question order that fixes one edge per answer: a reversal fixed gains one
    true positive, a missing edge added one true positive and one prediction, a false edge rejected
    one prediction less. Confirmed propagations fix several edges with one answer and can beat it.
    """
    predicted = session.to_networkx()
    pred = {e for e in predicted.edges if e[0] in truth and e[1] in truth}
    tp: int = sum(truth.has_edge(*e) for e in pred)
    reversed_ = sum(1 for u, v in pred if not truth.has_edge(u, v) and truth.has_edge(v, u))
    false = len(pred) - tp - reversed_
    missing = sum(1 for u, v in truth.edges if (u, v) not in pred and (v, u) not in pred)
    p, t = len(pred), int(truth.number_of_edges())
    for _ in range(answers):
        options = []
        if reversed_:
            options.append((2 * (tp + 1) / max(p + t, 1), "r"))
        if missing:
            options.append((2 * (tp + 1) / max(p + 1 + t, 1), "m"))
        if false:
            options.append((2 * tp / max(p - 1 + t, 1), "f"))
        if not options:
            break
        _, kind = max(options)
        if kind == "r":
            tp, reversed_ = tp + 1, reversed_ - 1
        elif kind == "m":
            tp, p, missing = tp + 1, p + 1, missing - 1
        else:
            p, false = p - 1, false - 1
    return 2 * tp / max(p + t, 1)


def _f1(session: ReviewSession, truth: nx.DiGraph) -> float:
    from rcakit.graph import compare_graphs

    return float(compare_graphs(session.to_networkx(), truth, nodes=truth.nodes).f1)


def oracle_answer(edge: tuple[str, str], truth: nx.DiGraph) -> str:
    """What a reviewer who knows ``truth`` answers about ``edge``: accept, reverse, reject, or skip (unmeasured)."""
    u, v = edge
    if u not in truth or v not in truth:
        return "skip"
    if truth.has_edge(u, v):
        return "accept"
    return "reverse" if truth.has_edge(v, u) else "reject"


def _right(change: tuple[str, str, str], truth: nx.DiGraph) -> bool:
    """Is one listed change of a propagated suggestion right in the true graph?"""
    a, b, action = change
    right: bool
    if action == "reverse":
        right = truth.has_edge(b, a)
    elif action == "reject":
        right = a in truth and b in truth and not truth.has_edge(a, b) and not truth.has_edge(b, a)
    else:
        right = truth.has_edge(a, b)  # accept, add
    return right


def _answer_item(session: ReviewSession, edge: tuple[str, str], truth: nx.DiGraph, propagate: bool) -> int:
    """Answer one question; returns the edges it decided (the asked one plus a confirmed propagation's).

    The reviewer is shown the suggestion of each scope (replicas; same metrics on components related
    the same way) for the answer given, and confirms the broadest one whose every change is right.
    """
    from rcakit.graph.validate import SCOPES, similar_changes

    u, v = edge
    answer = oracle_answer(edge, truth)
    if answer == "skip":
        session.skip(u, v, reason="oracle: an unmeasured metric")
        return 1
    if propagate:
        right = [p for p in (similar_changes(session.draft, edge, answer, forbidden=session.forbidden, scope=scope)
                             for scope in SCOPES)
                 if p.offered and all(_right(c, truth) for c in p.changes)]
        if right:
            best = max(right, key=lambda p: len(p.changes))
            session.decide_similar(u, v, answer, best.changes, reason=f"oracle ({best.scope})")
            return 1 + len(best.changes)
    getattr(session, answer)(u, v, reason="oracle")
    return 1


def oracle_review(session: ReviewSession, truth: nx.DiGraph, *, batches: int, k: int = 5, propagate: bool = True) -> list[Point]:
    """Answer up to ``batches * k`` questions as a reviewer who knows ``truth``, ``k`` at a time.

    Returns (answers, F1, edges decided) after every answer: the reviewer clicks one answer at a
    time, so F1 "after 10 answers" is read after the tenth click even when it falls inside a batch.
    A question a confirmed propagation already decided is not asked, so a batch may hold fewer
    answers than ``k``; batches are asked until ``batches * k`` answers are given or none is left.
    """
    curve: list[Point] = [(0, _f1(session, truth), 0)]
    answers = decided = 0
    while answers < batches * k:
        batch = session.next_batch(min(k, batches * k - answers))
        if not batch:
            break
        for item in batch:
            if item.done is not None:  # decided by a propagation confirmed earlier in this batch
                continue
            answers += 1
            decided += _answer_item(session, (item.edge[0], item.edge[1]), truth, propagate)
            curve.append((answers, _f1(session, truth), decided))
    return curve


def answers_to(curve: list[Point], goal: float) -> str:
    """Answers until F1 first reached ``goal`` (``> n`` when it never did within the curve)."""
    for answers, f1, _ in curve:
        if f1 >= goal:
            return str(answers)
    return f"> {curve[-1][0]}"


def f1_at(curve: list[Point], answers: int) -> float:
    """F1 once ``answers`` decisions were taken (the last batch that ended at or before that count)."""
    return [f for a, f, _ in curve if a <= answers][-1]


def edges_at(curve: list[Point], answers: int) -> int:
    """Edges decided by the answers of :func:`f1_at`'s point."""
    return [e for a, _, e in curve if a <= answers][-1]


def reached(curve: list[Point], goal: float = GOAL_F1, answers: int = GOAL_ANSWERS) -> bool:
    return any(a <= answers and f >= goal for a, f, _ in curve)


def review_run(draft: CausalDraft, truth: nx.DiGraph, data: WideData | None, *, batches: int, folder: Path,
               order: str = "expected_gain", propagate: bool = True) -> ReviewRun:
    """One oracle review of ``draft``: the F1 curve, the hindsight bound at the goal, the seconds."""
    from rcakit.review import ReviewSession

    session = ReviewSession(draft, path=folder / f"{draft.meta.get('name', 'draft')}.json", data=data,
                            question_order=order)
    bound = best_possible_f1(session, truth, GOAL_ANSWERS)
    t0 = time.perf_counter()
    curve = oracle_review(session, truth, batches=batches, propagate=propagate)
    return {"curve": curve, "bound": bound, "seconds": time.perf_counter() - t0}


def load_case(name: str, seed: int, sim_baseline: str, *, family_seed: int | None = None
              ) -> tuple[Incident | GraphDataset, nx.DiGraph, pl.DataFrame]:
    """:func:`~rcakit.bench._common.graph_case`, or a simulator family (``fam-<family>``) simulated with
    ``family_seed`` itself (a tuning seed of :mod:`rcakit.sim.families`) when given."""
    if family_seed is None or not name.startswith("fam-"):
        return graph_case(name, seed, sim_baseline)
    from rcakit.sim import families

    incident = families.family_incident(name[4:], "cpu", seed=family_seed)
    truth = incident.truth.graph if incident.truth is not None else None
    observed = set(incident.telemetry.nodes())
    graph = truth.subgraph([n for n in truth.nodes if n in observed]).copy() if truth is not None else None
    return incident, graph, wide_metrics(incident.telemetry)


def _draft_for(kind: str, source: Incident | GraphDataset, truth: nx.DiGraph, data: pl.DataFrame,
               knowledge: CausalDraft | None, s: int, seed: int, data_seconds: float) -> CausalDraft:
    if kind == "knowledge":
        return cast("CausalDraft", knowledge).copy()  # drafted when a knowledge kind is asked for
    if kind == "knowledge-perturbed":
        return knowledge_perturbed_draft(cast("CausalDraft", knowledge), seed=s)
    if kind == "data":
        return data_draft(source, data, seed=seed, max_seconds=data_seconds)
    return perturbed_draft(truth, seed=s, alarm=getattr(source, "alarm", None))


def _row(name: str, kind: str, truth: nx.DiGraph, runs: list[ReviewRun]) -> Row:
    row: Row = {"dataset": name, "draft": kind, "drafts": len(runs), "true edges": truth.number_of_edges()}
    for c in CHECKPOINTS:
        row[f"F1@{c}"] = statistics.mean(f1_at(r["curve"], c) for r in runs)
    row[f"edges decided @{GOAL_ANSWERS}"] = statistics.mean(edges_at(r["curve"], GOAL_ANSWERS) for r in runs)
    row[f"best possible @{GOAL_ANSWERS} (one edge per answer)"] = statistics.mean(r["bound"] for r in runs)
    row["answers to F1>=0.9"] = ", ".join(answers_to(r["curve"], GOAL_F1) for r in runs)
    row[f"goal (<= {GOAL_ANSWERS})"] = f"{sum(reached(r['curve']) for r in runs)}/{len(runs)}"
    row["review s"] = statistics.mean(r["seconds"] for r in runs)
    return row


def run_efficiency(datasets: list[str], drafts: list[str], *, seed: int, seeds: list[int], batches: int,
                   sim_baseline: str, folder: Path, data_seconds: float = 60.0, order: str = "expected_gain",
                   propagate: bool = True, family_seed: int | None = None) -> list[Row]:
    """One row per dataset and kind of draft: mean F1 at the checkpoints over the seeded drafts, the goal.

    ``family_seed``: simulate the ``fam-*`` datasets with this family seed (see :func:`load_case`).
    """
    from rcakit.graph import KnowledgeSuggester, draft_graph

    rows: list[Row] = []
    for name in datasets:
        source, truth, data = load_case(name, seed, sim_baseline, family_seed=family_seed)
        knowledge = draft_graph(source, suggesters=[KnowledgeSuggester()]) if (
            "knowledge" in drafts or "knowledge-perturbed" in drafts) else None
        for kind in drafts:
            runs = []
            for s in (seeds if kind in SEEDED_DRAFTS else [seed]):
                draft = _draft_for(kind, source, truth, data, knowledge, s, seed, data_seconds)
                draft.meta["name"] = f"bench-{name}-{kind}-{s}"
                run = review_run(draft, truth, data, batches=batches, folder=folder, order=order, propagate=propagate)
                runs.append(run)
                label = f"{kind} seed {s}" if kind in SEEDED_DRAFTS else kind
                print(f"  {name:16s} {label:26s} " + " ".join(f"{f1_at(run['curve'], a):.2f}@{a}" for a in CHECKPOINTS)
                      + f"  (edges decided @{GOAL_ANSWERS}: {edges_at(run['curve'], GOAL_ANSWERS)}; best possible "
                        f"@{GOAL_ANSWERS}, one edge per answer: {run['bound']:.2f}; validate ranking, "
                        f"{run['seconds']:.1f} s)", flush=True)
            row = _row(name, kind, truth, runs)
            rows.append(row)
            done = row[f"goal (<= {GOAL_ANSWERS})"]
            print(f"  {name:16s} {kind:26s} F1 >= {GOAL_F1} within {GOAL_ANSWERS} answers: {done} drafts", flush=True)
    return rows
