"""``Attribution``: a ranking of root causes with intervals, paths to the alarm, entities and hidden culprits."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import networkx as nx

    from rcakit._types import JSONObject
    from rcakit.attribution.faults import FaultGuess

__all__ = ["Attribution", "RankedCause"]

# methods whose score is a per-node deviation magnitude (the largest over the rows), not a structural score
_MAGNITUDE_METHODS = ("robust_z", "n_sigma")


def _elbow(causes: list[RankedCause], values: list[float], min_gap: float) -> list[str]:
    """The causes (sorted by ``values``, best first) before the largest neighbour ratio, if it is >= ``min_gap``."""
    if len(causes) <= 1:
        return [c.node for c in causes]
    ratios = [values[i] / values[i + 1] if values[i + 1] > 0 else math.inf for i in range(len(values) - 1)]
    best = max(range(len(ratios)), key=lambda i: ratios[i])
    return [c.node for c in (causes[: best + 1] if ratios[best] >= min_gap else causes)]


@dataclass
class RankedCause:
    """One candidate root cause: a metric node with its score, interval and path to the alarm."""

    node: str
    score: float
    low: float = math.nan
    high: float = math.nan
    anomaly: float = 0.0
    path: list[str] = field(default_factory=list)
    unobserved: list[str] = field(default_factory=list)

    @property
    def entity(self) -> str:
        return self.node.split(":", 1)[0]

    @property
    def metric(self) -> str:
        return self.node.split(":", 1)[1] if ":" in self.node else ""

    def to_dict(self) -> JSONObject:
        return {"node": self.node, "entity": self.entity, "metric": self.metric, "score": self.score,
                "low": self.low, "high": self.high, "anomaly": self.anomaly, "path": list(self.path),
                "unobserved": list(self.unobserved)}


@dataclass
class Attribution:
    """The answer of :func:`rcakit.attribution.attribute`, partial (``final=False``) or final.

    ``causes`` are sorted by score, best first. ``entities`` aggregates nodes to their entity (the
    best node's score). ``unobserved_culprits`` names unmeasured nodes that lie on the path of a top
    cause (Atlas 5.3: "GPU_0:power, unmeasured, may be the cause").
    """

    method: str
    alarm: str | None
    causes: list[RankedCause]
    stage: str = "final"
    final: bool = True
    elapsed: float = 0.0
    graph_fingerprint: str | None = None
    incident: str = ""
    rows: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fault_type: FaultGuess | None = None
    #: service -> the resource its slower self time was credited to (``Method.MULTIMODAL``'s placement rule)
    credited_to: dict[str, str] = field(default_factory=dict)
    #: caller -> the callee the traces show it waiting on: its added latency is mostly the callee's, its own
    #: self time did not grow (``Method.MULTIMODAL``; :func:`rcakit.attribution.fuse` moves a latency or backlog cause there)
    waits_on: dict[str, str] = field(default_factory=dict)
    #: the callers of ``waits_on`` at which the traces count no failures beginning: a rise of their error rate is
    #: failed or timed-out calls to the callee they waited on (:func:`rcakit.attribution.fuse` moves it there)
    fails_on: dict[str, str] = field(default_factory=dict)

    # -- queries ---------------------------------------------------------------------------------
    def top(self, k: int = 3) -> list[RankedCause]:
        return self.causes[:k]

    @property
    def nodes(self) -> list[str]:
        return [c.node for c in self.causes]

    @property
    def entities(self) -> list[tuple[str, float]]:
        best: dict[str, float] = {}
        for cause in self.causes:
            if cause.entity not in best:
                best[cause.entity] = cause.score
        return list(best.items())

    def root_cause_set(self, rule: str = "auto", *, min_gap: float = 1.5, max_size: int | None = None,
                       graph: nx.DiGraph | None = None, threshold: float = 3.0) -> list[str]:
        """The set of root-cause nodes this ranking points at, chosen by a rule that needs no set size.

        Every rule starts from the same principle: a node that did not move is no root cause. A cause
        is *anomalous* when its ``anomaly`` (the robust z of the node over the analysed rows, the
        same for every method) is above ``threshold`` (3.0, the attribution's default).

        ``rule="auto"`` (default): ``"persistent"`` for the graph-free magnitude rankings
        (``robust_z``, ``n_sigma``: their score is the largest deviation over the rows, which one
        spike decides), ``"gap"`` for every other method (its score already weighs the structure).
        Pass ``rule="roots"`` with the graph when you have one: it is the most accurate rule on the
        simulator (see below). Measured (``python -m rcakit.bench localize --datasets simset``, held-out
        seeds 5-9, one and two root causes, mean entity-level set F1): roots 0.76-0.88 for every method;
        gap 0.69-0.77 for structural; for robust_z persistent and gap tie (0.49 both, over the four
        rows); on Storm persistent names exactly the two labelled root causes where gap adds a node
        that only spikes.

        ``rule="gap"`` (the elbow of the sorted scores): among the anomalous causes with a
        positive score, walk the scores best first and cut at the largest ratio between two
        neighbours, ``s[k] / s[k+1]``; the set is the causes before the cut. The cut must be a real
        gap, a ratio of at least ``min_gap`` (1.5 by default); when no neighbours differ that much (a
        flat list: nothing stands out) the set is every eligible cause, meaning "the ranking cannot
        narrow it down", not an empty set. When no cause is anomalous (or the anomalies are unknown,
        all 0) the eligible causes are all with a positive score. Causes scored 0 or less are never in it.

        ``rule="persistent"``: the same elbow cut, on the anomalies instead of the scores (the
        anomaly is the median z over the analysed rows, so a node that spikes on a few rows and is
        normal on the others ranks low), among the anomalous causes. It reads no score, so it gives
        the same set for every method.

        ``rule="roots"`` (needs ``graph``, cause -> effect; EasyRCA's first step): the roots of the
        anomalous subgraph, every anomalous cause none of whose parents in the graph is anomalous
        (an anomalous parent is where the anomaly came from). Best score first. It reads only the
        anomalies and the graph, so it gives the same set for every method; with several
        simultaneous faults it names each independent origin. On simulator incidents with one and
        two injected root causes it is the most accurate rule (``python -m rcakit.bench localize
        --datasets simset``); it misses a root cause that lies downstream of another anomalous node.

        ``rule="unexplained"`` (needs ``graph``): every anomalous cause whose anomaly is larger than
        the anomaly of each of its anomalous parents (a parent that moved at least as much explains
        it). A looser "roots": a child that moved more than its parents stays in.

        ``max_size`` caps the set (best first). Scores that are NaN count as zero.
        """
        if rule == "auto":
            rule = self._auto_rule()
        if rule == "gap":
            positive = [c for c in self.causes if math.isfinite(c.score) and c.score > 0]
            anomalous = [c for c in positive if c.anomaly > threshold]
            chosen = _elbow(anomalous or positive, [c.score for c in anomalous or positive], min_gap)
        elif rule == "persistent":
            persistent = sorted((c for c in self.causes if c.anomaly > threshold), key=lambda c: -c.anomaly)
            chosen = _elbow(persistent, [c.anomaly for c in persistent], min_gap)
        elif rule in ("roots", "unexplained"):
            if graph is None:
                raise ValueError(f"rule={rule!r} needs the causal graph: root_cause_set({rule!r}, graph=g)")
            anomaly = {c.node: c.anomaly for c in self.causes}
            chosen = []
            for cause in self.causes:
                if cause.anomaly <= threshold:
                    continue
                parents = [p for p in (graph.predecessors(cause.node) if cause.node in graph else [])
                           if anomaly.get(p, 0.0) > threshold]
                if rule == "roots" and parents:
                    continue
                if all(anomaly[p] < cause.anomaly for p in parents):
                    chosen.append(cause.node)
        else:
            raise ValueError(f"unknown root-cause set rule {rule!r}; use 'auto', 'gap', 'persistent', 'roots' or "
                             "'unexplained'")
        return chosen[:max_size] if max_size is not None else chosen

    def _auto_rule(self) -> str:
        """The rule ``root_cause_set("auto")`` uses for this method (see there)."""
        return "persistent" if self.method in _MAGNITUDE_METHODS else "gap"

    def rank_of(self, node_or_entity: str) -> int | None:
        """1-based rank of a node, or of an entity (by its best node); None when absent."""
        for i, cause in enumerate(self.causes):
            if cause.node == node_or_entity:
                return i + 1
        for i, (entity, _) in enumerate(self.entities):
            if entity == node_or_entity:
                return i + 1
        return None

    @property
    def unobserved_culprits(self) -> list[str]:
        seen: list[str] = []
        for cause in self.causes[:3]:
            for name in cause.unobserved:
                if name not in seen:
                    seen.append(name)
        return seen

    def explanations(self, k: int = 3) -> list[str]:
        """One sentence per top cause, with the path and any unmeasured node on it."""
        out = []
        for cause in self.causes[:k]:
            text = f"{cause.node} (score {cause.score:.3g})"
            if len(cause.path) > 1:
                text += " -> " + " -> ".join(cause.path[1:])
            out.append(text)
            for name in cause.unobserved:
                out.append(f"{name}, unmeasured, may be the cause (on the path {cause.node} -> {self.alarm})")
        return out

    # -- export ----------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        rows = [{"rank": i + 1, **c.to_dict()} for i, c in enumerate(self.causes)]
        columns = ["rank", "node", "entity", "metric", "score", "low", "high", "anomaly", "path", "unobserved"]
        return pd.DataFrame(rows, columns=columns)

    def entity_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"rank": i + 1, "entity": e, "score": s} for i, (e, s) in enumerate(self.entities)])

    def to_dict(self) -> JSONObject:
        return {"method": self.method, "alarm": self.alarm, "stage": self.stage, "final": self.final,
                "elapsed": self.elapsed, "graph_fingerprint": self.graph_fingerprint, "incident": self.incident,
                "rows": list(self.rows), "notes": list(self.notes),
                "fault_type": (self.fault_type.to_dict() if self.fault_type is not None
                               and hasattr(self.fault_type, "to_dict") else self.fault_type),
                "causes": [c.to_dict() for c in self.causes],
                "entities": [{"entity": e, "score": s} for e, s in self.entities],
                "unobserved_culprits": self.unobserved_culprits}

    def __repr__(self) -> str:
        top = ", ".join(f"{c.node}={c.score:.3g}" for c in self.causes[:3])
        return (f"Attribution({self.method}, {self.stage}, alarm={self.alarm!r}, {len(self.causes)} causes: "
                f"{top}{', ...' if len(self.causes) > 3 else ''})")

    def _repr_html_(self) -> str:
        esc = html.escape
        head = (f"<b>Attribution</b> ({esc(self.method)}, {esc(self.stage)}{'' if self.final else ', partial'}) "
                f"of alarm <code>{esc(str(self.alarm))}</code> in {self.elapsed:.2f} s")
        rows = []
        for i, c in enumerate(self.causes[:15]):
            interval = "" if math.isnan(c.low) else f"[{c.low:.3g}, {c.high:.3g}]"
            path = " &rarr; ".join(esc(p) for p in c.path)
            hidden = f"<br><i>unmeasured on path: {esc(', '.join(c.unobserved))}</i>" if c.unobserved else ""
            rows.append(f"<tr><td>{i + 1}</td><td>{esc(c.node)}</td><td>{c.score:.3g}</td><td>{interval}</td>"
                        f"<td>{path}{hidden}</td></tr>")
        table = ("<table><tr><th>#</th><th>node</th><th>score</th><th>interval</th><th>path to alarm</th></tr>"
                 + "".join(rows) + "</table>")
        extra = ""
        chosen = self.root_cause_set()
        if chosen and len(chosen) < len(self.causes):
            extra += f"<p>root-cause set ({self._auto_rule()} rule): {esc(', '.join(chosen))}</p>"
        if self.unobserved_culprits:
            extra += "<p>" + "<br>".join(f"{esc(n)}, unmeasured, may be the cause" for n in
                                         self.unobserved_culprits) + "</p>"
        if self.fault_type is not None:
            extra += f"<p>fault type of the top cause: {esc(str(getattr(self.fault_type, 'fault_type', '')))}</p>"
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        return f"<div>{head}{table}{extra}{'<ul>' + notes + '</ul>' if notes else ''}</div>"
