"""``SuspectEdge``: an edge worth a human look, and what to do with a list of them without a human."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.graph.proposal import Provenance

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue

__all__ = ["SuspectEdge", "SuspectKind", "annotate_suspicion", "apply_suspects"]

SuspectKind = Literal["questionable", "reversed", "cycle", "missing"]


@dataclass
class SuspectEdge:
    """An edge worth a human look: the edge as proposed (or, for ``missing``, as suggested), why, how much."""

    edge: tuple[str, str]
    kind: SuspectKind
    score: float
    reasons: list[str] = field(default_factory=list)
    evidence: JSONObject = field(default_factory=dict)

    def to_dict(self) -> JSONObject:
        return {"edge": list(self.edge), "kind": self.kind, "score": float(self.score), "reasons": list(self.reasons),
                "evidence": _plain(self.evidence)}

    def _repr_html_(self) -> str:
        u, v = (html.escape(x) for x in self.edge)
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in self.reasons)
        return f"<div><b>{html.escape(self.kind)}</b> {u} &rarr; {v} (score {self.score:.2f})<ul>{reasons}</ul></div>"


def _plain(obj: object) -> JSONValue:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj



def apply_suspects(draft: CausalDraft, suspects: Iterable[SuspectEdge], *, min_score: float = 0.0,
                   kinds: Iterable[str] = ("cycle", "questionable", "reversed", "missing")) -> CausalDraft:
    """A copy of ``draft`` with suspects taken at their word (no human): cut, reject, reverse, add.

    Meant for evaluation and for unattended runs; a human review (ReviewSession) is the normal way.
    Cycle and questionable edges are rejected, reversed ones reversed, missing ones added as proposed
    data edges. Only suspects with ``score >= min_score`` and a kind in ``kinds`` are applied.
    """
    out = draft.copy()
    allowed = set(kinds)
    for s in suspects:
        if s.score < min_score or s.kind not in allowed:
            continue
        u, v = s.edge
        if s.kind in ("cycle", "questionable") and out.has_edge(u, v):
            out.set_status(u, v, EdgeStatus.REJECTED)
        elif s.kind == "reversed" and out.has_edge(u, v):
            out.reverse_edge(u, v)
        elif s.kind == "missing" and not out.has_edge(u, v) and not out.has_edge(v, u):
            out.add_edge(u, v, provenance=Provenance.DATA, confidence=min(1.0, s.score),
                         rationale="; ".join(s.reasons), evidence=s.evidence)
    return out


def annotate_suspicion(draft: CausalDraft, suspects: Iterable[SuspectEdge]) -> CausalDraft:
    """Write each suspect's score into its draft edge (``DraftEdge.suspicion``) and kind/reasons into evidence.

    Edits ``draft`` in place (and returns it) so that a view can colour edges by suspicion; missing
    edges are not in the draft and are skipped.
    """
    for s in suspects:
        if draft.has_edge(*s.edge):
            edge = draft.edge(*s.edge)
            edge.suspicion = float(s.score)
            edge.evidence["validation"] = {"kind": s.kind, "reasons": list(s.reasons)}
    return draft
