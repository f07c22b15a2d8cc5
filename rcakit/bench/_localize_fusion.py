"""``fusion`` rows of ``python -m rcakit.bench localize``: the metrics graph, MULTIMODAL and their fusion.

For each incident: the structural ranking on the offline drafted graph, ``Method.MULTIMODAL`` and
:func:`rcakit.attribution.fusion.fuse` of the two for every (weight, confidence) candidate of
``FUSION_CANDIDATES`` (weight, follow_calls). The candidate is chosen on the tuning sets only (simulator multimodal seeds
:data:`TUNING_SEEDS` and the simulator families' tuning seeds, the families' network faults also without network
metrics: ``no_network_metrics`` noise); the scoring sets (their held-out seeds, the Nezha day) are reported with the
chosen candidate and the shipped one. A hit is the true root-cause entity first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, TypedDict

import numpy as np

from rcakit.attribution import Attribution, AttributionConfig, Method, attribute
from rcakit.attribution.fusion import (
    FUSION_CANDIDATES,
    FUSION_FOLLOW_CALLS,
    FUSION_UNSURE,
    FUSION_WEIGHT,
    Candidate,
    first_entities,
    fuse,
)
from rcakit.bench._localize_common import _truth

if TYPE_CHECKING:
    from rcakit.bench._common import Row
    from rcakit.telemetry import Incident

__all__ = ["TUNING_SEEDS", "disagreement_lines", "fusion_rows"]

#: The graph ranking as ``analyze`` makes it (30 baseline resamples: the fusion reads the intervals); the
#: multimodal one needs none.
_GRAPH_CFG = AttributionConfig(fault_type=False)
_CFG = AttributionConfig(n_bootstrap=0, fault_type=False)
#: Simulator multimodal seeds the fusion candidate is chosen on (the placement rule's 1000-1002 and seven more;
#: disjoint from the held-out seeds 3000-3005).
TUNING_SEEDS: tuple[int, ...] = tuple(range(1000, 1010))
_SHIPPED: Candidate = (FUSION_WEIGHT, FUSION_FOLLOW_CALLS, FUSION_UNSURE)
#: The set of the families' network faults whose hosts export no network metrics (a tuning system of its own).
_NO_NET = "sim families, no network metrics"
#: One incident's top-1 hit per view (structural, multimodal, each fusion candidate), and its ``system``.
_Hits: TypeAlias = dict[str, bool | str]


class _Set(TypedDict):
    """The hits of one set of incidents, with its name, role and seconds."""

    name: str
    role: str
    hits: list[_Hits]
    seconds: float


def _label(candidate: Candidate) -> str:
    weight, follow_calls, unsure = candidate
    return f"w={weight:g}{', calls' if follow_calls else ''}{'' if unsure is None else f', unsure {unsure:g}'}"


def _views(incident: Incident) -> _Hits:
    """Top-1 hits of each ranking of one incident: structural, multimodal, fused for each candidate."""
    from rcakit.graph import draft_graph

    truth = _truth(incident).root_cause_entities
    graph: Attribution | None
    try:
        graph = attribute(draft_graph(incident, alarm=incident.alarm), incident, config=_GRAPH_CFG)
    except Exception as exc:
        print(f"  {incident.name}: graph ranking failed: {exc}")
        graph = None
    services = None
    if incident.telemetry.spans.height or incident.telemetry.logs.height:
        services = attribute(None, incident, method=Method.MULTIMODAL, config=_CFG)

    def hit(result: Attribution | None) -> bool:
        return result is not None and bool(result.causes) and result.causes[0].entity in truth

    out: _Hits = {"structural (drafted)": hit(graph), "multimodal": hit(services),
                  "system": str(incident.meta.get("family") or incident.meta.get("topology") or ""),
                  **_disagreement(graph, services, incident.alarm, truth)}
    for weight, follow_calls, unsure in FUSION_CANDIDATES:
        out[_label((weight, follow_calls, unsure))] = hit(fuse(graph, services, alarm=incident.alarm, weight=weight,
                                                               follow_calls=follow_calls, unsure=unsure))
    return out


def _disagreement(graph: Attribution | None, services: Attribution | None, alarm: str | None,
                  truth: tuple[str, ...]) -> _Hits:
    """Whether the two views put different entities first as the fusion sees them (graph causes moved to the
    entity the traces put behind them; the graph not abstaining), and whether each first one is right."""
    g, m = first_entities(graph, services, alarm=alarm)
    return {"disagree": g is not None and m is not None and g != m, "graph first": g in truth,
            "multimodal first": m in truth}


def disagreement_lines(sets: list[_Set]) -> list[str]:
    """Per set: of the incidents where the graph and the traces/logs/resources name different first entities, how
    many each view and the shipped fusion got right (the evidence a fusion rule chosen on the tuning sets sees)."""
    lines = []
    for s in sets:
        split = [h for h in s["hits"] if h.get("disagree")]
        if split:
            lines.append(f"  {s['name']} ({s['role'].split(' (')[0]}): {len(split)} of {len(s['hits'])} disagree; "
                         f"the graph's first right {sum(bool(h['graph first']) for h in split)}, the multimodal first "
                         f"right {sum(bool(h['multimodal first']) for h in split)}, fused right "
                         f"{sum(bool(h[_label(_SHIPPED)]) for h in split)}")
    return lines


def _set(name: str, role: str, incidents: Iterable[Incident]) -> _Set:
    t0 = time.perf_counter()
    hits = [_views(inc) for inc in incidents]
    print(f"  fusion: {name} ({role}): {len(hits)} incidents, {time.perf_counter() - t0:.0f} s", flush=True)
    return {"name": name, "role": role, "hits": hits, "seconds": time.perf_counter() - t0}


def _sets(root: Path, family_seeds: int) -> list[_Set]:
    from rcakit.bench._localize_multimodal_sim import HELD_OUT_SEEDS, multimodal_sim_incidents
    from rcakit.sim import families

    tune = tuple(families.TUNING_SEEDS)
    score = tuple(families.SCORING_SEEDS)[:family_seeds]
    sets = [
        _set("sim multimodal S+M", f"tuning (seeds {TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]})",
             (inc for _, _, inc in multimodal_sim_incidents(TUNING_SEEDS))),
        _set("sim families", f"tuning (seeds {tune[0]}-{tune[-1]})",
             (families.family_incident(f, k, seed=s) for f, k, s in families.family_cases(tune))),
        _set("sim multimodal S+M", f"scored (held-out seeds {', '.join(map(str, HELD_OUT_SEEDS))})",
             (inc for _, _, inc in multimodal_sim_incidents(HELD_OUT_SEEDS))),
        _set("sim families", f"scored (seeds {', '.join(map(str, score))})",
             (families.family_incident(f, k, seed=s) for f, k, s in families.family_cases(score))),
        _set(_NO_NET, f"tuning (seeds {tune[0]}-{tune[-1]})", _no_network_metrics(tune)),
        _set(_NO_NET, f"scored (seeds {', '.join(map(str, score))})", _no_network_metrics(score)),
    ]
    if (root / "nezha-trainticket").is_dir():
        from rcakit.telemetry.datasets.nezha import load_nezha

        sets.append(_set("nezha", "scored (real; MULTIMODAL's signal weights were chosen on it: in-sample for "
                                  "that column)", load_nezha(root / "nezha-trainticket")))
    return sets


def _no_network_metrics(seeds: tuple[int, ...]) -> Iterator[Incident]:
    """The families' network faults with the ``no_network_metrics`` noise: the fault's own metric is not exported."""
    from rcakit.sim import families

    noise = (*families.DEFAULT_NOISE, "no_network_metrics")
    return (families.family_incident(f, k, seed=s, noise=noise) for f, k, s in families.family_cases(seeds)
            if k in families.NETWORK_FAULTS)


def _top1(hits: list[_Hits], view: str) -> float:
    return float(np.mean([h[view] for h in hits]))


def _tuning_systems(sets: list[_Set]) -> dict[str, list[_Hits]]:
    """The tuning incidents' hits by system: each simulator family on its own, the model-serving simulator."""
    systems: dict[str, list[_Hits]] = {}
    for s in sets:
        if s["role"].startswith("tuning"):
            for h in s["hits"]:
                name = f"{s['name']}: {h['system']}" if s["name"] == "sim families" else s["name"]
                systems.setdefault(name, []).append(h)
    return systems


