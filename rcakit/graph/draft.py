"""``CausalDraft``: a proposed causal graph whose every edge remembers who proposed it and what a human decided.

An edge carries a status (proposed, accepted, rejected), its provenance (knowledge, llm, data,
human, truth), a confidence and vote counts, a rationale, the rules behind it and evidence from data.
Nodes are metric nodes ``entity:metric``; a node may be *unobserved* (a metric the component usually
has but does not report, Atlas A.3).

Two views (Atlas 4.5): the *confounder graph* keeps unobserved nodes; the *observed graph* collapses
them, preserving transitive influence (A -> U -> B becomes A -> B with ``via=["U"]``), so that
attribution runs on measured nodes and a report can still say "U, unmeasured, may be the cause".
A draft saves to and loads from a versioned JSON file.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from rcakit._io import atomic_write_json
from rcakit.errors import DataError
from rcakit.graph.proposal import Provenance
from rcakit.graph.system import SystemModel
from rcakit.telemetry import split_node

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue

__all__ = ["CausalDraft", "DraftEdge", "DraftNode", "EdgeStatus"]

FORMAT_VERSION = 1


class EdgeStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass
class DraftNode:
    name: str
    observed: bool = True
    description: str = ""

    @property
    def entity(self) -> str:
        return split_node(self.name)[0]

    @property
    def metric(self) -> str:
        return split_node(self.name)[1]


@dataclass
class DraftEdge:
    source: str
    target: str
    status: EdgeStatus = EdgeStatus.PROPOSED
    provenance: list[Provenance] = field(default_factory=list)
    confidence: float = 0.5
    votes: dict[str, int] = field(default_factory=dict)
    rationale: str = ""
    rules: list[str] = field(default_factory=list)
    evidence: JSONObject = field(default_factory=dict)
    suspicion: float | None = None

    def __post_init__(self) -> None:
        self.status = EdgeStatus(self.status)
        self.provenance = [Provenance(p) for p in self.provenance]

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.target)

    def to_dict(self) -> JSONObject:
        return {
            "source": self.source, "target": self.target, "status": self.status.value,
            "provenance": [p.value for p in self.provenance], "confidence": float(self.confidence),
            "votes": dict(self.votes), "rationale": self.rationale, "rules": list(self.rules),
            "evidence": _jsonable(self.evidence), "suspicion": self.suspicion,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> DraftEdge:
        return cls(
            source=data["source"], target=data["target"], status=EdgeStatus(data.get("status", "proposed")),
            provenance=[Provenance(p) for p in data.get("provenance", [])],
            confidence=float(data.get("confidence", 0.5)), votes=dict(data.get("votes") or {}),
            rationale=data.get("rationale", ""), rules=list(data.get("rules") or []),
            evidence=dict(data.get("evidence") or {}), suspicion=data.get("suspicion"),
        )


class CausalDraft:
    """Nodes and edges of a proposed causal graph, with the alarm node and the system it describes."""

    def __init__(
        self,
        nodes: Iterable[DraftNode | str] = (),
        edges: Iterable[DraftEdge] = (),
        *,
        alarm: str | None = None,
        system: SystemModel | None = None,
        meta: Mapping[str, JSONValue] | None = None,
    ) -> None:
        self.nodes: dict[str, DraftNode] = {}
        self.edges: dict[tuple[str, str], DraftEdge] = {}
        self.system = system
        self.meta: JSONObject = dict(meta or {})
        for node in nodes:
            if isinstance(node, DraftNode):
                self.nodes[node.name] = node
            else:
                self.add_node(node)
        for edge in edges:
            self._put(edge)
        self.alarm = alarm
        if alarm is not None and alarm not in self.nodes:
            self.add_node(alarm)

    # -- building ------------------------------------------------------------------------------
    def add_node(self, name: str, *, observed: bool = True, description: str = "") -> DraftNode:
        split_node(name)
        node = self.nodes.get(name)
        if node is None:
            node = DraftNode(name, observed, description)
            self.nodes[name] = node
        return node

    def _put(self, edge: DraftEdge) -> DraftEdge:
        for name in (edge.source, edge.target):
            if name not in self.nodes:
                self.add_node(name)
        self.edges[edge.key] = edge
        return edge

    def add_edge(
        self,
        source: str,
        target: str,
        *,
        status: EdgeStatus | str = EdgeStatus.PROPOSED,
        provenance: Provenance | str | Iterable[Provenance | str] = Provenance.HUMAN,
        confidence: float = 0.5,
        votes: Mapping[str, int] | None = None,
        rationale: str = "",
        rules: Iterable[str] = (),
        evidence: Mapping[str, JSONValue] | None = None,
    ) -> DraftEdge:
        """Add an edge, or merge into the existing one (provenance and rules united, max confidence)."""
        if source == target:
            raise DataError(f"an edge from {source!r} to itself is not allowed", hint="Pick two different nodes")
        provs = [Provenance(provenance)] if isinstance(provenance, str | Provenance) else [Provenance(p) for p in provenance]
        existing = self.edges.get((source, target))
        if existing is not None:
            for p in provs:
                if p not in existing.provenance:
                    existing.provenance.append(p)
            existing.rules += [r for r in rules if r not in existing.rules]
            existing.confidence = max(existing.confidence, float(confidence))
            for k, v in (votes or {}).items():
                existing.votes[k] = existing.votes.get(k, 0) + int(v)
            if rationale and rationale not in existing.rationale:
                existing.rationale = f"{existing.rationale}\n{rationale}".strip()
            existing.evidence.update(evidence or {})
            return existing
        return self._put(DraftEdge(source, target, EdgeStatus(status), provs, float(confidence), dict(votes or {}),
                                   rationale, list(rules), dict(evidence or {})))

    def edge(self, source: str, target: str) -> DraftEdge:
        try:
            return self.edges[(source, target)]
        except KeyError:
            hint = "Add it with add_edge"
            if (target, source) in self.edges:
                hint = f"The draft has the reverse edge {target!r} -> {source!r}"
            raise DataError(f"no edge {source!r} -> {target!r} in the draft", hint=hint) from None

    def has_edge(self, source: str, target: str) -> bool:
        return (source, target) in self.edges

    def set_status(self, source: str, target: str, status: EdgeStatus | str) -> DraftEdge:
        edge = self.edge(source, target)
        edge.status = EdgeStatus(status)
        return edge

    def remove_edge(self, source: str, target: str) -> DraftEdge:
        edge = self.edge(source, target)
        del self.edges[(source, target)]
        return edge

    def reverse_edge(self, source: str, target: str) -> DraftEdge:
        """Turn ``source -> target`` into ``target -> source``, keeping what is known about it."""
        edge = self.remove_edge(source, target)
        flipped = copy.deepcopy(edge)
        flipped.source, flipped.target = target, source
        if (target, source) in self.edges:
            merged = self.edges[(target, source)]
            for p in flipped.provenance:
                if p not in merged.provenance:
                    merged.provenance.append(p)
            merged.status = flipped.status
            return merged
        return self._put(flipped)

    # -- questions -----------------------------------------------------------------------------
    def edges_where(
        self,
        *,
        status: EdgeStatus | str | Iterable[EdgeStatus | str] | None = None,
        provenance: Provenance | str | None = None,
        entity: str | None = None,
    ) -> list[DraftEdge]:
        """Edges filtered by status (one or several), provenance and component (either end)."""
        statuses: set[EdgeStatus] | None = None
        if status is not None:
            statuses = {EdgeStatus(status)} if isinstance(status, str | EdgeStatus) else {EdgeStatus(s) for s in status}
        prov = Provenance(provenance) if provenance is not None else None
        out = []
        for edge in self.edges.values():
            if statuses is not None and edge.status not in statuses:
                continue
            if prov is not None and prov not in edge.provenance:
                continue
            if entity is not None and entity not in (split_node(edge.source)[0], split_node(edge.target)[0]):
                continue
            out.append(edge)
        return out

    def unobserved(self) -> list[str]:
        return sorted(n for n, node in self.nodes.items() if not node.observed)

    def confounder_graph(self, *, include_proposed: bool = True) -> nx.DiGraph:
        """Every node, observed or not; accepted (and, by default, proposed) edges with their attributes."""
        keep = {EdgeStatus.ACCEPTED} | ({EdgeStatus.PROPOSED} if include_proposed else set())
        g = nx.DiGraph()
        for name, node in self.nodes.items():
            g.add_node(name, observed=node.observed, description=node.description)
        for edge in self.edges.values():
            if edge.status in keep:
                g.add_edge(edge.source, edge.target, status=edge.status.value,
                           provenance=[p.value for p in edge.provenance], confidence=edge.confidence, via=[])
        return g

    def observed_graph(self, *, include_proposed: bool = True) -> nx.DiGraph:
        """The confounder graph with unobserved nodes collapsed; each edge's ``via`` lists what it passes through.

        A -> U -> B becomes A -> B with ``via=["U"]``; chains of unobserved nodes collapse in turn. An
        edge that already existed directly keeps its attributes and gains the ``via`` of the collapse.
        Unobserved nodes with no observed descendant simply vanish.
        """
        g = self.confounder_graph(include_proposed=include_proposed)
        for hidden in self.unobserved():
            if hidden not in g:
                continue
            preds = list(g.predecessors(hidden))
            succs = list(g.successors(hidden))
            for p in preds:
                for s in succs:
                    if p == s:
                        continue
                    via = [*g.edges[p, hidden]["via"], hidden, *g.edges[hidden, s]["via"]]
                    if g.has_edge(p, s):
                        merged = g.edges[p, s]["via"]
                        g.edges[p, s]["via"] = merged + [v for v in via if v not in merged]
                    else:
                        g.add_edge(p, s, status="collapsed", provenance=["collapsed"], confidence=min(
                            g.edges[p, hidden]["confidence"], g.edges[hidden, s]["confidence"]), via=via)
            g.remove_node(hidden)
        return g

    def collapsed_places(self) -> dict[tuple[str, str], list[str]]:
        """Observed edges that stand for paths through unobserved nodes, and those nodes."""
        return {(u, v): list(d["via"]) for u, v, d in self.observed_graph().edges(data=True) if d["via"]}

    def to_networkx(self, *, collapse: bool = True, include_proposed: bool = True) -> nx.DiGraph:
        return self.observed_graph(include_proposed=include_proposed) if collapse else self.confounder_graph(
            include_proposed=include_proposed)

    def fingerprint(self, *, include_proposed: bool = True) -> str:
        """A hash of the observed graph's edge set: equal fingerprints, same graph for attribution."""
        edges = sorted(self.observed_graph(include_proposed=include_proposed).edges())
        return hashlib.sha256(json.dumps(edges).encode()).hexdigest()[:16]

    def ancestors_of_alarm(self) -> set[str]:
        if self.alarm is None:
            return set()
        g = self.observed_graph()
        return nx.ancestors(g, self.alarm) if self.alarm in g else set()

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in EdgeStatus}
        for edge in self.edges.values():
            out[edge.status.value] += 1
        return out

    # -- construction from a graph ------------------------------------------------------------
    @classmethod
    def from_graph(
        cls,
        graph: nx.DiGraph,
        *,
        provenance: Provenance | str = Provenance.TRUTH,
        status: EdgeStatus | str = EdgeStatus.ACCEPTED,
        alarm: str | None = None,
        unobserved: Iterable[str] = (),
        system: SystemModel | None = None,
    ) -> CausalDraft:
        hidden = set(unobserved)
        draft = cls(alarm=None, system=system)
        for node in graph.nodes:
            draft.add_node(str(node), observed=str(node) not in hidden)
        for u, v in graph.edges:
            draft.add_edge(str(u), str(v), status=status, provenance=provenance, confidence=1.0)
        draft.alarm = alarm
        if alarm is not None:
            draft.add_node(alarm)
        return draft

    def copy(self) -> CausalDraft:
        return CausalDraft.from_dict(self.to_dict())

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> JSONObject:
        return {
            "rcakit_draft": FORMAT_VERSION,
            "alarm": self.alarm,
            "nodes": [{"name": n.name, "observed": n.observed, "description": n.description} for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges.values()],
            "system": self.system.to_dict() if self.system is not None else None,
            "meta": _jsonable(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> CausalDraft:
        version = data.get("rcakit_draft")
        if version != FORMAT_VERSION:
            raise DataError(f"draft format version {version!r} is not supported",
                            hint=f"This rcakit reads version {FORMAT_VERSION}; re-create the draft")
        system = SystemModel.from_dict(data["system"]) if data.get("system") else None
        nodes = [DraftNode(n["name"], n.get("observed", True), n.get("description", "")) for n in data.get("nodes", [])]
        edges = [DraftEdge.from_dict(e) for e in data.get("edges", [])]
        return cls(nodes, edges, alarm=data.get("alarm"), system=system, meta=data.get("meta") or {})

    def save(self, path: str | Path) -> Path:
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> CausalDraft:
        file = Path(path)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError("draft file not found", source=str(file), hint="Check the path") from None
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg} at line {exc.lineno}", source=str(file),
                            hint="The file may be truncated; an autosave is written atomically, so try its last copy") from exc
        return cls.from_dict(data)

    # -- display -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        c = self.counts()
        return (f"CausalDraft({len(self.nodes)} nodes ({len(self.unobserved())} unobserved), {len(self.edges)} edges: "
                f"{c['accepted']} accepted, {c['proposed']} proposed, {c['rejected']} rejected; alarm={self.alarm!r})")

    def _repr_html_(self) -> str:
        c = self.counts()
        by_prov: dict[str, int] = {}
        for edge in self.edges.values():
            for p in edge.provenance:
                by_prov[p.value] = by_prov.get(p.value, 0) + 1
        prov = ", ".join(f"{k}: {v}" for k, v in sorted(by_prov.items())) or "none"
        alarm = html.escape(self.alarm) if self.alarm else "none"
        return (f"<div><b>CausalDraft</b>: {len(self.nodes)} nodes ({len(self.unobserved())} unobserved), "
                f"{len(self.edges)} edges &mdash; {c['accepted']} accepted, {c['proposed']} proposed, "
                f"{c['rejected']} rejected. Proposed by {html.escape(prov)}. Alarm: <code>{alarm}</code></div>")


def _jsonable(obj: object) -> JSONValue:
    """Evidence and meta may hold numpy numbers; keep JSON files readable and exact."""
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
