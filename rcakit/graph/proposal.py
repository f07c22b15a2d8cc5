"""What a suggester says about one pair of metrics, and the interface every suggester shares.

A suggester (systems knowledge, a language model, a data-driven learner) is handed candidate pairs
and answers each with a :class:`Proposal`: a verdict (a causes b, b causes a, no direct influence,
or abstain), a confidence or vote counts, a rationale, the rule or model behind it, and its
provenance. :class:`~rcakit.graph.draft.CausalDraft` combines proposals into edges.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from rcakit._progress import CancelToken
    from rcakit._types import JSONObject, JSONValue
    from rcakit.graph.system import SystemModel

__all__ = ["CandidatePair", "Proposal", "Provenance", "Suggester", "Verdict"]


class Verdict(StrEnum):
    A_CAUSES_B = "a->b"
    B_CAUSES_A = "b->a"
    NO_EDGE = "none"
    ABSTAIN = "abstain"


class Provenance(StrEnum):
    KNOWLEDGE = "knowledge"
    LLM = "llm"
    DATA = "data"
    HUMAN = "human"
    TRUTH = "truth"


@dataclass(frozen=True)
class CandidatePair:
    """An unordered pair of metric nodes worth asking about, and why it is a candidate.

    ``relation`` is ``"same"`` (two metrics of one component) or the interaction linking the two
    components (``"invokes"``, ``"uses"``), seen from ``a``'s component.
    """

    a: str
    b: str
    relation: str = "same"

    def key(self) -> tuple[str, str]:
        return (self.a, self.b) if self.a <= self.b else (self.b, self.a)


@dataclass(frozen=True)
class Proposal:
    """One suggester's answer for one pair."""

    a: str
    b: str
    verdict: Verdict
    provenance: Provenance
    confidence: float = 0.5
    votes: Mapping[str, int] = field(default_factory=dict)
    rationale: str = ""
    rule: str | None = None
    evidence: Mapping[str, JSONValue] = field(default_factory=dict)
    suggester: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.confidence) <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence} for {self.a} / {self.b}")

    @property
    def edge(self) -> tuple[str, str] | None:
        """The directed edge this proposal asserts (cause, effect), or None."""
        if self.verdict is Verdict.A_CAUSES_B:
            return (self.a, self.b)
        if self.verdict is Verdict.B_CAUSES_A:
            return (self.b, self.a)
        return None

    def to_dict(self) -> JSONObject:
        return {
            "a": self.a, "b": self.b, "verdict": self.verdict.value, "provenance": self.provenance.value,
            "confidence": float(self.confidence), "votes": dict(self.votes), "rationale": self.rationale,
            "rule": self.rule, "evidence": dict(self.evidence), "suggester": self.suggester,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> Proposal:
        return cls(
            a=data["a"], b=data["b"], verdict=Verdict(data["verdict"]), provenance=Provenance(data["provenance"]),
            confidence=float(data.get("confidence", 0.5)), votes=dict(data.get("votes") or {}),
            rationale=data.get("rationale", ""), rule=data.get("rule"), evidence=dict(data.get("evidence") or {}),
            suggester=data.get("suggester", ""),
        )


@runtime_checkable
class Suggester(Protocol):
    """Pairs in, proposals out. ``name`` says which suggester answered (shown in the UI)."""

    name: str
    provenance: Provenance

    def suggest(
        self,
        pairs: Sequence[CandidatePair],
        system: SystemModel,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Proposal]: ...
