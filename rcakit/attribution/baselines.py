"""Graph-free baselines: N-Sigma and BARO's robust z per node, with bootstrap intervals."""

from __future__ import annotations

from rcakit.attribution._run import Request, prepare
from rcakit.attribution._scores import baro_scores, nsigma_scores
from rcakit.attribution.config import Method
from rcakit.attribution.registry import register
from rcakit.attribution.result import Attribution

__all__ = ["run_baseline"]


@register(Method.ROBUST_Z, Method.N_SIGMA)
def run_baseline(req: Request) -> Attribution:
    """Each node's largest deviation from its baseline over the explained rows (robust z or n-sigma)."""
    run = prepare(req)
    score = baro_scores if req.method is Method.ROBUST_Z else nsigma_scores
    candidates, inc, rows = run.candidates, run.inc, run.rows
    scores = score(run.base[candidates], inc[candidates], rows).to_dict()
    intervals = run.bootstrap(lambda b: score(b[candidates], inc[candidates], rows).to_dict())
    return req.finish(run.result(scores, "final", True, intervals=intervals))
