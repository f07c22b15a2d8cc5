"""StandInModel: the deterministic local stand-in for a language model (demos and tests), through the real clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rcakit.graph import CandidatePair, SystemModel, Verdict, candidate_pairs, draft_graph, enumerate_metrics
from rcakit.graph.proposal import Provenance
from rcakit.graph.standin import StandInModel
from rcakit.graph.suggest_llm import LLMSuggester, build_question, parse_choice
from rcakit.llm import LLMClient, LLMConfig
from rcakit.sim import Topology
from rcakit.sim.truth import system_description
from tests.llm.fake_server import warm_up_openai

pytestmark = pytest.mark.llm


@pytest.fixture()
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInModel]:
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI_", "RCAKIT_LLM_")):
            monkeypatch.delenv(name, raising=False)
    warm_up_openai()
    with StandInModel() as server:
        yield server


def client_for(model: StandInModel, cache: Path) -> LLMClient:
    return LLMClient(LLMConfig(model=model.model, base_url=model.base_url, cache_dir=cache, max_concurrency=8))


def small_system() -> tuple[dict, SystemModel]:
    description = system_description(Topology.small())
    return description, enumerate_metrics(SystemModel.from_atlas(description))


def test_openai_client_gets_a_parsable_answer_that_follows_the_rules(model: StandInModel) -> None:
    import openai

    _, system = small_system()
    question, _ = build_question(CandidatePair("Queue_0:queue_length", "Queue_0:latency"), system)
    sdk = openai.OpenAI(api_key="not-needed", base_url=model.base_url, max_retries=0)
    try:
        answer = sdk.chat.completions.create(model=model.model, messages=question.messages())  # type: ignore[arg-type]
    finally:
        sdk.close()
    text = answer.choices[0].message.content or ""
    letter = parse_choice(text)
    assert letter is not None, text
    # A queue's length drives its waiting time: the option that says so, whichever place it is in.
    option = question.option_of(letter)
    chosen = question._option_text(option)
    assert chosen.startswith('A change in "queue_length"') and '"latency"' in chosen, (chosen, text)
    assert len(text.splitlines()) >= 2 and "queue" in text.splitlines()[0].lower()
    assert answer.usage is not None and answer.usage.prompt_tokens > 0
    assert model.count == 1


def test_other_prompts_get_a_plain_statement_that_it_is_not_a_model(model: StandInModel, tmp_path: Path) -> None:
    client = model.client(cache_dir=tmp_path / "cache")
    text = client.complete("What is the capital of France?")
    assert "not a language model" in text and "Paris" not in text
    assert "not a model" in repr(model) and model.base_url in repr(model)


def test_draft_through_the_standin_has_llm_provenance_and_a_second_draft_is_free(model: StandInModel,
                                                                               tmp_path: Path) -> None:
    description, system = small_system()
    cache = tmp_path / "cache"
    pairs = candidate_pairs(system)
    client = client_for(model, cache)
    estimate = LLMSuggester(client, n_votes=3).dry_run(pairs, system)
    draft = draft_graph(description, suggesters=[LLMSuggester(client, n_votes=3)])
    calls = model.count
    assert calls >= estimate.calls > 0
    assert draft.meta["suggesters"] == [f"llm:{model.model}"]
    assert draft.edges and all(edge.provenance == [Provenance.LLM] for edge in draft.edges.values())
    # The rules it applies show: a queue's length drives its latency; a GPU's power drives its utilization.
    assert draft.has_edge("Queue_0:queue_length", "Queue_0:latency")
    assert not draft.has_edge("Queue_0:latency", "Queue_0:queue_length")
    gpu_power = [e for e in draft.edges if e[0].endswith(":power") and e[1].endswith(":utilization")]
    assert gpu_power, sorted(draft.edges)

    again = client_for(model, cache)
    second = draft_graph(description, suggesters=[LLMSuggester(again, n_votes=3)])
    assert model.count == calls
    assert again.usage.calls == 0 and again.usage.cache_hits >= estimate.calls
    assert sorted(second.edges) == sorted(draft.edges)


def test_unknown_meaning_is_an_abstain_and_weak_rules_split_the_votes(model: StandInModel, tmp_path: Path) -> None:
    _, system = small_system()
    suggester = LLMSuggester(client_for(model, tmp_path / "cache"), n_votes=3)
    opaque, weak = suggester.suggest([CandidatePair("Router:latency", "Router:tenant_mix"),
                                      CandidatePair("Client:error_rate", "Client:latency")], system)
    assert opaque.verdict is Verdict.ABSTAIN and opaque.votes["abstain"] == 3
    assert weak.verdict is Verdict.A_CAUSES_B and sorted(weak.votes.values()) == [0, 0, 1, 2]
    assert 0.6 < weak.confidence < 0.7


def test_report_prompt_gets_the_expert_sections(model: StandInModel, tmp_path: Path) -> None:
    import rcakit
    from rcakit.attribution import attribute
    from rcakit.report import write_report
    from rcakit.report.expert import SECTIONS

    incident = rcakit.sample_incident("sim-S-gpu-throttle")
    result = attribute(None, incident, method="robust_z")
    report = write_report(incident, attribution=result, llm=client_for(model, tmp_path / "cache"))
    assert report.writer == f"LLM expert ({model.model})"
    headings = [h for h, _ in report.sections]
    for name in SECTIONS:
        assert name in headings, headings
    assert result.causes[0].node in report.section("Final answer")
    assert not any("template" in note for note in report.notes), report.notes
