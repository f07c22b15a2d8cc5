"""Combining suggesters: provenance kept, conflicts resolved and recorded, the LLM hook stays offline."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from rcakit.graph import (
    CandidatePair,
    DataSuggester,
    KnowledgeSuggester,
    Proposal,
    Provenance,
    SystemModel,
    Verdict,
    combine_proposals,
    default_suggesters,
    draft_graph,
    llm_suggester_if_configured,
)


def test_conflicting_directions_are_resolved_by_weight_and_recorded() -> None:
    props = [
        Proposal("s:a", "s:b", Verdict.A_CAUSES_B, Provenance.KNOWLEDGE, 0.9, rule="r1", suggester="knowledge",
                 rationale="because"),
        Proposal("s:a", "s:b", Verdict.B_CAUSES_A, Provenance.DATA, 0.5, suggester="data:pc"),
        Proposal("s:b", "s:c", Verdict.NO_EDGE, Provenance.KNOWLEDGE, 0.6, suggester="knowledge"),
        Proposal("s:b", "s:c", Verdict.A_CAUSES_B, Provenance.DATA, 0.5, suggester="data:pc"),
        Proposal("s:c", "s:d", Verdict.ABSTAIN, Provenance.KNOWLEDGE, 0.0, suggester="knowledge"),
        Proposal("s:c", "s:d", Verdict.B_CAUSES_A, Provenance.DATA, 0.5, suggester="data:pc"),
    ]
    draft = combine_proposals(props, alarm="s:a")
    assert set(draft.edges) == {("s:a", "s:b"), ("s:d", "s:c")}
    edge = draft.edge("s:a", "s:b")
    assert edge.provenance == [Provenance.KNOWLEDGE] and edge.rules == ["r1"]
    assert edge.evidence["conflict"]["reversed_by"] == ["data:pc"]
    assert edge.votes["forward"] == 1 and edge.votes["reverse"] == 1
    assert "disputed" in edge.rationale
    assert draft.edge("s:d", "s:c").provenance == [Provenance.DATA]
    assert draft.alarm == "s:a"


def test_offline_default_is_the_knowledge_suggester(monkeypatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "RCAKIT_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RCAKIT_LLM_OFFLINE", "1")
    assert llm_suggester_if_configured() is None
    assert [s.name for s in default_suggesters()] == ["knowledge"]


def test_draft_graph_from_telemetry_spans_and_with_data_suggesters() -> None:
    from rcakit.telemetry import Telemetry

    rng = np.random.default_rng(0)
    n = 300
    t = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC")
    db = rng.gamma(2.0, 1.0, n)
    api = db + rng.gamma(2.0, 1.0, n)
    web = api + rng.gamma(2.0, 1.0, n)
    metrics = pd.concat([pd.DataFrame({"time": t, "entity": e, "metric": "latency", "value": v})
                         for e, v in (("db", db), ("api", api), ("web", web))])
    spans = pd.DataFrame({"trace_id": ["t1"] * 3, "span_id": ["1", "2", "3"], "parent_id": [None, "1", "2"],
                          "entity": ["web", "api", "db"], "operation": ["get"] * 3,
                          "start": [t[0]] * 3, "duration": [0.3, 0.2, 0.1]})
    tel = Telemetry(metrics, spans=spans)
    wide = tel.align("1min", "mean").frame
    seen: list[tuple[int, int]] = []
    draft = draft_graph(tel, suggesters=[KnowledgeSuggester(), DataSuggester("pc", max_seconds=None)], data=wide,
                        alarm="web:latency", on_progress=lambda d, tot: seen.append((d, tot)))
    observed = draft.observed_graph()
    assert {("db:latency", "api:latency"), ("api:latency", "web:latency")} <= set(observed.edges)
    assert nx.is_directed_acyclic_graph(observed)
    assert seen and seen[-1][0] == seen[-1][1]
    assert draft.meta["suggesters"] == ["knowledge", "data:pc"]
    assert any(p.value == "data" for e in draft.edges.values() for p in e.provenance) or all(
        "data:pc" in e.evidence.get("suggesters", {}) for e in draft.edges.values())


def test_candidate_pairs_reach_every_suggester_unchanged() -> None:
    class Recorder:
        name = "recorder"
        provenance = Provenance.LLM

        def __init__(self) -> None:
            self.pairs: list[CandidatePair] = []

        def suggest(self, pairs, system, *, on_progress=None, cancel=None):
            self.pairs = list(pairs)
            return []

    rec = Recorder()
    system = SystemModel.from_call_graph(nx.DiGraph([("A", "B")]), ["A:latency", "B:latency"])
    draft_graph(system, suggesters=[rec], enumerate_unobserved=False)
    assert [(p.a, p.b, p.relation) for p in rec.pairs] == [("A:latency", "B:latency", "invokes")]
