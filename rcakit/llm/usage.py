"""What talking to a language model costs: token estimates, ``Usage``, a dry run's ``Estimate``, one ``ChatResult``.

The records :class:`~rcakit.llm.LLMClient` fills and returns (import them from :mod:`rcakit.llm`);
tokens are estimated at about four characters each where a server reports none.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["CHARS_PER_TOKEN", "TOKENS_PER_MESSAGE", "ChatResult", "Estimate", "Message", "Usage",
           "estimate_message_tokens", "estimate_tokens"]

Message = Mapping[str, str]


CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    """A rough token count: about four characters per token (good enough for a budget, not for billing)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_message_tokens(messages: Sequence[Message]) -> int:
    return sum(estimate_tokens(str(m.get("content", ""))) + TOKENS_PER_MESSAGE for m in messages) + 2


@dataclass(frozen=True)
class Usage:
    """What a client has spent: requests sent (``calls``, retries included), answers served from the cache,
    retries, failures and tokens in and out (as the server reported them, or estimated when it did not)."""

    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, int]:
        return {**asdict(self), "total_tokens": self.total_tokens}

    def __sub__(self, other: Usage) -> Usage:
        return Usage(**{k: getattr(self, k) - getattr(other, k) for k in asdict(self)})

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:,}</td></tr>" for k, v in self.to_dict().items())
        return f"<b>LLM usage</b><table>{rows}</table>"


@dataclass(frozen=True)
class Estimate:
    """What a job will cost before it runs (a dry run).

    ``questions`` is how many questions the job asks (pairs times votes), ``unique`` how many remain
    after semantic de-duplication (replicas asked once), ``cached`` how many of those are already in
    the cache, ``calls`` the requests it will send if every answer parses (``unique - cached``), and
    ``max_calls`` the most it can send when unparseable answers are asked again. Tokens use the
    four-characters-per-token estimate; ``max_completion_tokens`` is the ceiling the budget reserves.
    With ``stop_at_majority`` a question's later votes are sent only while the winner is still open:
    ``calls`` then counts the votes sent when the answers agree, ``max_calls`` every vote.
    """

    calls: int
    prompt_tokens: int
    max_completion_tokens: int = 0
    questions: int = 0
    unique: int = 0
    cached: int = 0
    max_calls: int = 0
    pairs: int = 0
    model: str = ""
    stop_at_majority: bool = False

    def to_dict(self) -> JSONObject:
        return asdict(self)

    def summary(self) -> str:
        what = f"{self.pairs} pairs, " if self.pairs else ""
        when = " if each question's first votes agree" if self.stop_at_majority else ""
        return (f"{what}{self.questions} questions, {self.unique} after semantic de-duplication, {self.cached} "
                f"cached: {self.calls} calls to {self.model or 'the model'}{when} (at most {self.max_calls} with "
                f"{'all votes and ' if self.stop_at_majority else ''}re-asks), about {self.prompt_tokens:,} "
                f"prompt tokens and at most {self.max_completion_tokens:,} answer tokens")

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<b>LLM dry run</b>: {html.escape(self.summary())}"


@dataclass(frozen=True)
class ChatResult:
    """One answer: its text, whether it came from the cache, its tokens and how many requests it took."""

    text: str
    cached: bool
    key: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0