def fusion_rows(root: Path, *, family_seeds: int = 2) -> list[Row]:
    """One row per set: top-1 of each view; the candidate chosen on the tuning sets; printed as it goes."""
    sets = _sets(root, family_seeds)
    systems = _tuning_systems(sets)
    worst = {c: min(_top1(hits, _label(c)) for hits in systems.values())
             for c in FUSION_CANDIDATES}
    means = {c: float(np.mean([_top1(hits, _label(c)) for hits in systems.values()]))
             for c in FUSION_CANDIDATES}
    # The default must hold on systems it never saw: the candidate whose worst tuning system is best wins,
    # then the best mean over the tuning systems, then the shipped one.
    chosen = max(FUSION_CANDIDATES, key=lambda c: (worst[c], means[c], c == _SHIPPED))
    print(f"\nFusion candidates on the {len(systems)} tuning systems ({', '.join(systems)}): worst system / mean "
          "top-1 (w: weight of the traces/logs/resources view; calls: a caller's latency or backlog cause moves to the callee "
          "the traces show it waiting on; unsure q: graph causes count by the low end of their interval over baseline "
          "resamples, and the graph abstains when its first cause's low end is at most q times its score):\n  "
          + "\n  ".join(f"{_label(c)}: {worst[c]:.3f} / {means[c]:.3f}" for c in FUSION_CANDIDATES)
          + f"\n  chosen {_label(chosen)} (best worst system, then mean), shipped {_label(_SHIPPED)}")
    print("  per tuning system with the chosen one (the graph alone in brackets): " + ", ".join(
        f"{name} {_top1(hits, _label(chosen)):.2f} ({_top1(hits, 'structural (drafted)'):.2f})"
        for name, hits in systems.items()))
    print("\nWhen the metrics graph (not abstaining) and the traces/logs/resources name different first entities:\n"
          + "\n".join(disagreement_lines(sets)))
    rows: list[Row] = []
    for s in sets:
        hits = s["hits"]
        row: Row = {"dataset": s["name"], "role": s["role"], "n": len(hits)}
        for view in ("structural (drafted)", "multimodal"):
            row[view] = f"{_top1(hits, view):.2f}"
        row[f"fused ({_label(_SHIPPED)}, shipped)"] = f"{_top1(hits, _label(_SHIPPED)):.2f}"
        row[f"fused ({_label(chosen)}, chosen on tuning)"] = f"{_top1(hits, _label(chosen)):.2f}"
        row["seconds"] = f"{s['seconds']:.0f}"
        rows.append(row)
    return rows
