"""``ReviewSession``: a human reviewing a causal draft, one decision at a time (Atlas section 4.6).

The session holds a :class:`~rcakit.graph.draft.CausalDraft` and every decision taken on it (accept,
reject, reverse, add, forbid, require, skip, rediscover) with its time and an optional reason. Each
decision records exactly what it changed, so undo and redo are exact; after every decision the whole
session (draft, decision log, undo and redo stacks, the queue of suspicious edges and the position
in it) is written atomically to a JSON file beside the notebook, so a kernel crash loses nothing and
:meth:`ReviewSession.open` restores the review as it was. Views (the GraphReviewer widget, an
attribution panel) :meth:`~ReviewSession.subscribe` to be told when the graph changes.

The decision log itself (what each decision changed, undo, redo, subscribers) is the base class
:class:`~rcakit.review._journal.DecisionJournal`. Nothing here imports a widget library.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from rcakit._io import atomic_write_text
from rcakit._types import JSONObject
from rcakit.errors import DataError
from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.graph.proposal import Provenance
from rcakit.review import _ranking
from rcakit.review._autosave import (
    FORMAT_VERSION,
    SESSION_SUFFIX,
    SaveStatus,
    SessionFile,
    SessionLockedError,
    default_session_path,
    now,
    plain,
    read_session_file,
)
from rcakit.review._journal import DecisionJournal
from rcakit.review._records import (
    Decision,
    DecisionKind,
    Edge,
    QueueItem,
    ReviewEvent,
    restore_state,
    session_state,
)

if TYPE_CHECKING:
    from rcakit.graph.data import WideData

__all__ = [
    "SESSION_SUFFIX",
    "Decision",
    "DecisionKind",
    "QueueItem",
    "ReviewEvent",
    "ReviewSession",
    "SaveStatus",
    "SessionLockedError",
    "default_session_path",
]

_now = now


class ReviewSession(DecisionJournal):
    """A review of ``draft``: decisions with undo/redo, a queue of suspicious edges, autosave, export.

    ``path`` is the autosave file (default :func:`default_session_path`); ``autosave=False`` keeps the
    session in memory only. The file is locked for this session (``<file>.lock``): a session of
    another process on it is refused unless ``takeover=True``; a corrupt file or an earlier review
    with decisions found there is moved aside and said in :attr:`notes`. When a save fails (disk
    full, read-only), decisions stay in memory, :attr:`save_status` says so, and the next decision
    retries. ``data`` (a wide frame with one column per node) feeds validation and
    :meth:`rediscover`; it is not written to the session file, pass it again to :meth:`open`.
    """

    def __init__(
        self,
        draft: CausalDraft,
        *,
        path: str | Path | None = None,
        data: WideData | None = None,
        alarm: str | None = None,
        autosave: bool = True,
        question_order: str = "expected_gain",
        takeover: bool = False,
    ) -> None:
        if not isinstance(draft, CausalDraft):
            raise DataError(f"ReviewSession needs a CausalDraft, got {type(draft).__name__}",
                            hint="Build one with rcakit.graph.draft_graph(...) or CausalDraft.from_graph(graph)")
        self.draft = draft
        if alarm is not None:
            if alarm not in draft.nodes:
                raise DataError(f"alarm node {alarm!r} is not in the draft",
                                hint=f"Pick one of its {len(draft.nodes)} nodes, e.g. {next(iter(draft.nodes), '')!r}")
            draft.alarm = alarm
        self.data = data
        self.autosave = autosave
        #: How :meth:`next_batch` orders its questions (``rcakit.graph.validate.QuestionOrder``).
        self.question_order = question_order
        self.path: Path | None = Path(path) if path is not None else (default_session_path(draft) if autosave else None)
        self.created = _now()
        self.history: list[JSONObject] = []
        self.undo_stack: list[Decision] = []
        self.redo_stack: list[Decision] = []
        self.forbidden: set[Edge] = set()
        self.required: set[Edge] = set()
        self.skipped: set[Edge] = set()
        self.queue: list[QueueItem] = []
        self.cursor = 0
        self.ranking = "none"
        self._next_id = 1
        self._subscribers: list[Callable[[ReviewEvent], object]] = []
        self._file: SessionFile | None = None
        self.notes: list[str] = []
        if self.autosave and self.path is not None:
            # A file already there (corrupt, or an earlier review with decisions) is moved aside before the first
            # write, never overwritten silently; the notes say so.
            self._file = SessionFile(self.path, takeover=takeover, fresh=True)
            self.notes = self._file.notes  # one list: what the file reports later (a save that worked again) too
        self._save()

    # -- decisions ---------------------------------------------------------------------------------
    def accept(self, source: str, target: str, *, reason: str = "") -> Decision:
        """Keep ``source -> target``; an edge offered as *missing* is added."""
        def act() -> None:
            if self.draft.has_edge(source, target):
                self.draft.set_status(source, target, EdgeStatus.ACCEPTED)
            else:
                self._check_nodes(source, target)
                self.draft.add_edge(source, target, status=EdgeStatus.ACCEPTED, provenance=Provenance.HUMAN,
                                    confidence=1.0, rationale=reason)
            self.forbidden.discard((source, target))
        return self._decide(DecisionKind.ACCEPT, (source, target), reason, act)

    def reject(self, source: str, target: str, *, reason: str = "") -> Decision:
        """Mark ``source -> target`` rejected (kept in the draft, so it stays rejected and is never re-proposed)."""
        def act() -> None:
            if self.draft.has_edge(source, target):
                self.draft.set_status(source, target, EdgeStatus.REJECTED)
            else:  # a proposed missing edge, turned down: remember it as forbidden
                self._check_nodes(source, target)
                self.forbidden.add((source, target))
            self.required.discard((source, target))
        return self._decide(DecisionKind.REJECT, (source, target), reason, act)

    def reverse(self, source: str, target: str, *, reason: str = "") -> Decision:
        """Replace ``source -> target`` by ``target -> source``, accepted."""
        def act() -> None:
            if self.draft.has_edge(source, target):
                edge = self.draft.reverse_edge(source, target)
                if Provenance.HUMAN not in edge.provenance:
                    edge.provenance.append(Provenance.HUMAN)
                edge.status = EdgeStatus.ACCEPTED
            else:
                self._check_nodes(source, target)
                self.draft.add_edge(target, source, status=EdgeStatus.ACCEPTED, provenance=Provenance.HUMAN,
                                    confidence=1.0, rationale=reason)
            self.required.discard((source, target))
            self.forbidden.discard((target, source))
        return self._decide(DecisionKind.REVERSE, (source, target), reason, act)

    def add(self, source: str, target: str, *, reason: str = "", confidence: float = 1.0) -> Decision:
        """Add ``source -> target`` by hand, accepted (new nodes are created, as ``entity:metric``)."""
        if source == target:
            raise DataError(f"an edge from {source!r} to itself is not allowed", hint="Pick two different nodes")

        def act() -> None:
            for name in (source, target):
                if name not in self.draft.nodes:
                    self.draft.add_node(name)
            self.draft.add_edge(source, target, status=EdgeStatus.ACCEPTED, provenance=Provenance.HUMAN,
                                confidence=confidence, rationale=reason)
            self.draft.set_status(source, target, EdgeStatus.ACCEPTED)
            self.forbidden.discard((source, target))
        return self._decide(DecisionKind.ADD, (source, target), reason, act)

    def forbid(self, source: str, target: str, *, reason: str = "") -> Decision:
        """Background knowledge: ``source`` never directly causes ``target`` (the edge, if present, is rejected)."""
        def act() -> None:
            self._check_nodes(source, target)
            if self.draft.has_edge(source, target):
                self.draft.set_status(source, target, EdgeStatus.REJECTED)
            self.forbidden.add((source, target))
            self.required.discard((source, target))
        return self._decide(DecisionKind.FORBID, (source, target), reason, act)

    def require(self, source: str, target: str, *, reason: str = "") -> Decision:
        """Background knowledge: ``source`` directly causes ``target`` (the edge is added or accepted)."""
        def act() -> None:
            self._check_nodes(source, target)
            self.draft.add_edge(source, target, status=EdgeStatus.ACCEPTED, provenance=Provenance.HUMAN,
                                confidence=1.0, rationale=reason)
            self.draft.set_status(source, target, EdgeStatus.ACCEPTED)
            self.required.add((source, target))
            self.forbidden.discard((source, target))
        return self._decide(DecisionKind.REQUIRE, (source, target), reason, act)

    def skip(self, source: str | None = None, target: str | None = None, *, reason: str = "") -> Decision | None:
        """Move past an edge of the queue without deciding (the current one by default)."""
        if source is None or target is None:
            item = self.current
            if item is None:
                return None
            source, target = item.edge
        edge = (source, target)

        def act() -> None:
            self.skipped.add(edge)
        return self._decide(DecisionKind.SKIP, edge, reason, act)

    def decide(self, kind: DecisionKind | str, source: str, target: str, *, reason: str = "") -> Decision | None:
        """Dispatch by name: ``decide("reject", a, b)`` is ``reject(a, b)``."""
        methods: dict[DecisionKind, Callable[..., Decision | None]] = {
            DecisionKind.ACCEPT: self.accept, DecisionKind.REJECT: self.reject, DecisionKind.REVERSE: self.reverse,
            DecisionKind.ADD: self.add, DecisionKind.FORBID: self.forbid, DecisionKind.REQUIRE: self.require,
            DecisionKind.SKIP: self.skip,
        }
        method = methods.get(DecisionKind(kind))
        if method is None:
            raise DataError(f"{kind!r} is not a decision on one edge", hint="Use rediscover() for data-driven discovery")
        return method(source, target, reason=reason)

    def decide_similar(self, source: str, target: str, answer: DecisionKind | str,
                       changes: Iterable[tuple[str, str, str]], *, reason: str = "") -> Decision:
        """``answer`` (accept, reverse or reject) on ``source -> target`` and the same for the edges of its kind.

        ``changes`` are the (source, target, action) triples the reviewer was shown and confirmed, as
        ``rcakit.graph.validate.similar_changes`` lists them (action ``accept``, ``add``, ``reverse`` or
        ``reject``). One decision: one undo takes all of it back.
        """
        kind = DecisionKind(answer)
        if kind not in (DecisionKind.ACCEPT, DecisionKind.REVERSE, DecisionKind.REJECT):
            raise DataError(f"{answer!r} does not carry to similar edges", hint="Use accept, reverse or reject")
        listed = [(str(a), str(b), str(action)) for a, b, action in changes]
        for a, b, action in listed:
            if action not in ("accept", "add", "reverse", "reject"):
                raise DataError(f"unknown change {action!r} for {a} -> {b}", hint="Use accept, add, reverse or reject")
            self._check_nodes(a, b)
        self._check_nodes(source, target)

        def act() -> None:
            for a, b, action in [(source, target, kind.value), *listed]:
                forward = self.draft.edges.get((a, b))
                if action == "reject":
                    if forward is not None:
                        forward.status = EdgeStatus.REJECTED
                    else:
                        self.forbidden.add((a, b))
                elif action == "reverse" and forward is not None:
                    edge = self.draft.reverse_edge(a, b)
                    if Provenance.HUMAN not in edge.provenance:
                        edge.provenance.append(Provenance.HUMAN)
                    edge.status = EdgeStatus.ACCEPTED
                else:
                    x, y = (b, a) if action == "reverse" else (a, b)
                    if self.draft.has_edge(x, y):
                        self.draft.set_status(x, y, EdgeStatus.ACCEPTED)
                    else:
                        self.draft.add_edge(x, y, status=EdgeStatus.ACCEPTED, provenance=Provenance.HUMAN,
                                            confidence=1.0, rationale=reason)
                    self.forbidden.discard((x, y))
                for item in self.queue:
                    if item.done is None and set(item.edge) == {a, b} and (a, b) != (source, target):
                        item.done = action
        note = f"and the same for {len(listed)} similar edge(s)"
        return self._decide(kind, (source, target), f"{reason}; {note}" if reason else note, act, full=True)

    # -- the queue ---------------------------------------------------------------------------------
    def decided_edges(self) -> set[Edge]:
        """Edges (both orientations) that a decision in force touched, and the skipped ones."""
        out: set[Edge] = set()
        for d in self.undo_stack:
            if d.edge is not None:
                out |= {d.edge, d.edge[::-1]}
        return out | self.skipped | self.forbidden | self.required

    def next_batch(self, k: int = 5) -> list[QueueItem]:
        """The next ``k`` suspicious edges not yet decided (validation's ranking, or the fallback)."""
        if int(k) < 1:
            raise DataError(f"batch size must be at least 1, got {k}")
        found, self.ranking = _ranking.rank(self.draft, self.data, k=int(k), alarm=self.draft.alarm,
                                            exclude=self.decided_edges(), order=self.question_order)
        self.queue = [QueueItem.of(s) for s in found]
        self.cursor = 0
        self.history.append({"event": "next_batch", "time": _now(), "edges": [list(q.edge) for q in self.queue],
                             "ranking": self.ranking})
        self._after("queue", None, graph_changed=False)
        return list(self.queue)

    @property
    def current(self) -> QueueItem | None:
        """The queue item under review, or None when the batch is done."""
        return self.queue[self.cursor] if 0 <= self.cursor < len(self.queue) else None

    @property
    def batch_done(self) -> bool:
        return all(q.done is not None for q in self.queue)

    # -- data-driven discovery -----------------------------------------------------------------
    def background_knowledge(self) -> dict[str, list[Edge]]:
        """Decisions as constraints for discovery: required (accepted) and forbidden edges."""
        required = {e.key for e in self.draft.edges_where(status=EdgeStatus.ACCEPTED)} | self.required
        forbidden = {e.key for e in self.draft.edges_where(status=EdgeStatus.REJECTED)} | self.forbidden
        forbidden |= {(v, u) for u, v in required}
        return {"required": sorted(required), "forbidden": sorted(forbidden - required)}

    def rediscover(self, method: str = "pc", *, data: WideData | None = None, alpha: float = 0.05, reason: str = "") -> Decision:
        """Re-run data-driven discovery with the decisions as background knowledge; merge what it finds.

        Edges the data support gain the ``data`` provenance; new ones come in as *proposed* (never
        over a decision: forbidden and rejected edges stay out). One undoable decision.
        """
        from rcakit.review._discover import discover

        frame = data if data is not None else self.data
        if frame is None:
            raise DataError("rediscover needs data", hint="Pass data= to ReviewSession(...) or to rediscover(...)")
        knowledge = self.background_knowledge()
        found, used = discover(self.draft, frame, method=method, alpha=alpha, required=knowledge["required"],
                               forbidden=knowledge["forbidden"])
        blocked = set(knowledge["forbidden"])

        def act() -> None:
            for (u, v), info in found.items():
                if (u, v) in blocked:
                    continue
                existing = self.draft.edges.get((u, v))
                if existing is not None and existing.status is not EdgeStatus.PROPOSED:
                    continue
                self.draft.add_edge(u, v, status=EdgeStatus.PROPOSED, provenance=Provenance.DATA,
                                    confidence=info.get("confidence", 0.5),
                                    rationale=f"{used} found a dependence between the two in the data",
                                    evidence={used: info})
        return self._decide(DecisionKind.REDISCOVER, None, reason or f"{used}, alpha={alpha}", act, full=True)

    # -- internals -----------------------------------------------------------------------------
    def _check_nodes(self, *names: str) -> None:
        for name in names:
            if name not in self.draft.nodes:
                raise DataError(f"node {name!r} is not in the draft",
                                hint="Use add(source, target) to add an edge between new nodes")

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> JSONObject:
        return session_state(self)

    def _text(self) -> str:
        return json.dumps(self.to_dict(), default=plain, ensure_ascii=False) + "\n"

    def save(self, path: str | Path | None = None, *, durable: bool = True) -> Path:
        """Write the session to ``path`` (default: its autosave file), atomically and fsync'ed.

        Raises the ``OSError`` of a failing disk (a call made on purpose should fail loudly; the
        autosave after each decision warns instead, see :attr:`save_status`).
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise DataError("this session has no file", hint="Pass a path to save(path)")
        if self._file is not None and target == self.path:
            if not self._file.write(self._text(), durable=durable):
                raise DataError(f"the review was not saved: {self._file.status.message}", source=str(target),
                                hint="Pass another path to save(path)")
            return target
        return atomic_write_text(target, self._text(), durable=durable)

    def _save(self) -> None:
        # The autosave after each decision is atomic and fsync'ed before the rename: measured at 200 edges,
        # fsync and the lock check take a decision from 2.0 to 5.8 ms (bench review --sections speed), well inside
        # the 50 ms click budget, and a power cut then leaves the file before or after the last decision,
        # never an empty one. A failing disk warns (save_status) instead of raising.
        if self._file is not None:
            self._file.write(self._text(), durable=True)

    @property
    def save_status(self) -> SaveStatus:
        """Whether the last autosave worked; the warning to show and how many decisions wait in memory if not."""
        return self._file.status if self._file is not None else SaveStatus()

    def close(self) -> None:
        """Save a last time and give the file up (its lock is removed); the session stays usable in memory."""
        if self._file is not None:
            self._save()
            self._file.release()
            self._file = None

    @classmethod
    def from_dict(cls, data: JSONObject, *, path: str | Path | None = None, data_frame: WideData | None = None,
                  autosave: bool = True, takeover: bool = False) -> ReviewSession:
        version = data.get("rcakit_review")
        if version != FORMAT_VERSION:
            raise DataError(f"review session format version {version!r} is not supported",
                            source=str(path) if path else None, hint=f"This rcakit reads version {FORMAT_VERSION}")
        session = cls.__new__(cls)
        restore_state(session, data)
        session.data = data_frame
        session.autosave = autosave
        session.path = Path(path) if path is not None else None
        session._subscribers = []
        session.notes = []
        session._file = None
        if autosave and session.path is not None:
            session._file = SessionFile(session.path, takeover=takeover)
            session.notes = session._file.notes
        return session

    @classmethod
    def open(cls, path: str | Path, *, data: WideData | None = None, autosave: bool = True,
             takeover: bool = False) -> ReviewSession:
        """Reload a session file: the draft, decisions, undo/redo stacks and queue position, exactly.

        The reopened session autosaves to the same file and holds its lock (see the class docstring);
        a damaged file is refused with a :class:`~rcakit.errors.DataError` naming it, and left as it is.
        """
        file = Path(path)
        raw = read_session_file(file)
        try:
            return cls.from_dict(raw, path=file, data_frame=data, autosave=autosave, takeover=takeover)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"not a complete review session ({type(exc).__name__}: {exc})", source=str(file),
                            hint="The file was edited by hand; restore a '.previous-*' copy or start a new review"
                            ) from exc

    # -- export --------------------------------------------------------------------------------
    def to_networkx(self, *, collapse: bool = True, include_proposed: bool = True) -> nx.DiGraph:
        """The reviewed graph (rejected edges left out); unobserved nodes collapsed by default."""
        return self.draft.to_networkx(collapse=collapse, include_proposed=include_proposed)

    def fingerprint(self) -> str:
        return self.draft.fingerprint()

    def export(self, path: str | Path, format: str | None = None, **options: object) -> Path:
        """Write the draft as ``json``, ``dot``, ``gml`` or ``html`` (by default from the file suffix)."""
        from rcakit.review.export import export as export_draft

        return export_draft(self.draft, path, format=format, **options)

    # -- display -------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {**self.draft.counts(), "decisions": len(self.undo_stack)}

    def __repr__(self) -> str:
        c = self.counts()
        return (f"ReviewSession({len(self.draft.edges)} edges: {c['accepted']} accepted, {c['proposed']} proposed, "
                f"{c['rejected']} rejected; {c['decisions']} decisions; file={str(self.path) if self.path else None!r})")

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{html.escape(d.time)}: {html.escape(d.describe())}</li>" for d in self.undo_stack[-10:])
        c = self.counts()
        file = html.escape(str(self.path)) if self.path else "not saved"
        return (f"<div><b>ReviewSession</b>: {c['accepted']} accepted, {c['proposed']} proposed, {c['rejected']} "
                f"rejected, {c['decisions']} decisions. Autosave: <code>{file}</code><ol>{rows}</ol></div>")
