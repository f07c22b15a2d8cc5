"""Which edges to show the reviewer next: the validation ranking, or a small fallback while it is absent.

:func:`rank` asks ``rcakit.graph.validate.next_batch`` (imported lazily, so the review code works
before and after validation lands) and falls back to :func:`fallback_ranking`: proposed edges in a
cycle first, then low confidence, a single provenance, weak data support and a place on a path to
the alarm; with data, strongly dependent pairs the draft lacks are offered as *missing* edges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from rcakit.graph.draft import CausalDraft, EdgeStatus

__all__ = ["FallbackSuspect", "fallback_ranking", "rank", "ranking_source", "wide_frame"]


@dataclass
class FallbackSuspect:
    """Same shape as ``rcakit.graph.validate.SuspectEdge``."""

    edge: tuple[str, str]
    kind: str
    score: float
    reasons: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)


def ranking_source() -> str:
    """``"validate"`` when rcakit.graph.validate provides the ranking, ``"fallback"`` otherwise."""
    try:
        from rcakit.graph.validate import next_batch  # noqa: F401
    except ImportError:
        return "fallback"
    return "validate"


def rank(
    draft: CausalDraft, data: Any = None, *, k: int = 5, alarm: str | None = None,
    exclude: Iterable[tuple[str, str]] = (), order: str = "expected_gain",
) -> tuple[list[Any], str]:
    """The next ``k`` suspicious edges (in ``order``, a ``QuestionOrder`` value) and which ranking produced them."""
    excluded: set[tuple[str, str]] = {(str(a), str(b)) for a, b in exclude}
    try:
        from rcakit.graph.validate import next_batch
    except ImportError:
        return fallback_ranking(draft, data, alarm=alarm, exclude=excluded)[:k], "fallback"
    # Ask for a few more than k: the session also drops edges it already decided.
    found = next_batch(draft, data, k=k + len(excluded), alarm=alarm, exclude=tuple(sorted(excluded)), order=order)
    return [s for s in found if tuple(s.edge) not in excluded][:k], "validate"


def wide_frame(data: Any, nodes: Iterable[str]) -> Any:
    """A pandas frame with one column per node found in ``data`` (pandas, polars or AlignedMetrics)."""
    import pandas as pd

    from rcakit.errors import DataError

    if data is None:
        return None
    frame = data
    if hasattr(frame, "to_pandas") and not isinstance(frame, pd.DataFrame):
        frame = frame.to_pandas()
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"review data must be a wide table (pandas or polars frame), got {type(data).__name__}",
                        hint="Pass incident.aligned(freq) or a frame with one column per 'entity:metric' node")
    wanted = [n for n in nodes if n in frame.columns]
    return frame[wanted].apply(pd.to_numeric, errors="coerce")


def _correlations(frame: Any) -> tuple[list[str], np.ndarray]:
    cols = [c for c in frame.columns if frame[c].notna().sum() > 3 and frame[c].std(skipna=True) > 0]
    if len(cols) < 2:
        return cols, np.zeros((len(cols), len(cols)))
    values = frame[cols].to_numpy(dtype=float)
    values = np.where(np.isnan(values), np.nanmean(values, axis=0), values)
    corr = np.corrcoef(values, rowvar=False)
    return cols, np.nan_to_num(corr)


def fallback_ranking(
    draft: CausalDraft, data: Any = None, *, alarm: str | None = None, exclude: Iterable[tuple[str, str]] = (),
) -> list[FallbackSuspect]:
    """Rank proposed edges by how likely a reviewer is to change them; most suspicious first."""
    excluded = set(map(tuple, exclude))
    alarm = alarm or draft.alarm
    live = draft.edges_where(status=[EdgeStatus.PROPOSED, EdgeStatus.ACCEPTED])
    graph = nx.DiGraph([e.key for e in live])
    near_alarm: set[str] = set()
    if alarm is not None and alarm in graph:
        near_alarm = nx.ancestors(graph, alarm) | {alarm}
    in_cycle: set[tuple[str, str]] = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            in_cycle |= {(u, v) for u, v in graph.subgraph(component).edges}
    frame = wide_frame(data, draft.nodes) if data is not None else None
    cols, corr = _correlations(frame) if frame is not None else ([], np.zeros((0, 0)))
    index = {c: i for i, c in enumerate(cols)}
    out: list[FallbackSuspect] = []
    for edge in draft.edges_where(status=EdgeStatus.PROPOSED):
        if edge.key in excluded:
            continue
        reasons: list[str] = []
        evidence: dict[str, Any] = {}
        score = 1.0 - float(edge.confidence)
        reasons.append(f"confidence {edge.confidence:.2f}")
        kind = "questionable"
        if len(edge.provenance) <= 1:
            score += 0.2
            reasons.append("proposed by one source only: " + (edge.provenance[0].value if edge.provenance else "unknown"))
        if edge.key in in_cycle:
            score += 1.0
            kind = "cycle"
            reasons.append("lies on a cycle")
        if edge.source in near_alarm and edge.target in near_alarm:
            score += 0.15
            reasons.append("on a path to the alarm")
        if edge.source in index and edge.target in index:
            r = float(corr[index[edge.source], index[edge.target]])
            evidence["abs_correlation"] = round(abs(r), 4)
            if abs(r) < 0.1:
                score += 0.4
                reasons.append(f"the data barely link the two (|r| = {abs(r):.2f})")
        out.append(FallbackSuspect(edge.key, kind, round(score, 4), reasons, evidence))
    if len(cols) > 1:
        present = {frozenset(k) for k in draft.edges}
        for i, a in enumerate(cols):
            for j in range(i + 1, len(cols)):
                b = cols[j]
                r = float(corr[i, j])
                if abs(r) < 0.8 or frozenset((a, b)) in present:
                    continue
                key = (a, b) if not (b in near_alarm and a not in near_alarm) else (b, a)
                if key in excluded or key[::-1] in excluded:
                    continue
                out.append(FallbackSuspect(key, "missing", round(abs(r) * 0.9, 4),
                                           [f"strongly correlated (|r| = {abs(r):.2f}) but not linked in the draft"],
                                           {"abs_correlation": round(abs(r), 4)}))
    out.sort(key=lambda s: (-s.score, s.edge))
    return [s for s in out if not math.isnan(s.score)]
