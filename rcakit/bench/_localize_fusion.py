"""``fusion`` rows of ``python -m rcakit.bench localize``: the metrics graph, MULTIMODAL and their fusion.

For each incident: the structural ranking on the offline drafted graph, ``Method.MULTIMODAL`` and
:func:`rcakit.attribution.fusion.fuse` of the two at every weight of ``FUSION_WEIGHTS``. The weight is
chosen on the tuning sets only (simulator multimodal seeds ``TUNING_SEEDS`` of
``_localize_multimodal_sim`` and simulator families seeds ``families.TUNING_SEEDS[:n]``); the scoring
sets (their held-out seeds, the Nezha day) are reported with the chosen weight and the shipped one.
A hit is the true root-cause entity first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.attribution.fusion import FUSION_WEIGHT, FUSION_WEIGHTS, fuse

__all__ = ["fusion_rows"]

_CFG = AttributionConfig(n_bootstrap=0, fault_type=False)


def _views(incident: Any) -> dict[str, bool]:
    """Top-1 hits of each ranking of one incident: structural, multimodal, fused at each weight."""
    from rcakit.graph import draft_graph

    truth = incident.truth.root_cause_entities
    try:
        graph = attribute(draft_graph(incident, alarm=incident.alarm), incident, config=_CFG)
    except Exception as exc:
        print(f"  {incident.name}: graph ranking failed: {exc}")
        graph = None
    services = None
    if incident.telemetry.spans.height or incident.telemetry.logs.height:
        services = attribute(None, incident, method=Method.MULTIMODAL, config=_CFG)

    def hit(result: Any) -> bool:
        return result is not None and bool(result.causes) and result.causes[0].entity in truth

    out = {"structural (drafted)": hit(graph), "multimodal": hit(services)}
    for w in FUSION_WEIGHTS:
        out[f"fused w={w:g}"] = hit(fuse(graph, services, alarm=incident.alarm, weight=w))
    return out


def _set(name: str, role: str, incidents: Iterable[Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    hits = [_views(inc) for inc in incidents]
    return {"name": name, "role": role, "hits": hits, "seconds": time.perf_counter() - t0}


def _sets(root: Path, family_seeds: int) -> list[dict[str, Any]]:
    from rcakit.bench._localize_multimodal_sim import HELD_OUT_SEEDS, TUNING_SEEDS, multimodal_sim_incidents

    sets = [_set("sim multimodal S+M", f"tuning (seeds {', '.join(map(str, TUNING_SEEDS))})",
                 (inc for _, _, inc in multimodal_sim_incidents(TUNING_SEEDS)))]
    try:
        from rcakit.sim import families
    except ImportError:
        families = None  # type: ignore[assignment]
    if families is not None:
        tune = tuple(families.TUNING_SEEDS)[:family_seeds]
        sets.append(_set("sim families", f"tuning (seeds {', '.join(map(str, tune))})",
                         (families.family_incident(f, k, seed=s) for f, k, s in families.family_cases(tune))))
    sets.append(_set("sim multimodal S+M", f"scored (held-out seeds {', '.join(map(str, HELD_OUT_SEEDS))})",
                     (inc for _, _, inc in multimodal_sim_incidents(HELD_OUT_SEEDS))))
    if families is not None:
        score = tuple(families.SCORING_SEEDS)[:family_seeds]
        sets.append(_set("sim families", f"scored (seeds {', '.join(map(str, score))})",
                         (families.family_incident(f, k, seed=s) for f, k, s in families.family_cases(score))))
    if (root / "nezha-trainticket").is_dir():
        from rcakit.telemetry.datasets.nezha import load_nezha

        sets.append(_set("nezha", "scored (real; MULTIMODAL's weights were chosen on it: in-sample for that row)",
                         load_nezha(root / "nezha-trainticket")))
    return sets


def fusion_rows(root: Path, *, family_seeds: int = 2) -> list[dict[str, Any]]:
    """One row per set: top-1 of each view; the weight chosen on the tuning sets; printed as it goes."""
    sets = _sets(root, family_seeds)
    tuning = [s for s in sets if s["role"].startswith("tuning")]
    means = {w: float(np.mean([np.mean([h[f"fused w={w:g}"] for h in s["hits"]]) for s in tuning]))
             for w in FUSION_WEIGHTS}
    chosen = max(FUSION_WEIGHTS, key=lambda w: (means[w], w == FUSION_WEIGHT))
    print("\nFusion weight on the tuning sets (mean top-1 over them): "
          + ", ".join(f"w={w:g} {means[w]:.3f}" for w in FUSION_WEIGHTS)
          + f"; chosen {chosen:g}, shipped {FUSION_WEIGHT:g}")
    rows = []
    for s in sets:
        hits = s["hits"]
        row: dict[str, Any] = {"dataset": s["name"], "role": s["role"], "n": len(hits)}
        for view in ("structural (drafted)", "multimodal"):
            row[view] = f"{np.mean([h[view] for h in hits]):.2f}"
        row[f"fused (w={FUSION_WEIGHT:g}, shipped)"] = f"{np.mean([h[f'fused w={FUSION_WEIGHT:g}'] for h in hits]):.2f}"
        row[f"fused (w={chosen:g}, chosen on tuning)"] = f"{np.mean([h[f'fused w={chosen:g}'] for h in hits]):.2f}"
        row["seconds"] = f"{s['seconds']:.0f}"
        rows.append(row)
    return rows
