"""The decision log of a review: what each decision changed, exact undo and redo, and who is told.

:class:`DecisionJournal` is the part of :class:`~rcakit.review.session.ReviewSession` that records a
decision: it snapshots the edges a decision may touch (every edge for a decision on the whole graph),
runs the edit, and keeps the difference (edges, nodes, the forbidden/required/skipped sets, the queue)
so that undo and redo put back exactly what changed. After every change the session saves
(:meth:`ReviewSession._save`) and its subscribers hear a :class:`~rcakit.review._records.ReviewEvent`.
The edits themselves, the queue, persistence and display stay in ``session.py``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator

from rcakit._types import JSONObject
from rcakit.graph.draft import CausalDraft
from rcakit.review._autosave import now as _now
from rcakit.review._records import Decision, DecisionKind, Edge, QueueItem, ReviewEvent, apply_changes

__all__ = ["DecisionJournal"]

#: The session's logger (a failing subscriber is logged under the name it always had).
_log = logging.getLogger("rcakit.review.session")


class DecisionJournal:
    """Decisions with exact undo/redo and subscribers; the base of :class:`~rcakit.review.session.ReviewSession`."""

    draft: CausalDraft
    history: list[JSONObject]
    undo_stack: list[Decision]
    redo_stack: list[Decision]
    forbidden: set[Edge]
    required: set[Edge]
    skipped: set[Edge]
    queue: list[QueueItem]
    cursor: int
    _next_id: int
    _subscribers: list[Callable[[ReviewEvent], object]]

    def _save(self) -> None:
        """Write the session after a change (the session's autosave)."""
        raise NotImplementedError

    # -- decisions ---------------------------------------------------------------------------------
    @property
    def decisions(self) -> list[Decision]:
        """The decisions in force, oldest first (undone ones sit on :attr:`redo_stack`)."""
        return list(self.undo_stack)

    @property
    def can_undo(self) -> bool:
        return bool(self.undo_stack)

    @property
    def can_redo(self) -> bool:
        return bool(self.redo_stack)

    def undo(self) -> Decision | None:
        """Take back the last decision; returns it, or None when there is nothing to undo."""
        if not self.undo_stack:
            return None
        decision = self.undo_stack.pop()
        self._apply(decision.changes, "before")
        self.redo_stack.append(decision)
        self.history.append({"event": "undo", "id": decision.id, "time": _now()})
        self._after("undo", decision)
        return decision

    def redo(self) -> Decision | None:
        """Apply again the last undone decision."""
        if not self.redo_stack:
            return None
        decision = self.redo_stack.pop()
        self._apply(decision.changes, "after")
        self.undo_stack.append(decision)
        self.history.append({"event": "redo", "id": decision.id, "time": _now()})
        self._after("redo", decision)
        return decision

    # -- subscribers ---------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[ReviewEvent], object]) -> Callable[[], None]:
        """Call ``callback(event)`` after every change; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)
        return unsubscribe

    # -- recording a decision -----------------------------------------------------------------
    def _snapshot(self, keys: Iterable[Edge] | None) -> tuple[dict[Edge, JSONObject | None], set[str]]:
        edges = self.draft.edges
        if keys is None:
            return {k: e.to_dict() for k, e in edges.items()}, set(self.draft.nodes)
        return {k: (edges[k].to_dict() if k in edges else None) for k in keys}, set(self.draft.nodes)

    def _queue_state(self) -> JSONObject:
        return {"done": [q.done for q in self.queue], "cursor": self.cursor}

    def _decide(self, kind: DecisionKind, edge: Edge | None, reason: str, act: Callable[[], None], *,
                full: bool = False) -> Decision:
        keys = None if full else ([edge, edge[::-1]] if edge else [])
        before_edges, before_nodes = self._snapshot(keys)
        sets_before = {"forbidden": set(self.forbidden), "required": set(self.required), "skipped": set(self.skipped)}
        queue_before = self._queue_state()
        act()
        if edge is not None:
            for item in self.queue:
                if item.done is None and set(item.edge) == set(edge):
                    item.done = kind.value
            self._advance()
        after_edges, after_nodes = self._snapshot(None if full else keys)
        changes: list[JSONObject] = []
        for name in sorted(after_nodes - before_nodes):
            node = self.draft.nodes[name]
            changes.append({"type": "node", "name": name, "before": None,
                            "after": {"name": name, "observed": node.observed, "description": node.description}})
        for key in list(before_edges) + [k for k in after_edges if k not in before_edges]:
            b, a = before_edges.get(key), after_edges.get(key)
            if b != a:
                changes.append({"type": "edge", "key": list(key), "before": b, "after": a})
        for name, before in sets_before.items():
            after = getattr(self, name)
            for key in sorted(before ^ after):
                changes.append({"type": name, "key": list(key), "before": key in before, "after": key in after})
        changes.append({"type": "queue", "before": queue_before, "after": self._queue_state()})
        decision = Decision(self._next_id, kind, edge, _now(), reason, changes)
        self._next_id += 1
        self.undo_stack.append(decision)
        self.redo_stack.clear()
        self.history.append({"event": "decision", **decision.to_dict(), "changes": None})
        self._after("decision", decision)
        return decision

    def _advance(self) -> None:
        while self.cursor < len(self.queue) and self.queue[self.cursor].done is not None:
            self.cursor += 1

    def _apply(self, changes: list[JSONObject], side: str) -> None:
        apply_changes(self, changes, side)

    def _after(self, kind: str, decision: Decision | None, *, graph_changed: bool | None = None) -> None:
        if graph_changed is None:
            graph_changed = decision is not None and any(c["type"] in ("edge", "node") for c in decision.changes)
        self._save()
        event = ReviewEvent(kind, decision, graph_changed)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a broken view must not lose the decision, which is already saved
                _log.exception("review subscriber %r failed", callback)

    def iter_decisions(self) -> Iterator[Decision]:
        yield from self.undo_stack
