"""The question an Atlas agent is asked about one candidate pair, and how its answer is read.

:func:`build_question` frames a :class:`~rcakit.graph.proposal.CandidatePair` as Atlas's
multiple-choice question (Appendix B): which component is the agent, how the other one relates, the
two metrics with their descriptions, and the three options in the order of the vote (:data:`ORDERS`).
Everything in a :class:`Question` is meaning, never a replica's name, so replicas share one question
(the semantic cache). :func:`parse_choice` reads the option letter off the answer's last line.
:class:`~rcakit.graph.suggest_llm.LLMSuggester` asks these questions, counts the votes and caches the
answers; import the public names from :mod:`rcakit.graph.suggest_llm`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from rcakit.errors import DataError
from rcakit.graph.proposal import CandidatePair
from rcakit.graph.system import Component, ComponentKind, InteractionKind, SystemModel, template_of

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = [
    "LETTERS",
    "MAX_RATIONALE",
    "ORDERS",
    "PROMPT_VERSION",
    "RELATIONS",
    "REMINDER",
    "Question",
    "build_question",
    "parse_choice",
]


PROMPT_VERSION = "atlas-b.1"
LETTERS = ("A", "B", "C")
REMINDER = ("Your last line was not a single option letter. Please answer again: think step by step, then put "
            "only one letter from [A, B, C] as the only content of the last line.")
MAX_RATIONALE = 800
#: How the other component relates to the agent (the candidate generator's relation names).
RELATIONS = ("invokes", "uses", "consumes", "request_path")


class _Option(StrEnum):
    FORWARD = "forward"    # the agent's metric drives the other metric
    NONE = "none"          # no direct influence
    BACKWARD = "backward"  # the other metric drives the agent's metric


_F, _N, _B = _Option.FORWARD, _Option.NONE, _Option.BACKWARD
# Cyclic shifts put every option once in every place (a Latin square over three votes); the mirrored
# order follows for votes four to six.
ORDERS: tuple[tuple[_Option, _Option, _Option], ...] = (
    (_F, _N, _B), (_N, _B, _F), (_B, _F, _N),
    (_F, _B, _N), (_B, _N, _F), (_N, _F, _B),
)

_LAST_LINE = re.compile(
    r"^[*_`\s]*(?:(?i:(?:final\s+)?answer|option|choice)\s*[:\-]?\s*)?[*_`\s]*\(?([ABC])\)?[*_`\s]*\.?[*_`\s]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_choice(text: str) -> str | None:
    """The option letter on the last non-empty line, or None when that line is anything else.

    Accepts ``C``, ``C.``, ``(C)``, ``**C**``, ``Answer: C``; rejects ``C or A``, ``I pick C``, a line
    of prose, an empty answer.
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return None
    match = _LAST_LINE.match(lines[-1])
    return match.group(1) if match else None


