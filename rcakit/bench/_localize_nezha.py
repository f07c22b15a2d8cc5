"""Nezha rows of ``python -m rcakit.bench localize``: service-level top-k, one Incident per fault."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.bench.localize import _row, _truth

__all__ = ["nezha_rows"]


def nezha_rows(root: Path, cfg: AttributionConfig) -> list[dict[str, Any]]:
    folder = root / "nezha-trainticket"
    try:
        from rcakit.telemetry.datasets.nezha import load_nezha
    except ImportError:
        return []
    if not folder.is_dir():
        return []
    from rcakit.attribution import classify_fault

    incs = load_nezha(folder)
    rows = []
    for method in (Method.ROBUST_Z, Method.N_SIGMA):
        ranks, secs, types = [], [], []
        for inc in incs:
            t0 = time.perf_counter()
            res = attribute(None, inc, method=method, config=AttributionConfig(n_bootstrap=0, extra={
                "fault_type": False}))
            secs.append(time.perf_counter() - t0)
            known = _truth(inc)
            truth = known.root_cause_entities
            ranks.append(min((r for r in (res.rank_of(t) for t in truth) if r is not None), default=None))
            guess = classify_fault(inc, truth[0])
            types.append(guess.fault_type == known.fault_type)
        rows.append(_row("nezha", "none (service level)", method.value, ranks, secs,
                         {"fault type acc": float(np.mean(types))}))
    return rows
