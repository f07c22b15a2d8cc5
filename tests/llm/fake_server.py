"""The test server: rcakit's local OpenAI-compatible chat server with a rule table; the real ``openai`` client talks to it.

The HTTP part (routes, OpenAI-shaped answers and errors, request log, concurrency count) is
``rcakit.llm.server.ChatServer``, shared with ``rcakit.graph.standin.StandInModel``. This module adds what only
tests need: answers by prompt content from a rule table, malformed text, sleeping past the client's
timeout, 429s with ``Retry-After``, and rules that fire a limited number of times.

>>> with FakeLLMServer([Rule(choose=r'of \\w+ directly causes a change in "latency" of you')]) as server:
...     client = LLMClient(model="fake", base_url=server.base_url, api_key="sk-test")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rcakit.llm.server import ChatServer, Reply, Request, first_user, options_of, prompt_of

__all__ = ["NO_EDGE", "FakeLLMServer", "Request", "Rule", "options_of", "warm_up_openai"]

NO_EDGE = r"do not directly influence each other"
REASONING = "Let me think step by step. The first metric feeds the second through the request path."


@dataclass
class Rule:
    """When every ``contains`` substring is in the prompt (system + first user message), answer.

    ``choose`` is a regex: the answer is the letter of the first option it matches, after a line of
    reasoning. ``reply`` is a literal answer (for malformed ones). ``status`` other than 200 returns an
    OpenAI-shaped error with an optional ``Retry-After``. ``delay`` sleeps before answering. ``times``
    limits how often the rule fires (then later rules apply). ``reasked`` selects only first asks
    (False) or only follow-ups after an unparseable answer (True).
    """

    contains: Sequence[str] = ()
    choose: str | None = None
    reply: str | None = None
    status: int = 200
    retry_after: float | None = None
    error_message: str = "simulated error"
    delay: float = 0.0
    times: int | None = None
    reasked: bool | None = None
    fired: int = 0


@dataclass
class FakeLLMServer(ChatServer):
    rules: list[Rule] = field(default_factory=list)
    default_choose: str = NO_EDGE
    answer: Callable[[str], str] | None = None  # custom: prompt -> reply text, used when no rule fires

    def __post_init__(self) -> None:
        ChatServer.__init__(self)

    def __hash__(self) -> int:  # a server is an object with identity, not a value
        return id(self)

    def start(self) -> FakeLLMServer:
        ChatServer.start(self)
        return self

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    # -- answering -------------------------------------------------------------------------------
    def _pick(self, body: dict[str, Any]) -> tuple[int | None, Rule | None]:
        prompt = prompt_of(body)
        reasked = any(m.get("role") == "assistant" for m in body.get("messages", []))
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.reasked is not None and rule.reasked != reasked:
                    continue
                if all(s in prompt for s in rule.contains):
                    rule.fired += 1
                    return index, rule
        return None, None

    def reply(self, body: dict[str, Any]) -> Reply:
        index, rule = self._pick(body)
        if rule is None:
            return Reply(self._text(body, None), rule=None)
        if rule.status != 200:
            return Reply(status=rule.status, retry_after=rule.retry_after, error_message=rule.error_message,
                         delay=rule.delay, rule=index)
        return Reply(self._text(body, rule), delay=rule.delay, rule=index)

    def _text(self, body: dict[str, Any], rule: Rule | None) -> str:
        if rule is not None and rule.reply is not None:
            return rule.reply
        prompt = first_user(body)
        if rule is None and self.answer is not None:
            return self.answer(prompt)
        options = options_of(prompt)
        patterns = [rule.choose] if rule is not None and rule.choose else []
        for pattern in [*patterns, self.default_choose]:
            for letter, text in options.items():
                if re.search(pattern, text):
                    return f"{REASONING}\n{letter}"
        return f"{REASONING}\nB"


_warm = False


def warm_up_openai() -> None:
    """Pay the ``openai`` package's first-request cost (lazy imports, pydantic models: seconds on a cold
    disk) once per process, so that tests timing retries and timeouts measure rcakit, not the import."""
    global _warm
    if _warm:
        return
    import openai

    with FakeLLMServer() as server:
        client = openai.OpenAI(api_key="warm-up", base_url=server.base_url, max_retries=0)
        client.chat.completions.create(model="warm-up", messages=[{"role": "user", "content": "hi"}])
        client.close()
    _warm = True
