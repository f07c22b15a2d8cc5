"""Language-model faults against a local OpenAI-compatible server the test starts (the real ``openai`` client).

Timeouts, 429 with Retry-After, 500s, malformed JSON, empty choices, answers outside the options, a
very slow stream and a huge answer: retries stay bounded and honour Retry-After (capped), the budget is
never exceeded, nothing broken is cached, and a pair the model cannot answer abstains, said on the
proposal, the draft, the edge and the reviewer, while ``draft_graph`` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from rcakit.graph import CandidatePair, KnowledgeSuggester, SystemModel, Verdict, draft_graph
from rcakit.graph.suggest_llm import LLMSuggester
from rcakit.llm import LLMClient, LLMConfig, LLMError
from rcakit.llm.server import ChatServer, Reply, first_user, options_of
from tests.llm.fake_server import warm_up_openai

pytestmark = pytest.mark.llm

SECRET = "sk-test-SECRET-faults-0123456789"
GOOD = "The callee's latency adds to the caller's.\n{letter}"


class FaultServer(ChatServer):
    """Answers each request with ``plan(body, number)``: a fault, or a well-formed answer."""

    def __init__(self, plan: Callable[[dict[str, Any], int], Reply]) -> None:
        super().__init__()
        self.plan = plan

    def reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            number = len(self.requests)
        return self.plan(body, number)


def answer(body: dict[str, Any]) -> Reply:
    """A good answer: the option saying there is no direct influence (or A when there is none)."""
    options = options_of(first_user(body))
    letter = next((k for k, v in options.items() if "do not directly" in v), "A")
    return Reply(GOOD.format(letter=letter))


@pytest.fixture()
def serve(clean_llm_env: None) -> Iterator[Callable[[Callable[[dict[str, Any], int], Reply]], FaultServer]]:
    warm_up_openai()
    servers: list[FaultServer] = []

    def start(plan: Callable[[dict[str, Any], int], Reply]) -> FaultServer:
        server = FaultServer(plan)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def client(server: ChatServer, tmp_path: Path, **options: Any) -> LLMClient:
    settings: dict[str, Any] = {"model": "fault-model", "base_url": server.base_url, "api_key": SECRET,
                                "cache_dir": tmp_path / "cache", "timeout": 1.0, "backoff_base": 0.01,
                                "backoff_max": 0.2, "max_retries": 2, "max_output_tokens": 64}
    settings.update(options)
    return LLMClient(LLMConfig(**settings))


def ask(c: LLMClient, n: int = 0) -> str:
    return c.chat([{"role": "user", "content": f"Question {n}?\nA. yes\nB. These two metrics do not directly "
                                               "influence each other\nC. no"}], cache_key={"q": n}).text


def cache_files(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "cache").rglob("*.json"))


# -- the client ----------------------------------------------------------------------------------------
def test_timeout_is_retried_a_bounded_number_of_times(serve: Any, tmp_path: Path) -> None:
    server = serve(lambda body, n: Reply(delay=3.0))
    c = client(server, tmp_path, timeout=0.3, max_retries=2)
    start = time.monotonic()
    with pytest.raises(LLMError, match=r"failed 3 times.*timeout=0\.3") as err:
        ask(c)
    assert time.monotonic() - start < 3.0
    assert err.value.attempts == 3 and server.count == 3
    assert c.usage.calls == 3 and c.usage.failures == 1 and not cache_files(tmp_path)


def test_retry_after_is_honoured_and_capped(serve: Any, tmp_path: Path) -> None:
    server = serve(lambda body, n: Reply(status=429, retry_after=0.4) if n == 0 else answer(body))
    c = client(server, tmp_path, backoff_base=30.0, backoff_max=60.0)
    start = time.monotonic()
    assert ask(c).endswith("B")
    assert 0.35 <= time.monotonic() - start < 5.0, "waited the server's 0.4 s, not the 30 s backoff"
    # A server asking for an hour is capped at backoff_max.
    slow = serve(lambda body, n: Reply(status=429, retry_after=3600) if n < 2 else answer(body))
    c = client(slow, tmp_path / "b", backoff_max=0.3)
    start = time.monotonic()
    assert ask(c).endswith("B")
    assert time.monotonic() - start < 3.0 and slow.count == 3


def test_retry_after_as_a_date_or_garbage(serve: Any, tmp_path: Path) -> None:
    when = formatdate(time.time() + 0.5, usegmt=True)
    dated = serve(lambda body, n: Reply(status=503, retry_after_text=when) if n == 0 else answer(body))
    c = client(dated, tmp_path, backoff_base=20.0, backoff_max=2.0)
    start = time.monotonic()
    assert ask(c).endswith("B") and time.monotonic() - start < 3.0
    junk = serve(lambda body, n: Reply(status=429, retry_after_text="soon-ish") if n == 0 else answer(body))
    c = client(junk, tmp_path / "j", backoff_base=0.05)
    assert ask(c).endswith("B") and junk.count == 2


def test_500s_are_bounded(serve: Any, tmp_path: Path) -> None:
    server = serve(lambda body, n: Reply(status=500))
    c = client(server, tmp_path, max_retries=3)
    with pytest.raises(LLMError, match=r"failed 4 times.*HTTP 500"):
        ask(c)
    assert server.count == 4 and not cache_files(tmp_path)


@pytest.mark.parametrize("fault", ["malformed JSON", "empty choices", "JSON of another kind"])
def test_unusable_answers_are_asked_again_and_never_cached(serve: Any, tmp_path: Path, fault: str) -> None:
    broken = {"malformed JSON": Reply(raw=b'{"id": "x", "choices": [{"message": {"content": "B'),
              "empty choices": Reply("B", choices=False),
              "JSON of another kind": Reply(raw=b'{"hello": "world"}')}[fault]
    server = serve(lambda body, n: broken if n < 2 else answer(body))
    c = client(server, tmp_path)
    assert ask(c).endswith("B"), "recovered on the third request"
    assert server.count == 3 and c.usage.retries == 2
    always = serve(lambda body, n: broken)
    c = client(always, tmp_path / "always")
    with pytest.raises(LLMError, match="failed 3 times"):
        ask(c)
    assert always.count == 3 and not cache_files(tmp_path / "always")


def test_a_very_slow_stream_hits_the_total_timeout(serve: Any, tmp_path: Path) -> None:
    """Every piece arrives within a read timeout; the whole answer does not arrive within ``timeout``."""
    def trickle(body: dict[str, Any], n: int) -> Reply:
        reply = answer(body)
        reply.trickle, reply.trickle_delay = 40, 0.1  # 4 s in all, a piece every 0.1 s
        return reply
    server = serve(trickle)
    c = client(server, tmp_path, timeout=0.8, max_retries=1)
    start = time.monotonic()
    with pytest.raises(LLMError, match=r"failed 2 times.*no whole answer within timeout=0\.8"):
        ask(c)
    assert time.monotonic() - start < 3.5 and server.count == 2


def test_a_huge_answer_is_refused_unread_and_within_budget(serve: Any, tmp_path: Path) -> None:
    huge = "x" * (8 << 20) + "\nB"
    server = serve(lambda body, n: Reply(huge))
    c = client(server, tmp_path, max_output_tokens=64, max_tokens=2000)
    with pytest.raises(LLMError, match="longer than max_output_tokens=64"):
        ask(c)
    assert server.count == 1, "a refused huge answer is not asked again"
    assert c.usage.total_tokens <= 2000 and not cache_files(tmp_path)
    # Over max_tokens by the server's own count (small bytes, large token claim) is refused too.
    chatty = serve(lambda body, n: Reply("word " * 200 + "\nB"))
    c = client(chatty, tmp_path / "c", max_output_tokens=64)
    with pytest.raises(LLMError, match="more than max_output_tokens=64"):
        ask(c)


def test_budget_is_never_exceeded_while_faults_force_retries(serve: Any, tmp_path: Path) -> None:
    from rcakit.llm import BudgetExceeded

    server = serve(lambda body, n: Reply(status=500) if n % 2 == 0 else answer(body))
    c = client(server, tmp_path, max_calls=5, max_retries=3)
    with pytest.raises(BudgetExceeded):
        for n in range(10):
            ask(c, n)
    assert server.count <= 5 and c.usage.calls <= 5


# -- the suggester and the draft -----------------------------------------------------------------------
def system() -> SystemModel:
    model = SystemModel(name="faults")
    for name, what in (("web", "the web front end"), ("api", "the API service"), ("db", "the database")):
        model.add_component(name, "service", what)
        for metric in ("latency", "error_rate"):
            model.add_metric(name, metric, f"the {metric.replace('_', ' ')} of {what}")
    model.add_interaction("web", "api")
    model.add_interaction("api", "db")
    return model


FAULTS: dict[str, Callable[[dict[str, Any], int], Reply]] = {
    "timeout": lambda body, n: Reply(delay=2.0),
    "429": lambda body, n: Reply(status=429, retry_after=0.01),
    "500": lambda body, n: Reply(status=500),
    "malformed JSON": lambda body, n: Reply(raw=b"{not json"),
    "empty choices": lambda body, n: Reply("A", choices=False),
    "outside the options": lambda body, n: Reply("Let me think.\nD"),
    "slow stream": lambda body, n: Reply("x\nA", trickle=30, trickle_delay=0.05),
    "huge answer": lambda body, n: Reply("y" * (4 << 20)),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_draft_graph_returns_and_shows_the_pairs_the_model_could_not_answer(
        serve: Any, tmp_path: Path, fault: str) -> None:
    from rcakit.ui import GraphReviewer

    plan = FAULTS[fault]
    # Questions about the database fail; the others are answered.
    server = serve(lambda body, n: plan(body, n) if "database" in str(body) else answer(body))
    c = client(server, tmp_path, timeout=0.5, max_retries=1, max_calls=400)
    llm = LLMSuggester(c, n_votes=3)
    started = time.monotonic()
    draft = draft_graph(system(), suggesters=[llm, KnowledgeSuggester()], enumerate_unobserved=False)
    assert time.monotonic() - started < 60
    unanswered = draft.meta.get("unanswered") or []
    assert unanswered, "the pairs the model did not answer are listed on the draft"
    assert all("db:" in " ".join(u["pair"]) for u in unanswered)
    assert all(llm.name in u["suggesters"] for u in unanswered)
    # An edge other suggesters proposed for such a pair says the model did not answer it.
    edges = [e for e in draft.edges.values() if "unanswered" in e.evidence]
    for edge in edges:
        assert "gave no usable answer" in edge.rationale and llm.name in edge.evidence["unanswered"]
    assert c.usage.calls <= 400
    reviewer = GraphReviewer(draft, path=tmp_path / "review.json", start=False)
    assert f"{len(unanswered)} pairs unanswered" in reviewer.summary["text"]
    if edges:
        details = reviewer.select_edge(edges[0].source, edges[0].target)
        assert "unanswered" in details["evidence"]


def test_an_unanswerable_pair_abstains_with_the_reason(serve: Any, tmp_path: Path) -> None:
    server = serve(lambda body, n: Reply(status=500))
    llm = LLMSuggester(client(server, tmp_path, max_retries=1), n_votes=3)
    pair = CandidatePair("api:latency", "db:latency", relation="invokes")
    (proposal,) = llm.suggest([pair], system())
    assert proposal.verdict is Verdict.ABSTAIN and proposal.confidence == 0
    assert "gave no usable answer" in proposal.rationale and "HTTP 500" in proposal.rationale
    assert proposal.evidence["unanswered"]["votes"] == 3
    assert server.count == 3 * 2, "three votes, each tried twice"
