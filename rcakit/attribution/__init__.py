"""Counterfactual attribution: rank the root causes of an incident's alarm on a causal graph.

``attribute(graph_or_model, incident, *, method, config, on_progress, cancel) -> Attribution`` with
DoWhy gcm ``attribute_anomalies`` and ``distribution_change``, CGL-BFI ATE scores, a fast
structural method (anomaly + graph), graph-free references (N-Sigma, BARO's robust z) and a graph-free
multimodal service ranking (trace exclusive time, resource metrics, logs: ``Method.MULTIMODAL``).
``fuse(graph_ranking, multimodal_ranking)`` combines the two per entity.
Each method is a module of its own (``structural``, ``baselines``, ``ate``, ``dowhy_gcm``, ``multimodal``)
registered in :mod:`rcakit.attribution.registry`.
``fit(graph, baseline)`` fits mechanisms once per graph; ``FittedModel.update(new_graph)`` refits
only the nodes whose parents changed. ``classify_fault`` guesses the fault type of a root cause.
"""

from rcakit.attribution.api import attribute, structural_scores
from rcakit.attribution.config import AttributionConfig, Direction, Method, MultimodalConfig, RowSelection
from rcakit.attribution.faults import FaultGuess, classify_fault
from rcakit.attribution.fusion import fuse
from rcakit.attribution.graphs import lift_entity_graph
from rcakit.attribution.model import FittedModel, fit, graph_fingerprint
from rcakit.attribution.multimodal import MultimodalScores, multimodal_scores
from rcakit.attribution.placement import placement
from rcakit.attribution.result import Attribution, RankedCause

__all__ = [
    "Attribution",
    "AttributionConfig",
    "Direction",
    "FaultGuess",
    "FittedModel",
    "Method",
    "MultimodalConfig",
    "MultimodalScores",
    "RankedCause",
    "RowSelection",
    "attribute",
    "classify_fault",
    "fit",
    "fuse",
    "graph_fingerprint",
    "lift_entity_graph",
    "multimodal_scores",
    "placement",
    "structural_scores",
]

