"""``erroralpha`` section of ``python -m rcakit.bench localize``: how ``MultimodalConfig.error_alpha`` was chosen.

``Method.MULTIMODAL`` alone, top-1 entity, on the fusion bench's tuning sets only (model serving seeds
1000-1009, the simulator families' tuning seeds 100-109, and their network faults without network metrics),
for each level of the failing-span test; the default is the level whose worst set is best, then the mean.
Not in the default run (about 10 minutes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from rcakit.attribution import AttributionConfig, Method, MultimodalConfig, attribute
from rcakit.attribution.config import DEFAULT_ERROR_ALPHA
from rcakit.bench._common import Row
from rcakit.bench._localize_common import _truth
from rcakit.telemetry import Incident

__all__ = ["ERROR_ALPHAS", "error_alpha_rows"]

#: The levels compared (None: every rise of failing spans counts, as before the test).
ERROR_ALPHAS: tuple[float | None, ...] = (None, 0.05, 0.01, 1e-3, 1e-4, 1e-5)


def _label(alpha: float | None) -> str:
    return "no test" if alpha is None else f"{alpha:g}"


def _tuning_sets() -> Iterator[tuple[str, Iterable[Incident]]]:
    from rcakit.bench._localize_fusion import TUNING_SEEDS, _no_network_metrics
    from rcakit.bench._localize_multimodal_sim import multimodal_sim_incidents
    from rcakit.sim import families

    tune = tuple(families.TUNING_SEEDS)
    yield (f"sim multimodal S+M, tuning seeds {TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]}",
           (inc for _, _, inc in multimodal_sim_incidents(TUNING_SEEDS)))
    yield (f"sim families, tuning seeds {tune[0]}-{tune[-1]}",
           (families.family_incident(f, k, seed=s) for f, k, s in families.family_cases(tune)))
    yield f"sim families, no network metrics, tuning seeds {tune[0]}-{tune[-1]}", _no_network_metrics(tune)


def error_alpha_rows(alphas: tuple[float | None, ...] = ERROR_ALPHAS) -> list[Row]:
    """One row per tuning set: MULTIMODAL's top-1 at each level; the level chosen is printed."""
    configs = {a: AttributionConfig(n_bootstrap=0, fault_type=False, multimodal=MultimodalConfig(error_alpha=a))
               for a in alphas}
    rows: list[Row] = []
    top1: list[dict[float | None, float]] = []
    for name, incidents in _tuning_sets():
        hits: dict[float | None, list[bool]] = {a: [] for a in alphas}
        for inc in incidents:
            truth = _truth(inc).root_cause_entities
            for alpha, cfg in configs.items():
                result = attribute(None, inc, method=Method.MULTIMODAL, config=cfg)
                hits[alpha].append(bool(result.causes) and result.causes[0].entity in truth)
        top1.append({a: float(np.mean(h)) for a, h in hits.items()})
        row: Row = {"dataset": name, "role": "tuning", "n": len(hits[alphas[0]])}
        row.update({_label(a): f"{v:.3f}" for a, v in top1[-1].items()})
        rows.append(row)
        print(f"  erroralpha: {name}: {row['n']} incidents", flush=True)
    worst = {a: min(t[a] for t in top1) for a in alphas}
    mean = {a: float(np.mean([t[a] for t in top1])) for a in alphas}
    chosen = max(alphas, key=lambda a: (worst[a], mean[a], a == DEFAULT_ERROR_ALPHA))
    print("\nMULTIMODAL top-1 per level of the failing-span test (worst set / mean): "
          + ", ".join(f"{_label(a)} {worst[a]:.3f} / {mean[a]:.3f}" for a in alphas)
          + f"\n  chosen {_label(chosen)} (best worst set, then mean); shipped {_label(DEFAULT_ERROR_ALPHA)}", flush=True)
    return rows
