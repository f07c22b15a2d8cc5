"""Draft the causal graph of a system's metrics: system model, suggesters, draft, validation, metrics."""

from rcakit.graph.candidates import (
    COMMON_METRICS,
    InteractionMap,
    candidate_pairs,
    enumerate_metrics,
    interaction_map,
    relation_between,
)
from rcakit.graph.combine import (
    build_system,
    combine_proposals,
    default_suggesters,
    draft_graph,
    llm_suggester_if_configured,
)
from rcakit.graph.draft import CausalDraft, DraftEdge, DraftNode, EdgeStatus
from rcakit.graph.knowledge import RULES, KnowledgeSuggester, Rule, meaning_of_node
from rcakit.graph.meanings import Meaning, metric_meaning
from rcakit.graph.metrics import GraphScore, compare_graphs
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
    "COMMON_METRICS",
    "RULES",
    "CandidatePair",
    "CausalDraft",
    "Component",
    "ComponentKind",
    "DraftEdge",
    "DraftNode",
    "EdgeStatus",
    "GraphScore",
    "Interaction",
    "InteractionKind",
    "InteractionMap",
    "KnowledgeSuggester",
    "Meaning",
    "MetricInfo",
    "Proposal",
    "Provenance",
    "Rule",
    "Suggester",
    "SystemModel",
    "Verdict",
    "build_system",
    "candidate_pairs",
    "combine_proposals",
    "compare_graphs",
    "default_suggesters",
    "draft_graph",
    "enumerate_metrics",
    "interaction_map",
    "llm_suggester_if_configured",
    "meaning_of_node",
    "metric_meaning",
    "relation_between",
]
