"""``attribute(graph_or_model, incident, *, method, config, ...) -> Attribution``: resolve the arguments, run the
method's module (:mod:`rcakit.attribution.registry`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rcakit._progress import CancelToken
from rcakit.attribution._run import Progress, Request
from rcakit.attribution.config import AttributionConfig, Method
from rcakit.attribution.registry import runner
from rcakit.attribution.result import Attribution
from rcakit.attribution.structural import structural_scores

if TYPE_CHECKING:
    from rcakit.attribution._run import GraphLike, IncidentLike
    from rcakit.attribution.model import FittedModel
    from rcakit.detect.logs import LogAnalysis

__all__ = ["attribute", "structural_scores"]


def attribute(
    graph_or_model: GraphLike,
    incident: IncidentLike,
    *,
    method: Method | str = Method.STRUCTURAL,
    config: AttributionConfig | None = None,
    on_progress: Progress | None = None,
    cancel: CancelToken | None = None,
    model: FittedModel | None = None,
    alarm: str | None = None,
    rng: np.random.Generator | int | None = None,
    logs: LogAnalysis | None = None,
) -> Attribution:
    """Rank the root causes of ``incident``'s alarm.

    ``graph_or_model``: a networkx DiGraph (cause -> effect, nodes ``entity:metric``), a CausalDraft
    (its observed graph is used; collapsed unobserved nodes become possible culprits), a
    :class:`FittedModel` from :func:`fit` (reused across incidents), or None for the graph-free
    methods. Passing ``model=`` with a graph checks that the model was fitted on that very graph
    (GraphChangedError otherwise). ``incident``: an Incident, or a ``(baseline, incident)`` pair of
    frames with one column per node. ``on_progress`` receives partial Attributions (a quick
    graph-free ranking, the structural ranking, then the final one); ``cancel`` stops the run
    between steps (:class:`rcakit.Cancelled`). ``rng`` draws every random number (bootstrap resamples,
    DoWhy's sampling); an int seeds a new generator; by default ``config.seed`` does. ``logs``: a finished
    :func:`rcakit.detect.analyze_logs` of the incident for ``Method.MULTIMODAL`` to reuse.

    ``Method.MULTIMODAL`` (graph-free, pass None) ranks entities from trace exclusive time and
    caller-side gaps, CPU/memory metrics and log templates (:mod:`rcakit.attribution.multimodal`);
    its causes are one per entity (``entity:trace.self_time``, ``entity:<cpu metric>`` or
    ``entity:log.new_or_error``, naming the strongest signal) and its notes hold the signals used,
    what was skipped and why, and one ``evidence <entity>: ...`` line per top entity::

        result = attribute(None, incident, method=Method.MULTIMODAL)
        result.entities[:3], [n for n in result.notes if n.startswith("evidence")]
    """
    cfg = config or AttributionConfig()
    method = Method(method)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(cfg.seed if rng is None
                                                                                       else rng)
    request = Request.of(graph_or_model, incident, method=method, cfg=cfg, rng=generator,
                         token=cancel or CancelToken(), on_progress=on_progress, model=model, alarm=alarm, logs=logs)
    return runner(method)(request)
