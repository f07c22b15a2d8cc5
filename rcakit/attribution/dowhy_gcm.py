"""DoWhy gcm methods: ``Method.ANOMALY_ATTRIBUTION`` (``gcm.attribute_anomalies`` on the alarm's anomalous rows)
and ``Method.DISTRIBUTION_CHANGE`` (``gcm.distribution_change`` between the baseline and incident windows).

DoWhy draws from NumPy's global generator and takes no generator of its own; the global state is seeded
from the request's generator for the call and restored afterwards, so a user's own global stream is untouched.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np

from rcakit.attribution._run import Request, prepare, quantiles
from rcakit.attribution.config import Method
from rcakit.attribution.model import load_gcm
from rcakit.attribution.registry import register
from rcakit.attribution.result import Attribution
from rcakit.attribution.structural import fit_after_structural

__all__ = ["run_dowhy", "seeded_global_numpy"]


@contextlib.contextmanager
def seeded_global_numpy(rng: np.random.Generator) -> Iterator[None]:
    """NumPy's global generator seeded from ``rng`` inside the block, and as it was after it."""
    state = np.random.get_state()
    np.random.seed(int(rng.integers(0, 2**32 - 1)))
    try:
        yield
    finally:
        np.random.set_state(state)


@register(Method.ANOMALY_ATTRIBUTION, Method.DISTRIBUTION_CHANGE)
def run_dowhy(req: Request) -> Attribution:
    """Shapley contributions of every candidate to the alarm's anomaly (or to its distribution change)."""
    run = prepare(req)
    fitted = fit_after_structural(run)
    cfg, candidates, inc, rows = run.cfg, run.candidates, run.inc, run.rows
    gcm = load_gcm()
    from dowhy.gcm.shapley import ShapleyApproximationMethods, ShapleyConfig

    shapley = ShapleyConfig(approximation_method=ShapleyApproximationMethods.PERMUTATION,
                            num_permutations=cfg.shapley_permutations, n_jobs=cfg.n_jobs)
    scm = fitted.dowhy_scm(candidates, quality=cfg.dowhy_quality)
    req.token.raise_if_cancelled()
    fill = fitted.center.reindex(candidates).fillna(0.0)
    intervals: dict[str, tuple[float, float]] = {}
    with seeded_global_numpy(req.rng), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if req.method is Method.ANOMALY_ATTRIBUTION:
            samples = inc.iloc[rows[: cfg.max_dowhy_samples]][candidates].fillna(fill)
            raw = gcm.attribute_anomalies(scm, target_node=req.alarm, anomaly_samples=samples.reset_index(drop=True),
                                          num_distribution_samples=cfg.num_distribution_samples,
                                          shapley_config=shapley)
            scores = {n: float(np.nanmean(v)) for n, v in raw.items()}
            intervals = {n: quantiles(np.asarray(v, float), cfg.interval) for n, v in raw.items() if len(v) > 1}
        else:
            chosen = rows if len(rows) > 1 else list(range(cfg.first_row, len(inc.index)))
            window = inc.iloc[chosen][candidates].fillna(fill)
            change = gcm.distribution_change(scm, fitted.filled[candidates], window.reset_index(drop=True), req.alarm,
                                             num_samples=cfg.num_distribution_samples, shapley_config=shapley)
            scores = {n: float(v) for n, v in change.items()}
    return req.finish(run.result(scores, "final", True, intervals=intervals))
