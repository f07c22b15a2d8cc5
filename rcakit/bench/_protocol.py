"""The out-of-sample protocol of ``python -m rcakit.bench localize``: tuning sets, scoring sets, leave-one-out.

A default is only as good as the systems it was not chosen on. This module holds

* the **roles** of every dataset the bench reports (:data:`ROLES`): which were used to choose defaults
  (tuning sets) and which are only scored, printed beside every table;
* the **candidate defaults** of the generic path (:data:`GRID`: the anomaly threshold, whether the
  alarm's time splits the incident rows into pre-fault reference and explained rows, and whether the
  alarm's direction counts for nodes of its kind), with the shipped one first (:data:`SHIPPED`);
* **leave-one-dataset-out** (:func:`lodo_rows`): for each dataset, the candidate that scores best on
  every *other* set (the simulator sets on their tuning seeds, the other real datasets on all their
  incidents) is chosen, and the held-out dataset is scored with it (the simulator sets on their
  scoring seeds, disjoint from the tuning seeds). A tie keeps the shipped default.

The generic path is what ``rcakit analyze`` ranks with: the offline drafted graph and the structural
method. Each case is drafted once; every candidate reuses the draft.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.attribution.config import Direction

if TYPE_CHECKING:
    import networkx as nx

    from rcakit.bench._common import Row
    from rcakit.graph import CausalDraft
    from rcakit.telemetry import Incident

__all__ = ["GRID", "ROLES", "SHIPPED", "Candidate", "Case", "CaseGraph", "CaseSet", "lodo_rows", "role_of", "with_alarm_lead"]

#: What each dataset of the bench is used for. "tuning" sets choose defaults; "scored" sets never do
#: (except inside leave-one-out, where every other set tunes). Caveats say what was seen before.
ROLES: dict[str, str] = {
    "dowhy microservice": "scored; the knowledge rules were written with it in view (drafted rows in-sample)",
    "petshop latency": "scored; leave-one-out row below; knowledge rules written with it in view",
    "petshop availability": "scored; leave-one-out row below; knowledge rules written with it in view",
    "nezha": "in-sample: MULTIMODAL's weights were chosen on this one day (no second day here)",
    "storm": "in-sample: one incident, the set rule was chosen with it in view",
    "sim S": "tuning (model-serving simulator, seeds 0-4)",
    "sim M": "tuning (model-serving simulator, seeds 0-4)",
    "sim L": "tuning (model-serving simulator, seeds 0-4)",
    "sim S set": "scored: held-out seeds (set rules chosen on seeds 0-4)",
    "sim M set": "scored: held-out seeds (set rules chosen on seeds 0-4)",
    "simmm": "scored: held-out seeds 3000-3005 (placement rule chosen on 1000-1002)",
    "simfam": "scored: simulator families, scoring seeds (tuning seeds disjoint, printed)",
}


def role_of(dataset: str) -> str:
    """The role of a bench dataset name (``"sim S set"``, ``"petshop latency"``, ...)."""
    if dataset in ROLES:
        return ROLES[dataset]
    for key in sorted(ROLES, key=len, reverse=True):
        if dataset.startswith(key):
            return ROLES[key]
    return "scored"


@dataclass(frozen=True)
class Candidate:
    """One choice of the generic path's defaults."""

    threshold: float = 3.0
    use_alarm_time: bool = True
    direction: Direction = Direction.AUTO

    @property
    def label(self) -> str:
        return (f"threshold {self.threshold:g}, alarm time {'on' if self.use_alarm_time else 'off'}, "
                f"direction {self.direction.value}")

    def config(self) -> AttributionConfig:
        return AttributionConfig(threshold=self.threshold, use_alarm_time=self.use_alarm_time,
                                 direction=self.direction, n_bootstrap=0, fault_type=False)


SHIPPED = Candidate()
#: The shipped default first: a tie keeps it.
GRID: tuple[Candidate, ...] = (SHIPPED, *[
    Candidate(t, a, d) for t in (3.0, 2.5, 4.0) for a in (True, False) for d in (Direction.AUTO, Direction.BOTH)
    if Candidate(t, a, d) != SHIPPED])

#: The graph a case is ranked on: a draft, a networkx graph, or None when drafting failed (a miss).
CaseGraph: TypeAlias = "CausalDraft | nx.DiGraph | None"
#: (incident, drafted graph)
Case: TypeAlias = "tuple[Incident, CaseGraph]"


