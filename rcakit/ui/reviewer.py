"""``GraphReviewer``: review a causal draft in the notebook, five suspicious edges at a time.

A thin view over :class:`rcakit.review.ReviewSession`. The front end (``widgets/graph_reviewer.js``,
vis-network as bundled with pyvis) only draws the synced traitlets and sends messages; every user
action lands in a public method here (``select_edge``, ``accept``, ``reject``, ``reverse``,
``skip``, ``undo``, ``redo``, ``add_edge``, ``set_filter``, ``next_batch``) that tests call
without a browser. The widget subscribes to the session, so decisions taken in code show up too.

Why vis-network: it is already on disk with pyvis (no CDN at runtime, works offline and in a wheel),
draws a few hundred edges on a canvas with dashed/coloured/weighted edges and click events on edges
(which plotly scatter traces lack), and needs no extra Jupyter extension (ipycytoscape does).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anywidget
import traitlets

from rcakit._types import JSONObject, JSONValue
from rcakit.errors import DataError
from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.graph.proposal import Provenance
from rcakit.review import Decision, QueueItem, ReviewEvent, ReviewSession
from rcakit.review._vis import edge_details, layout_positions, vis_elements
from rcakit.telemetry import split_node
from rcakit.ui._assets import read_asset, vis_source

if TYPE_CHECKING:
    from rcakit.graph.data import WideData

__all__ = ["GraphReviewer"]

_FILTER_KEYS = ("provenance", "status", "component")


class GraphReviewer(anywidget.AnyWidget):
    """Interactive review of a :class:`CausalDraft` (or of an existing :class:`ReviewSession`).

    >>> reviewer = GraphReviewer(draft)              # autosaves to '<name>.rcakit-review.json'
    >>> reviewer                                     # click edges; a/r/v/s/u on the keyboard
    >>> reviewer.session.to_networkx()               # the reviewed graph
    """

    _esm = traitlets.Unicode().tag(sync=True)
    _css = traitlets.Unicode().tag(sync=True)
    #: vis-network's code, evaluated by the view (kept out of ``_esm``: see ``rcakit.ui._assets.vis_source``)
    _vis_source = traitlets.Unicode().tag(sync=True)

    # The drawn graph travels as one JSON string: ipywidgets walks dict traitlets element by element
    # looking for binary buffers, which for 200 edges cost more than the whole decision.
    graph_json = traitlets.Unicode("{}").tag(sync=True)
    queue: traitlets.List[JSONObject] = traitlets.List().tag(sync=True)
    details = traitlets.Dict().tag(sync=True)
    selected: traitlets.List[str] = traitlets.List().tag(sync=True)
    filters = traitlets.Dict({"provenance": "", "status": "", "component": ""}).tag(sync=True)
    options = traitlets.Dict().tag(sync=True)
    summary = traitlets.Dict().tag(sync=True)
    height = traitlets.Unicode("560px").tag(sync=True)
    #: "" (off), "replicas" or "role": accept/reject/reverse also apply the listed suggestion for that scope.
    propagate = traitlets.Unicode("").tag(sync=True)
    batch_size = traitlets.Int(5)
    #: How many sessions this widget has shown; the front end fits the new graph in view when it grows.
    generation = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        draft_or_session: CausalDraft | ReviewSession,
        *,
        path: str | Path | None = None,
        data: WideData | None = None,
        alarm: str | None = None,
        batch_size: int = 5,
        height: str = "560px",
        start: bool = True,
        **kwargs: object,  # further traits of the widget
    ) -> None:
        if isinstance(draft_or_session, ReviewSession):
            session = draft_or_session
        elif isinstance(draft_or_session, CausalDraft):
            session = ReviewSession(draft_or_session, path=path, data=data, alarm=alarm)
        else:
            raise DataError(f"GraphReviewer needs a CausalDraft or a ReviewSession, got {type(draft_or_session).__name__}",
                            hint="Build a draft with rcakit.graph.draft_graph(...) or CausalDraft.from_graph(graph)")
        super().__init__(_esm=read_asset("graph_reviewer.js"), _css=read_asset("graph_reviewer.css"),
                         _vis_source=vis_source(), height=height, batch_size=batch_size, **kwargs)
        self.session = session
        self.graph: JSONObject = {"nodes": [], "edges": []}
        self.message = ""
        self._positions: dict[str, tuple[float, float]] = {}
        self._unsubscribe: Callable[[], None] = lambda: None
        self.on_msg(self._handle_message)
        self.open_session(session, start=start)

    def open_session(self, session: ReviewSession, *, start: bool = True) -> None:
        """Review ``session`` in this widget from now on (the dashboard's next incident, say).

        The widget stops following the session it showed (which stays open: close it yourself) and
        draws the new one from scratch: its own layout, no filter or selection, its queue (the first
        batch when it has none and ``start``). The front end keeps its model, so nothing is reloaded.
        """
        self._unsubscribe()
        self.session = session
        self._positions = {}
        self.message = ""
        self.selected, self.details = [], {}
        self.filters = {"provenance": "", "status": "", "component": ""}
        self._unsubscribe = session.subscribe(self._on_session_event)
        self.refresh()
        self.generation += 1
        if start and not session.queue:
            self.next_batch()
        elif session.current is not None:
            self.select_edge(*session.current.edge)
        if session.notes:  # an earlier file moved aside, a stale lock taken over: say so once
            self.message = " ".join(session.notes) + (f" — {self.message}" if self.message else "")
            self._refresh_summary()

    # -- public actions (each front-end event calls one of these) ------------------------------
    def select_edge(self, source: str, target: str) -> JSONObject:
        """Show an edge's details (rationale, votes, evidence, rules); an edge offered as missing too."""
        if self.session.draft.has_edge(source, target):
            info = edge_details(self.session.draft, source, target)
        else:
            item = next((q for q in self.session.queue if q.edge == (source, target)), None)
            if item is None:
                raise DataError(f"no edge {source!r} -> {target!r} in the draft or the queue",
                                hint="Add it with add_edge(source, target)")
            info = {"kind": "missing edge (not in the draft)", "source": source, "target": target}
        item = next((q for q in self.session.queue if q.edge == (source, target)), None)
        if item is not None:
            info["validation"] = {"kind": item.kind, "score": item.score, "reasons": item.reasons,
                                  "evidence": item.evidence}
        similar = self._similar_preview((source, target))
        if similar:  # listed before any click applies it
            info["similar edges (applied with the answer when 'similar' is set)"] = similar
        self.selected = ["edge", source, target]
        self.details = info
        self._refresh_summary()
        return info

    def select_node(self, name: str) -> JSONObject:
        draft = self.session.draft
        if name not in draft.nodes:
            raise DataError(f"node {name!r} is not in the draft")
        node = draft.nodes[name]
        info = {
            "kind": "node", "name": name, "observed": node.observed, "description": node.description,
            "role": "alarm" if name == draft.alarm else ("ancestor of the alarm" if name in draft.ancestors_of_alarm() else ""),
            "causes": sorted(e.source for e in draft.edges.values() if e.target == name and e.status is not EdgeStatus.REJECTED),
            "effects": sorted(e.target for e in draft.edges.values() if e.source == name and e.status is not EdgeStatus.REJECTED),
        }
        self.selected = ["node", name]
        self.details = info
        self._refresh_summary()
        return info

    def clear_selection(self) -> None:
        self.selected = []
        self.details = {}
        self._refresh_summary()

    def accept(self, source: str | None = None, target: str | None = None, *, reason: str = "") -> Decision | None:
        return self._decide("accept", source, target, reason)

    def reject(self, source: str | None = None, target: str | None = None, *, reason: str = "") -> Decision | None:
        return self._decide("reject", source, target, reason)

    def reverse(self, source: str | None = None, target: str | None = None, *, reason: str = "") -> Decision | None:
        return self._decide("reverse", source, target, reason)

    def skip(self, source: str | None = None, target: str | None = None, *, reason: str = "") -> Decision | None:
        return self._decide("skip", source, target, reason)

    def undo(self) -> Decision | None:
        decision = self.session.undo()
        self.message = f"undid {decision.describe()}" if decision else "nothing to undo"
        self._refresh_summary()
        return decision

    def redo(self) -> Decision | None:
        decision = self.session.redo()
        self.message = f"redid {decision.describe()}" if decision else "nothing to redo"
        self._refresh_summary()
        return decision

    def add_edge(self, source: str, target: str, *, reason: str = "") -> Decision:
        """Add ``source -> target`` by hand (accepted, provenance human); names are ``entity:metric``."""
        source, target = str(source).strip(), str(target).strip()
        split_node(source)
        split_node(target)
        decision = self.session.add(source, target, reason=reason)
        self.message = f"added {source} -> {target}"
        self.select_edge(source, target)
        return decision

    def set_propagate(self, scope: str = "") -> None:
        """Apply each accept/reject/reverse to the similar edges of ``scope`` too (``""``: only the edge).

        The changes for each answer are listed in the details pane before the click
        (:func:`rcakit.graph.validate.similar_changes`); the decision and its changes undo as one.
        """
        from rcakit.graph.validate import SCOPES

        if scope and scope not in SCOPES:
            raise traitlets.TraitError(f"unknown scope {scope!r}; use '' or one of {', '.join(SCOPES)}")
        self.propagate = scope
        self._refresh_details()

    def set_filter(self, provenance: str | None = None, status: str | None = None, component: str | None = None) -> None:
        """Show only edges of one provenance, status and/or component (``""`` or None: all)."""
        new = {"provenance": provenance or "", "status": status or "", "component": component or ""}
        if new["provenance"] and new["provenance"] not in {p.value for p in Provenance}:
            raise traitlets.TraitError(f"unknown provenance {new['provenance']!r}; use one of "
                                       f"{', '.join(p.value for p in Provenance)}")
        if new["status"] and new["status"] not in {s.value for s in EdgeStatus}:
            raise traitlets.TraitError(f"unknown status {new['status']!r}; use one of "
                                       f"{', '.join(s.value for s in EdgeStatus)}")
        if new["component"] and new["component"] not in self._components():
            raise traitlets.TraitError(f"unknown component {new['component']!r}; the draft has "
                                       f"{', '.join(sorted(self._components())[:10])}")
        self.filters = new
        self._refresh_graph()

    def next_batch(self, k: int | None = None) -> list[QueueItem]:
        """Ask validation for the next ``k`` (default 5) suspicious edges and select the first."""
        # Validation with data can take seconds: say so before the kernel is busy with it.
        self.message = "looking for the next suspicious edges…"
        self._refresh_summary()
        items = self.session.next_batch(k or self.batch_size)
        self.message = f"{len(items)} suspicious edges to review ({self.session.ranking} ranking)" if items else \
            "no suspicious edge left: the review is done"
        if items:
            self.select_edge(*items[0].edge)
        else:
            self.clear_selection()
        return items

    def refresh(self) -> None:
        """Redraw everything from the session (called after each change)."""
        self._refresh_graph()
        self._refresh_queue()
        self._refresh_options()
        self._refresh_summary()

    def close(self) -> None:
        self._unsubscribe()
        super().close()

    # -- internals -------------------------------------------------------------------------------
    def _target(self, source: str | None, target: str | None) -> tuple[str, str]:
        if source is not None and target is not None:
            return source, target
        if self.selected[:1] == ["edge"]:
            return self.selected[1], self.selected[2]
        current = self.session.current
        if current is not None:
            return current.edge
        raise DataError("no edge selected and the queue is empty",
                        hint="Click an edge, or press 'Next 5' to get suspicious edges")

    def _similar_preview(self, edge: tuple[str, str]) -> dict[str, list[str]]:
        """For each answer, the changes the chosen scope would apply to the similar edges (none when off)."""
        if not self.propagate:
            return {}
        from rcakit.graph.validate import similar_changes

        out = {}
        for answer in ("accept", "reverse", "reject"):
            found = similar_changes(self.session.draft, edge, answer, forbidden=self.session.forbidden,
                                    scope=self.propagate)  # type: ignore[arg-type]
            if found.offered:
                out[answer] = [f"{a} {s} -> {t}" for s, t, a in found.changes]
        return out

    def _decide(self, kind: str, source: str | None, target: str | None, reason: str) -> Decision | None:
        edge = self._target(source, target)
        changes = self._similar_preview(edge).get(kind) if self.propagate else None
        decision: Decision | None
        if changes:
            from rcakit.graph.validate import similar_changes

            found = similar_changes(self.session.draft, edge, kind, forbidden=self.session.forbidden,
                                    scope=self.propagate)  # type: ignore[arg-type]
            decision = self.session.decide_similar(*edge, kind, found.changes, reason=reason)
        else:
            decision = self.session.decide(kind, *edge, reason=reason)
        if decision is not None:
            self.message = decision.describe()
        nxt = self.session.current
        if nxt is not None:
            self.select_edge(*nxt.edge)
        elif kind != "skip" and self.session.draft.has_edge(*edge):
            self.select_edge(*edge)
        elif kind == "reverse" and self.session.draft.has_edge(edge[1], edge[0]):
            self.select_edge(edge[1], edge[0])
        else:
            self.clear_selection()
        return decision

    def _components(self) -> set[str]:
        return {split_node(n)[0] for n in self.session.draft.nodes}

    def _on_session_event(self, event: ReviewEvent) -> None:
        if event.graph_changed or event.kind in ("undo", "redo", "queue"):
            self._refresh_graph()
            self._refresh_options()
        self._refresh_queue()
        self._refresh_details()
        self._refresh_summary()

    def _refresh_details(self) -> None:
        """Keep the details pane true after a decision made anywhere (a click, code, undo)."""
        kind, *names = self.selected or [""]
        if kind == "edge" and len(names) == 2:
            source, target = names
            draft = self.session.draft
            if draft.has_edge(source, target) or any(q.edge == (source, target) for q in self.session.queue):
                self.select_edge(source, target)
            elif draft.has_edge(target, source):
                self.select_edge(target, source)
            else:
                self.clear_selection()
        elif kind == "node" and names and names[0] in self.session.draft.nodes:
            self.select_node(names[0])

    def _refresh_graph(self) -> None:
        if set(self.session.draft.nodes) - set(self._positions):  # first draw, or a node was added
            self._positions = layout_positions(self.session.draft, fixed=self._positions or None)
        f = self.filters
        sel = tuple(self.selected[1:3]) if self.selected[:1] == ["edge"] else None
        self.graph = vis_elements(self.session.draft, provenance=f.get("provenance") or None,
                                  status=f.get("status") or None, component=f.get("component") or None,
                                  selected=sel,  # type: ignore[arg-type]
                                  queue=[q.edge for q in self.session.queue if q.done is None],
                                  positions=self._positions)
        self.graph_json = json.dumps(self.graph, ensure_ascii=False)

    def _refresh_queue(self) -> None:
        current = self.session.current
        self.queue = [{"source": q.edge[0], "target": q.edge[1], "kind": q.kind, "score": q.score,
                       "reasons": q.reasons, "done": q.done or "", "current": q is current} for q in self.session.queue]

    def _refresh_options(self) -> None:
        draft = self.session.draft
        provs = sorted({p.value for e in draft.edges.values() for p in e.provenance})
        self.options = {"provenance": provs, "status": [s.value for s in EdgeStatus],
                        "component": sorted(self._components()), "nodes": sorted(draft.nodes)}

    def _refresh_summary(self) -> None:
        s = self.session
        c = s.counts()
        text = (f"{c['accepted']} accepted · {c['proposed']} proposed · {c['rejected']} rejected · "
                f"{c['decisions']} decisions · saved to {s.path.name if s.path else 'nowhere'}")
        unanswered = len(s.draft.meta.get("unanswered") or [])
        if unanswered:  # pairs a language model never answered abstained; said, not hidden as "no edge"
            text += f" · {unanswered} pairs unanswered by the model (abstained; draft.meta['unanswered'])"
        if self.message:
            text += f" — {self.message}"
        warning = s.save_status.warning
        if warning:  # a failing disk or a lost lock: visible on the status line until a save works again
            text = f"⚠ NOT SAVED ({s.save_status.unsaved} decisions only in memory): {warning} | {text}"
        self.summary = {**c, "can_undo": s.can_undo, "can_redo": s.can_redo, "ranking": s.ranking,
                        "path": str(s.path) if s.path else "", "text": text, "save_warning": warning,
                        "unanswered": unanswered,
                        "notes": list(s.notes),
                        "has_target": bool(self.selected[:1] == ["edge"] or s.current is not None)}

    def _handle_message(self, _widget: object, content: JSONValue, _buffers: object) -> None:
        if not isinstance(content, dict) or "action" not in content:
            return
        action = content["action"]
        args = {k: v for k, v in content.items() if k != "action"}
        methods: dict[str, Callable[[], object]] = {
            "select_edge": lambda: self.select_edge(args["source"], args["target"]),
            "select_node": lambda: self.select_node(args["name"]),
            "accept": lambda: self.accept(), "reject": lambda: self.reject(), "reverse": lambda: self.reverse(),
            "skip": lambda: self.skip(), "undo": self.undo, "redo": self.redo,
            "next_batch": lambda: self.next_batch(args.get("k")),
            "add_edge": lambda: self.add_edge(args["source"], args["target"], reason=args.get("reason", "")),
            "set_filter": lambda: self.set_filter(**{k: args.get(k) for k in _FILTER_KEYS}),
            "set_propagate": lambda: self.set_propagate(args.get("scope") or ""),
        }
        method = methods.get(action)
        if method is None:
            self.message = f"unknown action {action!r}"
            self._refresh_summary()
            return
        try:
            method()
        except (DataError, traitlets.TraitError, KeyError) as exc:  # show, don't crash the comm
            self.message = str(exc)
            self._refresh_summary()
