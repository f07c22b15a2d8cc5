"""LLMSuggester against a local OpenAI-compatible server (the real ``openai`` client over HTTP).

The server answers by prompt content: the latency of a callee drives the latency of its caller, a
queue's length drives its waiting time, everything else "does not directly influence". Some
questions get malformed answers, some requests get 429s or time out.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from rcakit._progress import Cancelled, CancelToken
from rcakit.graph import CandidatePair, SystemModel, Verdict, candidate_pairs, draft_graph, enumerate_metrics
from rcakit.graph.proposal import Provenance, Suggester
from rcakit.graph.suggest_llm import (
    PROMPT_VERSION,
    LLMSuggester,
    build_question,
    default_suggester,
    majority_settled,
    parse_choice,
)
from rcakit.llm import BudgetExceeded, LLMClient, LLMConfig
from rcakit.sim import Topology
from rcakit.sim.truth import system_description
from tests.llm.fake_server import FakeLLMServer, Rule, warm_up_openai

SECRET = "sk-test-SECRET-suggester-0123456789"
CALLEE_LATENCY = r'"latency" of (?!you)[\w-]+ directly causes a change in "latency" of you'
QUEUE_LENGTH = r'"queue_length" of you directly causes a change in "latency" of you'
GPU_UTILIZATION = r'"utilization" of GPU directly causes a change in "latency" of you'
MALFORMED = "Hard to say. It could be A, or maybe C."


def rules() -> list[Rule]:
    return [
        Rule(status=429, retry_after=0.01, times=4),            # a burst of rate limiting first
        Rule(contains=("Client is",), delay=1.5, times=1),       # one slow answer (client timeout 0.5 s)
        Rule(contains=('"max_batch_size"', '"dequeueing_rate"'), reply=MALFORMED),  # never parseable
        Rule(contains=('"max_batch_size"', '"enqueueing_rate"'), reply=MALFORMED, reasked=False),  # fixed on re-ask
        Rule(contains=('"queue_length"',), choose=QUEUE_LENGTH),
        Rule(contains=("GPU is a resource that you use", '"utilization"', '"latency"'), choose=GPU_UTILIZATION),
        Rule(contains=('"latency" of you', '"latency" of '), choose=CALLEE_LATENCY),
    ]


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI_", "RCAKIT_LLM_")):
            monkeypatch.delenv(name, raising=False)
    warm_up_openai()
    srv = FakeLLMServer(rules()).start()
    try:
        yield srv
    finally:
        srv.stop()


def client_for(server: FakeLLMServer, cache: Path, **options: object) -> LLMClient:
    settings: dict[str, object] = {"model": "fake-atlas", "base_url": server.base_url, "api_key": SECRET,
                                   "cache_dir": cache, "timeout": 0.5, "backoff_base": 0.01, "max_retries": 3,
                                   "max_concurrency": 8}
    settings.update(options)
    return LLMClient(LLMConfig(**settings))  # type: ignore[arg-type]


def sim_system(topology: Topology) -> SystemModel:
    return enumerate_metrics(SystemModel.from_atlas(system_description(topology)))


def test_parse_choice_is_strict() -> None:
    for good, letter in [("x\nC", "C"), ("x\nC.", "C"), ("x\n**C**", "C"), ("x\nAnswer: C", "C"),
                         ("x\n(B)\n\n", "B"), ("Final answer: A", "A")]:
        assert parse_choice(good) == letter, good
    for bad in ["", "C or A", "I pick C", "c", "C. A change in latency", "A\nsome trailing prose", "D"]:
        assert parse_choice(bad) is None, bad


def test_replicas_are_one_question_and_prompts_follow_atlas() -> None:
    system = sim_system(Topology.large())
    q0, _ = build_question(CandidatePair("ModelInference_0:latency", "GPU_0:utilization", "uses"), system)
    q7, _ = build_question(CandidatePair("ModelInference_7:latency", "GPU_7:utilization", "uses"), system)
    assert q0 == q7 and q0.semantic() == q7.semantic()
    system_prompt, user = (m["content"] for m in q0.messages())
    assert system_prompt.startswith("You are a service named ModelInference in a software system and your job is:")
    assert "You are about to figure out the causal relationship" in system_prompt
    assert "GPU_0" not in user and "GPU is a resource that you use" in user
    assert "do not directly influence each other" in user and "Please think step by step" in user
    assert user.rstrip().endswith("Put it as the only content in the last line.")
    # The options are reordered from vote to vote: each option takes each place once in three votes.
    orders = [build_question(CandidatePair("Queue_0:queue_length", "Queue_0:latency"), system, v)[0].order
              for v in range(3)]
    assert all(sorted(col) == sorted(orders[0]) for col in zip(*orders))
    # (a, b) and (b, a) are the same question.
    qa, fa = build_question(CandidatePair("Queue_0:queue_length", "Queue_0:latency"), system)
    qb, fb = build_question(CandidatePair("Queue_0:latency", "Queue_0:queue_length"), system)
    assert qa == qb and fa != fb


def test_replicated_topology_asks_the_unreplicated_questions_and_no_more() -> None:
    """The distinct questions of simulator L are exactly those of S, and S's are all different questions.

    So the semantic cache is complete: replicas (GPU_0..GPU_7, Queue_0/1, worker-numbered links) and
    mirrors cost nothing, and no two questions left differ only by a name. Every-pair calls over
    de-duplicated calls is then L's pairs over S's pairs, whatever the model answers.
    """
    large, small = sim_system(Topology.large()), sim_system(Topology.small())
    l_pairs, s_pairs = candidate_pairs(large), candidate_pairs(small)
    l_plan, l_unique = LLMSuggester(None, n_votes=3)._plan(l_pairs, large)
    s_plan, s_unique = LLMSuggester(None, n_votes=3)._plan(s_pairs, small)
    assert set(l_unique) == set(s_unique)
    # In S every pair is its own question (3 orders each): nothing left to merge without merging meanings.
    assert len(s_unique) == 3 * len(s_pairs) == len({key for row in s_plan for key, _ in row})
    assert len({tuple(k for k, _ in row) for row in s_plan}) == len(s_pairs)
    assert len({tuple(k for k, _ in row) for row in l_plan}) == len(s_pairs)
    # No replica's name or number reaches a prompt.
    replicas = [name for name, comp in large.components.items() if name != comp.template]
    assert len(replicas) > 20
    for q in l_unique.values():
        text = "\n".join(m["content"] for m in q.messages())
        assert not any(re.search(rf"\b{re.escape(name)}\b", text) for name in replicas), text
        assert not re.search(r"worker \d", text), text
    # A cross-component pair and its mirror are one question; the answer is flipped back for the mirror.
    pair = CandidatePair("ModelInference_3:latency", "GPU_3:utilization", "uses")
    mirror = CandidatePair("GPU_3:utilization", "ModelInference_3:latency", "uses")
    (row,), _ = LLMSuggester(None, n_votes=3)._plan([pair], large)
    (mrow,), _ = LLMSuggester(None, n_votes=3)._plan([mirror], large)
    assert [k for k, _ in row] == [k for k, _ in mrow] and {f for _, f in row} != {f for _, f in mrow}
    ratio = 3 * len(l_pairs) / len(l_unique)
    assert ratio == pytest.approx(len(l_pairs) / len(s_pairs))


def test_stopping_at_a_majority_never_changes_the_verdict() -> None:
    """Every sequence of answers (an option or an abstain per vote): the votes asked until the majority
    is settled give the verdict all the votes give, and stopping saves votes when answers agree."""

    def verdict(answers: tuple[str | None, ...]) -> str | None:
        counts = Counter(a for a in answers if a is not None)
        ranked = counts.most_common()
        if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]

    for n in (3, 5):
        first = n // 2 + 1
        for answers in itertools.product(("f", "n", "b", None), repeat=n):
            asked = first
            while asked < n and not majority_settled(Counter(answers[:asked]), n - asked):
                asked += 1
            assert verdict(answers[:asked]) == verdict(answers), (n, answers, asked)
        assert majority_settled(Counter({"f": first}), n - first)
        assert not majority_settled(Counter({"f": first - 1, None: 1}), n - first)
    assert majority_settled(Counter(), 0) and not majority_settled(Counter({None: 2}), 1)


@pytest.mark.llm
def test_replicated_draft_asks_each_meaning_once_and_second_draft_is_free(server: FakeLLMServer,
                                                                          tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    description = system_description(Topology.large())  # 2 workers x 4 GPUs
    system = sim_system(Topology.large())
    pairs = candidate_pairs(system)
    client = client_for(server, cache)
    suggester = LLMSuggester(client, n_votes=3)
    assert isinstance(suggester, Suggester) and suggester.provenance is Provenance.LLM
    estimate = suggester.dry_run(pairs, system)
    assert server.count == 0  # a dry run sends nothing

    draft = draft_graph(description, suggesters=[suggester])
    calls = server.count
    naive = len(pairs) * 3
    small = sim_system(Topology.small())
    unreplicated = LLMSuggester(None, n_votes=3).dry_run(candidate_pairs(small), small).unique
    print(f"\nLLM calls, simulator L: pairs={len(pairs)} naive={naive} unique={estimate.unique} "
          f"dry_run={estimate.calls} made={calls} usage={client.usage.to_dict()} "
          f"reduction={naive / calls:.2f}x; simulator S asks {unreplicated} questions")
    assert draft.meta["n_candidates"] == len(pairs)
    # Replicas cost nothing: the 2x4 system asks exactly the questions of the 1x1 system.
    assert estimate.unique == unreplicated
    # Every pair of L would be asked 3 times without the semantic cache; L's pairs are only 4.87x those
    # of S, so 4.87x is as far as de-duplication alone can go (retries take a little more); stopping the
    # votes at a majority goes past 5x (test_simulator_l_costs_five_times_fewer_calls_than_every_pair).
    assert naive / calls >= 4.5
    # The dry run states the cost up front, within 10 % (retries after 429s/timeouts and re-asks add a few).
    assert abs(calls - estimate.calls) <= 0.1 * calls
    assert calls >= estimate.calls
    # The latency of a callee drives the latency of its caller; votes and reasoning are kept.
    edge = draft.edge("Router-Queue_1:latency", "Router:latency")
    assert Provenance.LLM in edge.provenance
    assert edge.votes["llm:fake-atlas:b->a"] == 3
    assert "step by step" in edge.rationale
    assert not draft.has_edge("Router:latency", "Router-Queue_1:latency")
    assert draft.has_edge("Queue_0:queue_length", "Queue_0:latency")
    assert draft.has_edge("Queue_1:queue_length", "Queue_1:latency")
    # No key on disk.
    on_disk = "\n".join(p.read_text(encoding="utf-8") for p in cache.rglob("*.json"))
    assert len(list(cache.rglob("*.json"))) >= estimate.unique
    assert SECRET not in on_disk and "authorization" not in on_disk.lower()

    # A second draft of the same system, by a new client on the same cache: zero calls.
    again_client = client_for(server, cache)
    again = draft_graph(description, suggesters=[LLMSuggester(again_client, n_votes=3)])
    assert server.count == calls
    assert again_client.usage.calls == 0 and again_client.usage.cache_hits > 0
    assert LLMSuggester(again_client, n_votes=3).dry_run(pairs, system).calls == 0
    assert sorted(again.edges) == sorted(draft.edges)


@pytest.mark.llm
def test_simulator_l_costs_five_times_fewer_calls_than_every_pair(server: FakeLLMServer, tmp_path: Path) -> None:
    """Simulator L with the real openai client over HTTP (429s, a timeout and malformed answers included):
    at least 5x fewer calls than asking every pair, the dry run within 10 %, zero calls for a second
    draft, every replica's answer on its own metrics with its direction, and no key on disk."""
    cache = tmp_path / "cache"
    topology = Topology.large()
    description = system_description(topology)
    system = sim_system(topology)
    pairs = candidate_pairs(system)
    client = client_for(server, cache)
    suggester = LLMSuggester(client, n_votes=3, stop_at_majority=True)
    estimate = suggester.dry_run(pairs, system)
    assert server.count == 0 and estimate.stop_at_majority
    assert estimate.max_calls >= estimate.unique == 411 > estimate.calls

    draft = draft_graph(description, suggesters=[suggester])
    calls = server.count
    every_pair = 3 * len(pairs)
    print(f"\nLLM calls, simulator L, stop at majority: every pair={every_pair} dry run={estimate.calls} "
          f"made={calls} ratio={every_pair / calls:.2f}x usage={client.usage.to_dict()}")
    assert every_pair >= 5 * calls
    assert abs(calls - estimate.calls) <= 0.1 * calls
    assert calls >= estimate.calls

    # Every replica's answer lands on its own metrics, in its direction: GPU_k drives ModelInference_k.
    gpus = [c for c in system.components if c.startswith("GPU_")]
    assert len(gpus) == topology.workers * topology.gpus_per_worker == 8
    for gpu in gpus:
        k = gpu.split("_")[1]
        edge = draft.edge(f"{gpu}:utilization", f"ModelInference_{k}:latency")
        assert Provenance.LLM in edge.provenance and edge.votes["llm:fake-atlas:b->a"] == 2
        assert not draft.has_edge(f"ModelInference_{k}:latency", f"{gpu}:utilization")
        others = [g for g in gpus if g != gpu]
        assert not any(draft.has_edge(f"{g}:utilization", f"ModelInference_{k}:latency") for g in others)
    for w in range(topology.workers):
        assert draft.has_edge(f"Router-Queue_{w}:latency", "Router:latency")
        assert draft.has_edge(f"Queue_{w}:queue_length", f"Queue_{w}:latency")
        assert not draft.has_edge("Router:latency", f"Router-Queue_{w}:latency")

    # No key on disk, in any file the cache wrote.
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert len(files) >= estimate.calls
    on_disk = "\n".join(p.read_text(encoding="utf-8") for p in files)
    assert SECRET not in on_disk and SECRET[3:] not in on_disk and "authorization" not in on_disk.lower()

    # A second draft of the same system, by a new client on the same cache: the dry run says zero, and it is.
    again_client = client_for(server, cache)
    again_suggester = LLMSuggester(again_client, n_votes=3, stop_at_majority=True)
    assert again_suggester.dry_run(pairs, system).calls == 0
    again = draft_graph(description, suggesters=[again_suggester])
    assert server.count == calls and again_client.usage.calls == 0 and again_client.usage.cache_hits > 0
    assert sorted(again.edges) == sorted(draft.edges)

    # Asking all votes gives the same draft (the skipped votes could not have changed a verdict).
    full = draft_graph(description, suggesters=[LLMSuggester(again_client, n_votes=3)])
    assert sorted(full.edges) == sorted(draft.edges)


