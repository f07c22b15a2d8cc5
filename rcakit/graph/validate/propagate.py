"""A reviewer's answer on one edge carried to the edges of the same kind (Atlas: "apply to all similar edges").

Replicas of a component share their structure: if ``GPU_3:utilization -> ModelInference_3:latency``
is right, so is ``GPU_k:utilization -> ModelInference_k:latency`` for every replica k. And a drafter's
errors follow its rules: a rule that got ``X:request_rate -> X:net_retransmits`` backwards got it
backwards on every component. After (or with) an answer on one edge, :func:`similar_changes` lists
what the same answer means for every other pair of that kind: edges to accept, reverse, reject or
add. The list is a suggestion for the reviewer to read and confirm in one click
(``ReviewSession.decide_similar``); nothing is applied without it.

Two scopes of "similar":

* ``replicas``: the kind of :func:`~rcakit.graph.validate._patterns.pair_kind` (component names with
  their digits masked): both ends of the same component number (``GPU_3`` and ``ModelInference_3``),
  or only one end numbered (``ModelInference_3:error_rate -> Client:error_rate``). Pairs of different
  numbers (``Queue_0 -> ModelInference_3``) depend on the topology and do not propagate.
* ``role``: the same two metrics on components related the same way in the system model: one
  component (``X:a -> X:b`` for every component X), or along every call (``callee:latency ->
  caller:latency``) or every use of a resource. Components the system does not relate never form one.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.graph.validate._patterns import node_kind, pair_kind

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["ANSWERS", "SCOPES", "Propagation", "relations", "similar_changes", "similar_pairs"]

Answer = Literal["accept", "reverse", "reject"]
#: The answers that propagate: the edge is right, it points the other way, or it should not be there.
ANSWERS: tuple[Answer, ...] = ("accept", "reverse", "reject")
#: What a change does to one similar pair.
Action = Literal["accept", "reverse", "reject", "add"]
Scope = Literal["replicas", "role"]
#: The scopes of "similar", narrowest first.
SCOPES: tuple[Scope, ...] = ("replicas", "role")


@dataclass
class Propagation:
    """What one answer on ``anchor`` means for the other pairs of its kind.

    ``changes``: (source, target, action) for every similar pair whose state the answer changes
    (``accept`` a proposed edge, ``reverse`` one that points the other way, ``add`` one the draft
    lacks, ``reject`` one that should not be there), each shown before it is applied.
    ``conflicts``: similar pairs a human already decided the other way; a propagation with
    conflicts is not offered (the kind is not uniform).
    """

    anchor: tuple[str, str]
    answer: Answer
    kind: tuple[str, ...]
    changes: list[tuple[str, str, Action]] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    scope: Scope = "replicas"

    @property
    def offered(self) -> bool:
        """True when there is something to apply and no human decision contradicts it."""
        return bool(self.changes) and not self.conflicts

    def describe(self) -> str:
        u, v = self.anchor
        what = {"accept": f"{u} -> {v}", "reverse": f"{v} -> {u}", "reject": f"no {u} -> {v}"}[self.answer]
        counts: dict[str, int] = {}
        for _, _, action in self.changes:
            counts[action] = counts.get(action, 0) + 1
        parts = ", ".join(f"{n} to {a}" for a, n in sorted(counts.items()))
        pairs = "replicas" if self.scope == "replicas" else "pairs of components related the same way"
        return f"the same for the similar {pairs} as for {what}: {parts or 'nothing to change'}"

    def to_dict(self) -> JSONObject:
        return {"anchor": list(self.anchor), "answer": self.answer, "kind": list(self.kind), "scope": self.scope,
                "changes": [[s, t, a] for s, t, a in self.changes], "conflicts": [list(c) for c in self.conflicts]}

    @classmethod
    def from_dict(cls, data: JSONObject) -> Propagation:
        return cls(tuple(data["anchor"]), data["answer"], tuple(data["kind"]),
                   [(s, t, a) for s, t, a in data.get("changes") or []],
                   [(a, b) for a, b in data.get("conflicts") or []], data.get("scope", "replicas"))

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{html.escape(a)} {html.escape(s)} &rarr; {html.escape(t)}</li>" for s, t, a in self.changes)
        return f"<div>{html.escape(self.describe())}<ul>{rows}</ul></div>"


def relations(draft: CausalDraft) -> dict[tuple[str, str], str]:
    """How each ordered pair of related components relates in the draft's system model.

    ``calls`` (the first invokes the second), ``uses`` (the first uses the resource), and their
    ``-back`` forms for the other way round; unrelated pairs are absent.
    """
    out: dict[tuple[str, str], str] = {}
    for inter in (draft.system.interactions if draft.system is not None else []):
        verb = "uses" if str(getattr(inter, "kind", "invokes")) == "uses" else "calls"
        out[(inter.source, inter.target)] = verb
        out.setdefault((inter.target, inter.source), f"{verb}-back")
    return out


def _role(u: str, v: str, related: dict[tuple[str, str], str]) -> tuple[str, str, str]:
    eu, _, mu = u.partition(":")
    ev, _, mv = v.partition(":")
    return mu, mv, "same" if eu == ev else related.get((eu, ev), "unrelated")


def similar_pairs(draft: CausalDraft, u: str, v: str, scope: Scope = "replicas", *,
                  related: dict[tuple[str, str], str] | None = None) -> list[tuple[str, str]]:
    """The other ordered pairs of observed nodes similar to ``u -> v`` in ``scope`` (empty when it does not propagate).

    ``related``: :func:`relations` of the draft, when the caller has it already.
    """
    observed = [name for name, node in draft.nodes.items() if node.observed]
    if scope == "role":
        related = relations(draft) if related is None else related
        role = _role(u, v, related)
        if role[2] == "unrelated":
            return []
        by_metric: dict[str, list[str]] = {}
        for name in observed:
            by_metric.setdefault(name.partition(":")[2], []).append(name)
        return sorted((a, b) for a in by_metric.get(role[0], []) for b in by_metric.get(role[1], [])
                      if a != b and (a, b) != (u, v) and _role(a, b, related) == role)
    kind = pair_kind(u, v)
    if kind[4] == "differ" or (kind[4] == "none" and not (node_kind(u)[2] or node_kind(v)[2])):
        return []
    sources = [n for n in observed if node_kind(n)[:2] == kind[:2]]
    targets = [n for n in observed if node_kind(n)[:2] == kind[2:4]]
    return sorted((a, b) for a in sources for b in targets
                  if a != b and (a, b) != (u, v) and pair_kind(a, b) == kind)


def similar_changes(draft: CausalDraft, edge: tuple[str, str], answer: Answer | str, *,
                    forbidden: Iterable[tuple[str, str]] = (), scope: Scope = "replicas",
                    related: dict[tuple[str, str], str] | None = None) -> Propagation:
    """What ``answer`` on ``edge`` (as asked: a drafted edge or a missing one) means for the pairs of its kind.

    ``accept``: every similar pair linked the same way (proposed ones accepted, reversed ones
    reversed, absent ones added); ``reverse``: every similar pair linked the other way; ``reject``:
    every similar edge of that direction rejected. Edges a human accepted or rejected are never
    changed: one that disagrees is a conflict. ``forbidden``: pairs a reviewer ruled out (absent
    from the draft). ``scope``: ``replicas`` or ``role`` (see the module docstring).
    """
    if answer not in ANSWERS:
        raise ValueError(f"answer must be one of {list(ANSWERS)}, got {answer!r}")
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {list(SCOPES)}, got {scope!r}")
    u, v = edge
    src, dst = (v, u) if answer == "reverse" else (u, v)
    if scope == "role":
        related = relations(draft) if related is None else related
        kind: tuple[str, ...] = _role(src, dst, related)
    else:
        kind = pair_kind(src, dst)
    out = Propagation((u, v), answer, kind, scope=scope)
    banned = {tuple(p) for p in forbidden}
    for a, b in similar_pairs(draft, src, dst, scope, related=related):
        if (a, b) == (dst, src):
            continue
        _change(draft, a, b, answer, banned, out)
    return out


def _change(draft: CausalDraft, a: str, b: str, answer: str, banned: set[tuple[str, ...]], out: Propagation) -> None:
    forward, backward = draft.edges.get((a, b)), draft.edges.get((b, a))
    if answer == "reject":
        if forward is None or forward.status is EdgeStatus.REJECTED:
            return
        if forward.status is EdgeStatus.ACCEPTED:
            out.conflicts.append((a, b))
        else:
            out.changes.append((a, b, "reject"))
        return
    # accept / reverse: the pair should be a -> b
    if forward is not None and forward.status is EdgeStatus.ACCEPTED:
        return
    if (forward is not None and forward.status is EdgeStatus.REJECTED) or (a, b) in banned or (
            backward is not None and backward.status is EdgeStatus.ACCEPTED):
        out.conflicts.append((a, b))
    elif forward is not None:
        out.changes.append((a, b, "accept"))
    elif backward is not None and backward.status is EdgeStatus.PROPOSED:
        out.changes.append((b, a, "reverse"))
    else:
        out.changes.append((a, b, "add"))
