"""The records of a review: decision kinds, decisions with their exact changes, queue items, events.

Split from :mod:`rcakit.review.session` (which re-exports them); each record reads and writes its part
of the session file.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from rcakit._types import JSONObject
from rcakit.graph.draft import CausalDraft, DraftEdge, DraftNode
from rcakit.review._autosave import FORMAT_VERSION, draft_dict, now, plain

if TYPE_CHECKING:
    from rcakit.graph.validate import SuspectEdge
    from rcakit.review._journal import DecisionJournal
    from rcakit.review.session import ReviewSession

__all__ = ["Decision", "DecisionKind", "Edge", "QueueItem", "ReviewEvent", "apply_changes", "restore_state",
           "session_state"]

Edge = tuple[str, str]


class DecisionKind(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    REVERSE = "reverse"
    ADD = "add"
    FORBID = "forbid"
    REQUIRE = "require"
    SKIP = "skip"
    REDISCOVER = "rediscover"


@dataclass
class Decision:
    """One decision and the exact changes it made (``changes`` lists before/after states)."""

    id: int
    kind: DecisionKind
    edge: Edge | None
    time: str
    reason: str = ""
    changes: list[JSONObject] = field(default_factory=list)

    def to_dict(self) -> JSONObject:
        return {"id": self.id, "kind": self.kind.value, "edge": list(self.edge) if self.edge else None,
                "time": self.time, "reason": self.reason, "changes": self.changes}

    @classmethod
    def from_dict(cls, data: JSONObject) -> Decision:
        edge = tuple(data["edge"]) if data.get("edge") else None
        return cls(int(data["id"]), DecisionKind(data["kind"]), edge, data["time"],
                   data.get("reason", ""), list(data.get("changes") or []))

    def describe(self) -> str:
        what = f"{self.edge[0]} -> {self.edge[1]}" if self.edge else ""
        return f"{self.kind.value} {what}".strip() + (f" ({self.reason})" if self.reason else "")


@dataclass
class QueueItem:
    """A suspicious edge offered for review: what validation said, and what the reviewer did (``done``)."""

    edge: Edge
    kind: str
    score: float
    reasons: list[str] = field(default_factory=list)
    evidence: JSONObject = field(default_factory=dict)
    done: str | None = None

    def to_dict(self) -> JSONObject:
        return {"edge": list(self.edge), "kind": self.kind, "score": float(self.score), "reasons": list(self.reasons),
                "evidence": json.loads(json.dumps(self.evidence, default=plain)), "done": self.done}

    @classmethod
    def from_dict(cls, data: JSONObject) -> QueueItem:
        return cls(tuple(data["edge"]), data["kind"], float(data["score"]),
                   list(data.get("reasons") or []), dict(data.get("evidence") or {}), data.get("done"))

    @classmethod
    def of(cls, suspect: SuspectEdge) -> QueueItem:
        return cls(tuple(suspect.edge), str(suspect.kind), float(suspect.score), list(suspect.reasons),  # type: ignore[arg-type]
                   dict(suspect.evidence or {}))


@dataclass(frozen=True)
class ReviewEvent:
    """What a subscriber is told: the kind of change, the decision if any, and whether edges changed."""

    kind: str
    decision: Decision | None
    graph_changed: bool


def session_state(session: ReviewSession) -> JSONObject:
    """Everything a session file holds (``ReviewSession.to_dict``)."""
    return {
        "rcakit_review": FORMAT_VERSION,
        "created": session.created,
        "saved": now(),
        "ranking": session.ranking,
        "question_order": str(session.question_order),
        "draft": draft_dict(session.draft),
        "undo": [d.to_dict() for d in session.undo_stack],
        "redo": [d.to_dict() for d in session.redo_stack],
        "history": session.history,
        "forbidden": sorted(map(list, session.forbidden)),
        "required": sorted(map(list, session.required)),
        "skipped": sorted(map(list, session.skipped)),
        "queue": [q.to_dict() for q in session.queue],
        "cursor": session.cursor,
        "next_id": session._next_id,
    }


def restore_state(session: ReviewSession, data: JSONObject) -> None:
    """Set a session's review state from a session file's dict (the inverse of :func:`session_state`)."""
    session.draft = CausalDraft.from_dict(data["draft"])
    session.created = data.get("created", now())
    session.ranking = data.get("ranking", "none")
    session.question_order = str(data.get("question_order") or "expected_gain")
    session.history = list(data.get("history") or [])
    session.undo_stack = [Decision.from_dict(d) for d in data.get("undo") or []]
    session.redo_stack = [Decision.from_dict(d) for d in data.get("redo") or []]
    session.forbidden = {(a, b) for a, b in data.get("forbidden") or []}
    session.required = {(a, b) for a, b in data.get("required") or []}
    session.skipped = {(a, b) for a, b in data.get("skipped") or []}
    session.queue = [QueueItem.from_dict(q) for q in data.get("queue") or []]
    session.cursor = int(data.get("cursor", 0))
    session._next_id = int(data.get("next_id", len(session.undo_stack) + len(session.redo_stack) + 1))


def apply_changes(session: DecisionJournal, changes: list[JSONObject], side: str) -> None:
    """Put a decision's changes back (``side="before"``, undo) or again (``"after"``, redo), exactly."""
    order = changes if side == "after" else list(reversed(changes))
    nodes = [c for c in order if c["type"] == "node"]
    if side == "after":
        for c in nodes:
            n = c["after"]
            session.draft.nodes[n["name"]] = DraftNode(n["name"], n.get("observed", True), n.get("description", ""))
    for c in order:
        kind = c["type"]
        if kind == "edge":
            key = (c["key"][0], c["key"][1])
            state = c[side]
            if state is None:
                session.draft.edges.pop(key, None)
            else:
                session.draft.edges[key] = DraftEdge.from_dict(copy.deepcopy(state))
        elif kind in ("forbidden", "required", "skipped"):
            target: set[Edge] = getattr(session, kind)
            key = (c["key"][0], c["key"][1])
            if c[side]:
                target.add(key)
            else:
                target.discard(key)
        elif kind == "queue":
            state = c[side]
            if len(state["done"]) == len(session.queue):
                for item, done in zip(session.queue, state["done"]):
                    item.done = done
                session.cursor = int(state["cursor"])
    if side == "before":
        used = {n for key in session.draft.edges for n in key}
        for c in nodes:
            name = c["name"]
            if name not in used and name != session.draft.alarm:
                session.draft.nodes.pop(name, None)