@pytest.mark.llm
def test_more_replicas_cost_at_least_five_times_fewer_calls(server: FakeLLMServer, tmp_path: Path) -> None:
    server.rules = [r for r in rules() if r.status == 200 and r.delay == 0]
    system = sim_system(Topology.of(4, 4))
    pairs = candidate_pairs(system)
    client = client_for(server, tmp_path / "cache")
    suggester = LLMSuggester(client, n_votes=3)
    estimate = suggester.dry_run(pairs, system)
    proposals = suggester.suggest(pairs, system)
    print(f"\nLLM calls, 4x4: pairs={len(pairs)} naive={3 * len(pairs)} dry_run={estimate.calls} "
          f"made={server.count} reduction={3 * len(pairs) / server.count:.2f}x")
    assert len(proposals) == len(pairs)
    assert 3 * len(pairs) >= 5 * server.count
    assert abs(server.count - estimate.calls) <= 0.1 * server.count


@pytest.mark.llm
def test_votes_abstains_and_reasks(server: FakeLLMServer, tmp_path: Path) -> None:
    server.rules = [r for r in rules() if r.status == 200 and r.delay == 0]
    server.rules.append(Rule(contains=('"throughput"', '"error_rate"'), reply="Thinking...\nA"))  # always "A"
    system = sim_system(Topology.small())
    pairs = [
        CandidatePair("Router:latency", "Router-Queue_0:latency", "invokes"),
        CandidatePair("Batcher_0:max_batch_size", "Queue_0:dequeueing_rate", "consumes"),
        CandidatePair("Batcher_0:max_batch_size", "Queue_0:enqueueing_rate", "consumes"),
        CandidatePair("ModelInference_0:error_rate", "ModelInference_0:throughput"),
    ]
    for p in pairs:
        assert p.a in system.metrics and p.b in system.metrics, p
    client = client_for(server, tmp_path / "cache")
    progress: list[tuple[int, int]] = []
    latency, malformed, reasked, by_position = LLMSuggester(client, n_votes=3, parse_retries=1).suggest(
        pairs, system, on_progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (4, 4) and all(d <= t == 4 for d, t in progress)

    assert latency.verdict is Verdict.B_CAUSES_A and latency.edge == ("Router-Queue_0:latency", "Router:latency")
    assert dict(latency.votes) == {"a->b": 0, "b->a": 3, "none": 0, "abstain": 0}
    assert latency.confidence == 1.0 and latency.provenance is Provenance.LLM
    assert latency.rationale.startswith("Let me think step by step") and latency.evidence["prompt_version"]

    # Never parseable: every vote abstains, after one re-ask each.
    assert malformed.verdict is Verdict.ABSTAIN and malformed.votes["abstain"] == 3 and malformed.confidence == 0
    asked = [r for r in server.requests if '"dequeueing_rate"' in str(r.body) and '"max_batch_size"' in str(r.body)]
    assert len(asked) == 3 * 2
    # Malformed first, fine when reminded: no abstain left.
    assert reasked.votes["abstain"] == 0 and reasked.verdict is Verdict.NO_EDGE
    # A model that always answers "A" meets three different orders: the votes split, no majority.
    assert dict(by_position.votes) == {"a->b": 1, "b->a": 1, "none": 1, "abstain": 0}
    assert by_position.verdict is Verdict.ABSTAIN

    # Stopping at a majority: two agreeing votes settle a pair; split or unparseable votes ask the third.
    before = server.count
    stopped = LLMSuggester(client_for(server, tmp_path / "stop"), n_votes=3, stop_at_majority=True).suggest(
        pairs, system)
    assert [p.verdict for p in stopped] == [latency.verdict, malformed.verdict, reasked.verdict, by_position.verdict]
    assert dict(stopped[0].votes) == {"a->b": 0, "b->a": 2, "none": 0, "abstain": 0}
    assert stopped[0].confidence == pytest.approx(2 / 3) and stopped[0].evidence["votes_asked"] == 2
    assert stopped[1].votes["abstain"] == 3 and sum(stopped[3].votes.values()) == 3
    # 2 (latency) + 3 x 2 (never parseable, re-asked) + 2 + 2 (fixed on re-ask) + 3 (split)
    assert server.count - before == 2 + 6 + 4 + 3


@pytest.mark.llm
def test_budget_stops_before_any_call_and_cancel_stops(server: FakeLLMServer, tmp_path: Path) -> None:
    system = sim_system(Topology.small())
    pairs = candidate_pairs(system)[:10]
    client = client_for(server, tmp_path / "cache", max_calls=12)
    suggester = LLMSuggester(client, n_votes=3)
    with pytest.raises(BudgetExceeded, match=r"needs 30 calls") as err:
        suggester.suggest(pairs, system)
    assert err.value.kind == "calls" and err.value.limit == 12
    assert server.count == 0
    # Within budget it runs, and the client refuses once the budget is spent.
    assert len(suggester.suggest(pairs[:2], system)) == 2
    assert server.count <= 12
    with pytest.raises(BudgetExceeded):
        suggester.suggest(pairs[2:6], system)
    assert server.count <= 12

    token = CancelToken()
    token.cancel()
    fresh = LLMSuggester(client_for(server, tmp_path / "other"), n_votes=3)
    before = server.count
    with pytest.raises(Cancelled):
        fresh.suggest(pairs, system, cancel=token)
    assert server.count == before


def test_default_suggester_is_none_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI_", "RCAKIT_LLM_")):
            monkeypatch.delenv(name, raising=False)
    assert default_suggester() is None
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # half configured: no model
    assert default_suggester() is None
    monkeypatch.setenv("RCAKIT_LLM_MODEL", "m")
    suggester = default_suggester(n_votes=5)
    assert suggester is not None and suggester.n_votes == 5 and suggester.name == "llm:m"
    assert PROMPT_VERSION
