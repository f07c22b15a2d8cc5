"""``Method.ATE``: CGL-BFI's average treatment effect scores on the fitted linear mechanisms.

ATE_i = E[alarm | do(x_i = observed)] - E[alarm | do(x_i = baseline median)]; S_i = |ATE_i| / sum_j |ATE_j|.
"""

from __future__ import annotations

import numpy as np

from rcakit.attribution._run import Request, prepare
from rcakit.attribution.config import Method
from rcakit.attribution.model import FittedModel
from rcakit.attribution.registry import register
from rcakit.attribution.result import Attribution
from rcakit.attribution.structural import fit_after_structural

__all__ = ["ate_scores", "run_ate"]

_NOTE = ("ATE_i = E[alarm | do(x_i = observed)] - E[alarm | do(x_i = baseline median)] under the fitted linear "
         "mechanisms; S_i = |ATE_i| / sum_j |ATE_j|")


def ate_scores(model: FittedModel, alarm: str, candidates: list[str], observed: dict[str, float]) -> dict[str, float]:
    """S_i of every candidate but the alarm, from the observed values of the explained rows."""
    effects = model.total_effects(alarm, candidates)
    raw = {n: effects.get(n, 0.0) * float(np.nan_to_num(observed.get(n, np.nan) - model.center.get(n, 0.0)))
           for n in candidates if n != alarm}
    total = sum(abs(v) for v in raw.values()) or 1.0
    return {n: abs(v) / total for n, v in raw.items()}


@register(Method.ATE)
def run_ate(req: Request) -> Attribution:
    """ATE scores, with intervals from models refitted on bootstrap resamples of the baseline."""
    run = prepare(req)
    fitted = fit_after_structural(run)
    assert req.alarm is not None and run.graph is not None  # Request.of checks both for a graph method
    alarm, graph = req.alarm, run.graph
    observed = {str(k): float(v) for k, v in run.inc.iloc[run.rows].mean(skipna=True).items()}
    scores = ate_scores(fitted, alarm, run.candidates, observed)
    intervals = run.bootstrap(lambda b: ate_scores(FittedModel(graph, b, source_fingerprint="bootstrap"), alarm,
                                                   run.candidates, observed))
    return req.finish(run.result(scores, "final", True, intervals=intervals, notes=[_NOTE]))
