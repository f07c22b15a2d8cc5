"""A small seeded draft with known truth, shared by the review tests."""

from __future__ import annotations

import networkx as nx
import pytest

from rcakit.graph import CausalDraft


def make_draft(name: str = "checkout") -> tuple[CausalDraft, nx.DiGraph]:
    truth = nx.DiGraph([
        ("db:latency", "api:latency"), ("cache:latency", "api:latency"), ("api:latency", "web:latency"),
        ("api:cpu", "api:latency"),
    ])
    draft = CausalDraft(alarm="web:latency", meta={"name": name})
    draft.add_edge("db:latency", "api:latency", provenance="knowledge", confidence=0.9, rationale="callee latency adds up",
                   rules=["callee-latency"], votes={"a->b": 3, "none": 1})
    draft.add_edge("api:latency", "cache:latency", provenance="llm", confidence=0.4, rationale="reversed on purpose")
    draft.add_edge("api:latency", "web:latency", provenance=["knowledge", "llm"], confidence=0.95)
    draft.add_edge("web:latency", "db:latency", provenance="llm", confidence=0.3, rationale="false edge")
    draft.add_node("api:cpu")
    return draft, truth


@pytest.fixture
def draft_and_truth() -> tuple[CausalDraft, nx.DiGraph]:
    return make_draft()
