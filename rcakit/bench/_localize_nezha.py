"""Nezha rows of ``python -m rcakit.bench localize``: service-level top-k, one Incident per fault.

Rows: the graph-free metric references (robust_z, n_sigma) and ``Method.MULTIMODAL`` (trace exclusive
time, resource metrics, logs). ``fault type acc`` is :func:`rcakit.attribution.classify_fault` on the
true root-cause service (the same for every row: it scores the classifier, not the ranking).
In-sample: the 17 faults of one day are also the faults the multimodal method was designed on. The
incidents state no service placement, so the multimodal placement rule (a service's slower self time
credited to the resource it runs on) does not apply here; its section is ``_localize_multimodal_sim``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.bench._localize_common import _row, _truth

if TYPE_CHECKING:
    from rcakit.bench._common import Row
    from rcakit.telemetry import Incident

__all__ = ["NEZHA_METHODS", "nezha_rows"]

NEZHA_METHODS = (Method.ROBUST_Z, Method.N_SIGMA, Method.MULTIMODAL)


def nezha_rows(root: Path, cfg: AttributionConfig) -> list[Row]:
    folder = root / "nezha-trainticket"
    try:
        from rcakit.telemetry.datasets.nezha import load_nezha
    except ImportError:
        return []
    if not folder.is_dir():
        return []
    from rcakit.attribution import classify_fault

    incs = load_nezha(folder)
    types = []
    for inc in incs:
        known = _truth(inc)
        types.append(classify_fault(inc, known.root_cause_entities[0]).fault_type == known.fault_type)
    rows = []
    for method in NEZHA_METHODS:
        ranks, secs = [], []
        for inc in incs:
            t0 = time.perf_counter()
            res = attribute(None, inc, method=method, config=AttributionConfig(n_bootstrap=0, fault_type=False))
            secs.append(time.perf_counter() - t0)
            truth = _truth(inc).root_cause_entities
            ranks.append(min((r for r in (res.rank_of(t) for t in truth) if r is not None), default=None))
        rows.append(_row("nezha", "none (service level)", method.value, ranks, secs,
                         {"fault type acc": float(np.mean(types))}))
    rows.append(_pipeline_row(incs, float(np.mean(types))))
    return rows


def _pipeline_row(incs: list[Incident], type_acc: float) -> Row:
    """What ``rcakit analyze`` tells the user: the entity its report leads with (drafted graph + multimodal)."""
    from rcakit.pipeline import analyze

    ranks: list[int | None] = []
    secs = []
    for inc in incs:
        t0 = time.perf_counter()
        result = analyze(inc, llm=None)
        secs.append(time.perf_counter() - t0)
        causes = [c.entity or c.name for c in result.report.facts.causes]
        truth = _truth(inc).root_cause_entities
        ranks.append(min((causes.index(t) + 1 for t in truth if t in causes), default=None))
    return _row("nezha", "drafted (offline)", "pipeline report (rcakit analyze)", ranks, secs,
                {"fault type acc": type_acc})
