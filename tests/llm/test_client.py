"""The client against a local OpenAI-compatible server, through the real ``openai`` package over HTTP."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from rcakit.llm import BudgetExceeded, Estimate, LLMClient, LLMConfig, LLMError, Provider
from tests.llm.fake_server import FakeLLMServer, Rule

pytestmark = pytest.mark.llm

SECRET = "sk-test-SECRET-0123456789abcdef"


def make_client(server: FakeLLMServer, cache: Path, **options: object) -> LLMClient:
    settings: dict[str, object] = {"model": "fake-model", "base_url": server.base_url, "api_key": SECRET,
                                   "cache_dir": cache, "timeout": 5.0, "backoff_base": 0.05, "max_retries": 3}
    settings.update(options)
    return LLMClient(LLMConfig(**settings))  # type: ignore[arg-type]


def ask(client: LLMClient, n: int, **kwargs: object) -> str:
    messages = [{"role": "user", "content": f"Question {n}?\nA. yes\nB. These two metrics do not directly "
                                            "influence each other\nC. no"}]
    return client.chat(messages, cache_key={"question": n}, **kwargs).text  # type: ignore[arg-type]


def files_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file())


def test_answers_are_cached_on_disk_and_usage_is_counted(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    client = make_client(fake_llm, tmp_path / "cache")
    first = client.chat([{"role": "user", "content": "A. x\nB. do not directly influence each other"}],
                        cache_key={"q": 1}, prompt_version="v1")
    assert first.text.splitlines()[-1] == "B" and not first.cached
    assert fake_llm.count == 1
    again = LLMClient(client.config).chat([{"role": "user", "content": "different words, same meaning"}],
                                          cache_key={"q": 1}, prompt_version="v1")
    assert again.cached and again.text == first.text
    assert fake_llm.count == 1
    usage = client.usage
    assert usage.calls == 1 and usage.cache_hits == 0
    assert usage.prompt_tokens == first.prompt_tokens > 0 and usage.completion_tokens == first.completion_tokens > 0
    # A new prompt version is a new question.
    client.chat([{"role": "user", "content": "A. x\nB. do not directly influence each other"}],
                cache_key={"q": 1}, prompt_version="v2")
    assert fake_llm.count == 2
    assert len(client.cache) == 2
    # The one-prompt form the report writer uses.
    text = client.complete("A. x\nB. do not directly influence each other", system="You are an SRE.",
                           cache_key="report-1")
    assert text.splitlines()[-1] == "B" and fake_llm.requests[-1].body["messages"][0]["role"] == "system"


def test_no_key_in_cache_logs_or_errors(fake_llm: FakeLLMServer, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_llm.rules = [Rule(contains=("Question 3",), status=401,
                           error_message=f"Incorrect API key provided: {SECRET}. Authorization: Bearer {SECRET}")]
    cache = tmp_path / "cache"
    client = make_client(fake_llm, cache)
    ask(client, 1)
    ask(client, 2)
    with pytest.raises(LLMError) as err:
        ask(client, 3)
    # The key was really used (the server saw it) ...
    assert all(r.headers.get("authorization") == f"Bearer {SECRET}" for r in fake_llm.requests)
    # ... but it is nowhere on disk, in the logs, or in the error.
    on_disk = files_text(cache)
    assert on_disk and SECRET not in on_disk and "Bearer" not in on_disk and "authorization" not in on_disk.lower()
    assert SECRET not in str(err.value) and SECRET not in repr(err.value)
    assert err.value.status == 401 and "API key" in str(err.value)
    assert SECRET not in caplog.text
    assert fake_llm.count == 3  # a 401 is not retried


def test_429_with_retry_after_is_retried_and_succeeds(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    fake_llm.rules = [Rule(status=429, retry_after=0.2, times=2)]
    # A long exponential backoff: finishing quickly proves the server's Retry-After was honoured.
    client = make_client(fake_llm, tmp_path / "cache", backoff_base=20.0, backoff_max=60.0)
    start = time.monotonic()
    assert ask(client, 1).splitlines()[-1] == "B"
    elapsed = time.monotonic() - start
    assert fake_llm.count == 3
    assert 0.4 <= elapsed < 5.0
    assert client.usage.retries == 2 and client.usage.calls == 3 and client.usage.failures == 0


def test_timeouts_and_5xx_are_retried_within_bounds(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    fake_llm.rules = [Rule(contains=("Question 1",), delay=2.0, times=1),
                      Rule(contains=("Question 2",), status=503, times=2)]
    client = make_client(fake_llm, tmp_path / "cache", timeout=0.5, max_retries=2)
    start = time.monotonic()
    assert ask(client, 1).splitlines()[-1] == "B"
    assert ask(client, 2).splitlines()[-1] == "B"
    assert time.monotonic() - start < 5.0
    assert fake_llm.count == 2 + 3
    assert client.usage.retries == 3

    fake_llm.rules = [Rule(status=500)]  # never recovers
    with pytest.raises(LLMError, match=r"failed 3 times.*HTTP 500") as err:
        ask(client, 9)
    assert err.value.attempts == 3
    assert fake_llm.count == 5 + 3


def test_call_budget_stops_before_exceeding(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    client = make_client(fake_llm, tmp_path / "cache", max_calls=3)
    for n in range(3):
        ask(client, n)
    with pytest.raises(BudgetExceeded, match="max_calls=3") as err:
        ask(client, 3)
    assert err.value.kind == "calls" and err.value.limit == 3
    assert fake_llm.count == 3
    ask(client, 0)  # cached answers cost nothing
    assert fake_llm.count == 3 and client.usage.cache_hits == 1
    with pytest.raises(BudgetExceeded, match="needs 2 calls"):
        client.check_budget(Estimate(calls=2, prompt_tokens=10))


def test_token_budget_refuses_before_sending(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    client = make_client(fake_llm, tmp_path / "cache", max_tokens=600, max_output_tokens=256)
    ask(client, 1)
    spent = client.usage.total_tokens
    assert 0 < spent < 600
    with pytest.raises(BudgetExceeded, match="token budget") as err:
        for n in range(2, 10):
            ask(client, n)
    assert err.value.kind == "tokens"
    assert client.usage.total_tokens <= 600
    assert fake_llm.count == client.usage.calls


def test_thread_pool_is_bounded_and_keeps_order(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    fake_llm.rules = [Rule(delay=0.3)]
    client = make_client(fake_llm, tmp_path / "cache", max_concurrency=4)
    seen: list[tuple[int, int]] = []
    start = time.monotonic()
    texts = client.map(lambda n: (n, ask(client, n)), range(8), on_progress=lambda d, t: seen.append((d, t)))
    elapsed = time.monotonic() - start
    assert [n for n, _ in texts] == list(range(8))
    assert fake_llm.max_in_flight == 4
    assert elapsed < 8 * 0.3  # in parallel, not one after another
    assert seen[-1] == (8, 8)


def test_azure_endpoint_shape(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    config = LLMConfig(model="gpt-4o", provider=Provider.AZURE, base_url=fake_llm.root, api_key=SECRET,
                       azure_deployment="my-deployment", api_version="2024-06-01", cache_dir=tmp_path / "c")
    client = LLMClient(config)
    assert ask(client, 1).splitlines()[-1] == "B"
    request = fake_llm.requests[-1]
    assert request.path.startswith("/openai/deployments/my-deployment/chat/completions")
    assert "api-version=2024-06-01" in request.path
    assert request.headers.get("api-key") == SECRET
    assert SECRET not in files_text(tmp_path / "c")
