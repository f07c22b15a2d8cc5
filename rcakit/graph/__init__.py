"""Draft the causal graph of a system's metrics: system model, suggesters, draft, validation, metrics."""

from rcakit.graph.candidates import (
    COMMON_METRICS,
    InteractionMap,
    candidate_pairs,
    enumerate_metrics,
    infer_hosts,
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
from rcakit.graph.data import (
    Background,
    DataSuggester,
    DiscoveryMethod,
    DiscoveryResult,
    discover,
    notears,
    wide_matrix,
)
from rcakit.graph.draft import CausalDraft, DraftEdge, DraftNode, EdgeStatus
from rcakit.graph.knowledge import RULES, KnowledgeSuggester, Rule, meaning_of_node
from rcakit.graph.meanings import Meaning, metric_meaning
from rcakit.graph.metrics import GraphScore, compare_graphs
from rcakit.graph.proposal import CandidatePair, Proposal, Provenance, Suggester, Verdict
from rcakit.graph.suggest_llm import LLMSuggester
from rcakit.graph.system import (
    Component,
    ComponentKind,
    Interaction,
    InteractionKind,
    MetricInfo,
    SystemModel,
)
from rcakit.graph.validate import (
    SuspectEdge,
    ValidationCache,
    anm_direction,
    annotate_suspicion,
    apply_suspects,
    next_batch,
    partial_correlation,
    rank_suspicious,
    validation_cache,
)

__all__ = [
    "COMMON_METRICS",
    "RULES",
    "Background",
    "CandidatePair",
    "CausalDraft",
    "Component",
    "ComponentKind",
    "DataSuggester",
    "DiscoveryMethod",
    "DiscoveryResult",
    "DraftEdge",
    "DraftNode",
    "EdgeStatus",
    "GraphScore",
    "Interaction",
    "InteractionKind",
    "InteractionMap",
    "KnowledgeSuggester",
    "LLMSuggester",
    "Meaning",
    "MetricInfo",
    "Proposal",
    "Provenance",
    "Rule",
    "Suggester",
    "SuspectEdge",
    "SystemModel",
    "ValidationCache",
    "Verdict",
    "anm_direction",
    "annotate_suspicion",
    "apply_suspects",
    "build_system",
    "candidate_pairs",
    "combine_proposals",
    "compare_graphs",
    "default_suggesters",
    "discover",
    "draft_graph",
    "enumerate_metrics",
    "infer_hosts",
    "interaction_map",
    "llm_suggester_if_configured",
    "meaning_of_node",
    "metric_meaning",
    "next_batch",
    "notears",
    "partial_correlation",
    "rank_suspicious",
    "relation_between",
    "validation_cache",
    "wide_matrix",
]