@dataclass
class CaseSet:
    """A dataset's cases: ``tune`` chooses defaults, ``score`` is reported (the same list for a real set)."""

    name: str
    tune: list[Case]
    score: list[Case]
    real: bool
    seeds: str = ""
    group: Callable[[Incident], str] | None = None  # held-out top-1 is also printed per group (PetShop's alarm metric)
    _hits: dict[tuple[str, Candidate], list[bool]] = field(default_factory=dict, repr=False)

    def hits(self, split: str, candidate: Candidate) -> list[bool]:
        """Top-1 hit per case (the true root-cause entity first), cached per split and candidate."""
        key = (split, candidate)
        if key not in self._hits:
            cases = self.tune if split == "tune" else self.score
            self._hits[key] = [_top1(inc, graph, candidate) for inc, graph in cases]
        return self._hits[key]


def _top1(incident: Incident, graph: CaseGraph, candidate: Candidate) -> bool:
    if incident.truth is None:
        raise ValueError(f"incident {incident.name!r} has no ground truth to score against")
    truth = incident.truth.root_cause_entities
    try:
        result = attribute(graph, incident, method=Method.STRUCTURAL, config=candidate.config())
    except Exception as exc:  # a failing case is a miss, and says why
        print(f"  {incident.name}: {exc}")
        return False
    return bool(result.causes) and result.causes[0].entity in truth


def _choose(sets: Sequence[CaseSet], held_out: str | None) -> tuple[Candidate, float]:
    """The candidate with the best mean top-1 over the tuning splits of every set but ``held_out``."""
    best, best_score = SHIPPED, -1.0
    for candidate in GRID:
        means = [float(np.mean(s.hits("tune", candidate))) for s in sets if s.name != held_out and s.tune]
        score = float(np.mean(means)) if means else 0.0
        if score > best_score + 1e-12:
            best, best_score = candidate, score
    return best, best_score


def lodo_rows(sets: Sequence[CaseSet]) -> list[Row]:
    """One row per set: the defaults chosen without it, its top-1 with them and with the shipped default."""
    t0 = time.perf_counter()
    chosen_all, tuned_all = _choose(sets, None)
    rows: list[Row] = []
    for s in sets:
        chosen, tuned = _choose(sets, s.name)
        held = s.hits("score", chosen)
        shipped = s.hits("score", SHIPPED)
        shipped_text = _grouped(s, shipped)
        rows.append({"held out": s.name, "n": len(held), "seeds": s.seeds or "all incidents",
                     "chosen without it": chosen.label, "tuning top1": f"{tuned:.2f}",
                     "held-out top1": _grouped(s, held),
                     "shipped default top1": shipped_text,
                     "tuned on": ", ".join(o.name for o in sets if o.name != s.name)})
    print(f"\nLeave-one-dataset-out over {len(GRID)} candidate defaults ({time.perf_counter() - t0:.0f} s). "
          f"Chosen on every set: {chosen_all.label} (mean tuning top-1 {tuned_all:.2f}); shipped: {SHIPPED.label}.")
    return rows


def _grouped(s: CaseSet, hits: list[bool]) -> str:
    if not hits:
        return "-"
    text = f"{np.mean(hits):.2f}"
    if s.group is not None:
        groups: dict[str, list[bool]] = {}
        for (inc, _), hit in zip(s.score, hits, strict=True):
            groups.setdefault(s.group(inc), []).append(hit)
        text += " (" + ", ".join(f"{g} {np.mean(v):.2f}" for g, v in sorted(groups.items())) + ")"
    return text


def with_alarm_lead(incident: Incident, lead_rows: int, step_s: float) -> Incident:
    """The incident with its window opened ``lead_rows`` steps before the fault and the alarm time at the onset.

    What an SRE does when they select a window a little wider than the fault: the first rows are
    normal. The baseline window ends where the new incident window starts.
    """
    from datetime import timedelta

    from rcakit.telemetry import Incident
    from rcakit.telemetry.window import TimeWindow

    onset = incident.incident_window.start
    start = onset - timedelta(seconds=lead_rows * step_s)
    return Incident(incident.telemetry, TimeWindow(incident.baseline_window.start, start),
                    TimeWindow(start, incident.incident_window.end), alarm=incident.alarm, truth=incident.truth,
                    name=incident.name, description=incident.description, system=incident.system,
                    meta=dict(incident.meta), alarm_time=onset)


def drafted_cases(incidents: Sequence[Incident], draft: Callable[[Incident], CaseGraph]) -> list[Case]:
    """(incident, drafted graph) per incident; a failed draft is reported and counts as a miss (graph None)."""
    out: list[Case] = []
    for inc in incidents:
        try:
            out.append((inc, draft(inc)))
        except Exception as exc:
            print(f"  {inc.name}: draft failed: {exc}")
            out.append((inc, None))
    return out
