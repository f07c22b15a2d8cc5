"""Draft the causal graph of a system's metrics: system model, suggesters, draft, validation, metrics."""

from rcakit.graph.draft import CausalDraft, DraftEdge, DraftNode, EdgeStatus
from rcakit.graph.proposal import CandidatePair, Proposal, Provenance, Suggester, Verdict
from rcakit.graph.system import (
    Component,
    ComponentKind,
    Interaction,
    InteractionKind,
    MetricInfo,
    SystemModel,
)

__all__ = [
    "CandidatePair",
    "CausalDraft",
    "Component",
    "ComponentKind",
    "DraftEdge",
    "DraftNode",
    "EdgeStatus",
    "Interaction",
    "InteractionKind",
    "MetricInfo",
    "Proposal",
    "Provenance",
    "Suggester",
    "SystemModel",
    "Verdict",
]