def _reasoning(text: str) -> str:
    lines = [line for line in (text or "").splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    body = "\n".join(lines[:-1]).strip() if lines else ""
    if len(body) > MAX_RATIONALE:
        body = body[: MAX_RATIONALE - 1].rstrip() + "…"
    return body


def _clean(text: str, limit: int = 600) -> str:
    """Names and descriptions are data: one line, no control characters, bounded length."""
    text = _CONTROL.sub(" ", str(text or ""))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _name(text: str) -> str:
    return _clean(text, 120).replace('"', "'")


def _sentence(text: str) -> str:
    return _clean(text).rstrip(" .")


@dataclass(frozen=True)
class Question:
    """One question as the model sees it; everything in it is meaning, nothing is a replica's name.

    ``metric``/``other_metric`` belong to the agent and to the other component (the agent again when
    ``relation`` is ``"same"``); ``order`` is the order of the three options; ``sample`` tells apart
    repeated questions with the same order (more than six votes).
    """

    agent: str
    agent_kind: str
    agent_description: str
    relation: str  # "same", one of RELATIONS, or "interacts" (agent -> other)
    other: str
    other_kind: str
    other_description: str
    metric: str
    metric_description: str
    other_metric: str
    other_metric_description: str
    order: tuple[str, str, str]
    sample: int = 0

    def semantic(self) -> JSONObject:
        return {
            "agent": {"template": self.agent, "kind": self.agent_kind, "description": self.agent_description},
            "other": {"template": self.other, "kind": self.other_kind, "description": self.other_description},
            "relation": self.relation,
            "metrics": [[self.metric, self.metric_description], [self.other_metric, self.other_metric_description]],
            "order": list(self.order),
            "sample": self.sample,
        }

    def _option_text(self, option: str) -> str:
        who = "you" if self.relation == "same" else self.other
        if option == _Option.FORWARD:
            return f'A change in "{self.metric}" of you directly causes a change in "{self.other_metric}" of {who}.'
        if option == _Option.BACKWARD:
            return f'A change in "{self.other_metric}" of {who} directly causes a change in "{self.metric}" of you.'
        return ("These two metrics do not directly influence each other, even if they might be correlated "
                "through other components in the system.")

    def messages(self) -> list[dict[str, str]]:
        job = f" and your job is: {self.agent_description}." if self.agent_description else "."
        system = (f"You are a {self.agent_kind} named {self.agent} in a software system{job} You are about to "
                  "figure out the causal relationship between a metric of you and a metric of another system "
                  "component.")
        parts: list[str] = []
        other_job = f", whose job is: {self.other_description}." if self.other_description else "."
        if self.relation == "invokes":
            parts.append(f"{self.other} is the next service that requests will invoke after you finish "
                         f"processing them{other_job}")
            owner = "the next service"
        elif self.relation == "uses":
            what = f", which is: {self.other_description}." if self.other_description else "."
            parts.append(f"{self.other} is a resource that you use{what}")
            owner = "the resource"
        elif self.relation == "consumes":
            parts.append(f"{self.other} is a queue that you take requests from{other_job}")
            owner = "the queue"
        elif self.relation == "request_path":
            parts.append(f"{self.other} is a {self.other_kind} on the path of your requests{other_job}")
            owner = "that component"
        elif self.relation == "interacts":
            parts.append(f"{self.other} is a {self.other_kind} that directly interacts with you{other_job}")
            owner = self.other
        else:
            owner = "you"
        means = f" and it means {self.metric_description}." if self.metric_description else "."
        parts.append(f"{self.metric} is a metric of you{means}")
        other_means = f" and it means {self.other_metric_description}." if self.other_metric_description else "."
        if owner == "you":
            parts.append(f"{self.other_metric} is another metric of you{other_means}")
        else:
            parts.append(f"{self.other_metric} is a metric of {owner}{other_means}")
        parts.append("If we can only choose one, which of the following cause-and-effect relationship is more likely?")
        user = " ".join(parts) + "\n"
        for letter, option in zip(LETTERS, self.order):
            user += f"{letter}. {self._option_text(option)}\n"
        user += ("Please think step by step to make sure that you have the right answer. Please select from one "
                 "of the following options: [A, B, C] as the final answer. Put it as the only content in the "
                 "last line.")
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def option_of(self, letter: str) -> str:
        return self.order[LETTERS.index(letter)]


@dataclass(frozen=True)
class _Framing:
    """How a pair is asked: who the agent is, and whether the agent's metric is the pair's ``b``."""

    agent: Component
    other: Component
    relation: str
    metric: tuple[str, str]
    other_metric: tuple[str, str]
    flipped: bool


def _component(system: SystemModel, entity: str) -> Component:
    comp = system.components.get(entity)
    return comp if comp is not None else Component(entity)


def _metric(system: SystemModel, node: str) -> tuple[str, str]:
    metric = node.partition(":")[2]
    info = system.metrics.get(node)
    return (_name(metric), _sentence(info.description) if info is not None else "")


def _frame(pair: CandidatePair, system: SystemModel,
           links: dict[tuple[str, str], str] | None = None) -> _Framing:
    for node in (pair.a, pair.b):
        if ":" not in node:
            raise DataError(f"candidate pair node {node!r} is not an 'entity:metric' name",
                            hint="Build pairs from SystemModel.nodes()")
    ea, eb = pair.a.split(":", 1)[0], pair.b.split(":", 1)[0]
    ma, mb = _metric(system, pair.a), _metric(system, pair.b)
    if ea == eb:
        comp = _component(system, ea)
        # Put the two metrics in a fixed order, so that (a, b) and (b, a) are one question.
        if (ma[0], ma[1]) <= (mb[0], mb[1]):
            return _Framing(comp, comp, "same", ma, mb, False)
        return _Framing(comp, comp, "same", mb, ma, True)
    links = links if links is not None else _links(system)
    forward, backward = (ea, eb) in links, (eb, ea) in links
    ca, cb = _component(system, ea), _component(system, eb)
    relation = (pair.relation or "").lower()
    if relation in RELATIONS:
        # Candidate pairs put the source side (caller, user, consumer, request) in ``a``; trust the
        # system's own interactions when the pair was built the other way round.
        if backward and not forward:
            return _Framing(cb, ca, relation, mb, ma, True)
        return _Framing(ca, cb, relation, ma, mb, False)
    if forward:
        return _Framing(ca, cb, links[(ea, eb)], ma, mb, False)
    if backward:
        return _Framing(cb, ca, links[(eb, ea)], mb, ma, True)
    if relation.endswith("_by") or relation in ("invoked", "used", "called_by"):
        kind = InteractionKind.USES.value if relation.startswith("use") else InteractionKind.INVOKES.value
        return _Framing(cb, ca, kind, mb, ma, True)
    return _Framing(ca, cb, "interacts", ma, mb, False)


def _links(system: SystemModel) -> dict[tuple[str, str], str]:
    links: dict[tuple[str, str], str] = {}
    for inter in system.interactions:
        links.setdefault((inter.source, inter.target), inter.kind.value)
    return links


def _describe(comp: Component) -> str:
    """A component's description as its template's: a replica's own name or number (``worker 1`` in the
    description of ``Router-Queue_1``) does not change what it does, so it must not split the cache."""
    text = comp.description or ""
    if comp.template and comp.name != comp.template:
        text = text.replace(comp.name, comp.template)
        for index in sorted(set(re.findall(r"[_-](\d+)(?=-|$)", comp.name))):
            text = re.sub(rf"(?<![\w.]){index}(?![\w.])", "N", text)
    return _sentence(text)


def _kind_word(comp: Component) -> str:
    return {ComponentKind.REQUEST: "request", ComponentKind.RESOURCE: "resource"}.get(comp.kind, "service")


def build_question(pair: CandidatePair, system: SystemModel, vote: int = 0) -> tuple[Question, bool]:
    """The question asked for ``pair`` at vote number ``vote``, and whether its agent's metric is ``pair.b``."""
    questions, flipped = _questions(pair, system, [vote])
    return questions[0], flipped


def _questions(pair: CandidatePair, system: SystemModel, votes: Sequence[int],
               links: dict[tuple[str, str], str] | None = None) -> tuple[list[Question], bool]:
    f = _frame(pair, system, links)
    same = f.relation == "same"
    base = {
        "agent": _name(f.agent.template or template_of(f.agent.name)), "agent_kind": _kind_word(f.agent),
        "agent_description": _describe(f.agent), "relation": f.relation,
        "other": "" if same else _name(f.other.template or template_of(f.other.name)),
        "other_kind": "" if same else _kind_word(f.other),
        "other_description": "" if same else _describe(f.other),
        "metric": f.metric[0], "metric_description": f.metric[1],
        "other_metric": f.other_metric[0], "other_metric_description": f.other_metric[1],
    }
    questions = [Question(**base, order=tuple(o.value for o in ORDERS[v % len(ORDERS)]),  # type: ignore[arg-type]
                          sample=v // len(ORDERS)) for v in votes]
    return questions, f.flipped
