"""Every proposed edge of a draft with its suspicion: cycle cuts, disputes, structure and data, missed edges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx

from rcakit.graph.draft import CausalDraft, DraftEdge, EdgeStatus
from rcakit.graph.proposal import Provenance
from rcakit.graph.validate._cache import ValidationCache, _Data, validation_cache
from rcakit.graph.validate._checks import (
    alarm_reach,
    candidate_set,
    cycle_cut,
    entity,
    entity_links,
    impact_of_removal,
    local_markov,
    missing_edges,
    review_graph,
)
from rcakit.graph.validate.suspect import SuspectEdge, SuspectKind

if TYPE_CHECKING:
    from rcakit._types import JSONObject
    from rcakit.graph.data import WideData

__all__ = ["rank_suspicious"]


def rank_suspicious(
    draft: CausalDraft,
    data: WideData | None = None,
    *,
    alarm: str | None = None,
    exclude: Iterable[tuple[str, str]] = (),
    alpha: float = 0.01,
    missing_alpha: float = 1e-4,
    min_missing_correlation: float = 0.15,
    seed: int = 0,
    cache: ValidationCache | bool = True,
) -> list[SuspectEdge]:
    """Every proposed edge with its suspicion, cycle cuts and missed edges, most suspicious first.

    ``data``: a wide aligned frame (polars or pandas, one column per node; a ``time`` column is
    ignored) or None for structural checks only. ``alarm`` defaults to ``draft.alarm``. Edges in
    ``exclude`` (already decided; either direction) and accepted or rejected edges are not handed
    out again. Proposed edges the data do not question still appear, with low scores, so that a
    reviewer can go through the whole draft in order.

    ``cache``: True (default) keeps the tests for this draft between calls (:func:`validation_cache`)
    and reruns only those whose conditioning neighbourhood changed; a :class:`ValidationCache` uses
    that one; False recomputes everything. The ranking is the same either way.
    """
    store = validation_cache(draft) if cache is True else (cache if isinstance(cache, ValidationCache) else None)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return _rank(draft, data, alarm, exclude, alpha, missing_alpha, min_missing_correlation, seed, store)
    with threadpool_limits(1):  # small matrices: BLAS threads would only contend
        return _rank(draft, data, alarm, exclude, alpha, missing_alpha, min_missing_correlation, seed, store)


@dataclass
class _Context:
    """What every check of one ranking reads: the draft's graph, the alarm's reach, the data, the structure."""

    draft: CausalDraft
    g: nx.DiGraph
    alarm: str | None
    before: set[str]
    d: _Data | None
    alpha: float
    links: dict[frozenset[str], int]
    candidates: set[frozenset[str]] | None
    known: set[str]
    descendants: dict[str, set[str]] = field(default_factory=dict)

    def desc(self, node: str) -> set[str]:
        if node not in self.descendants:
            self.descendants[node] = nx.descendants(self.g, node) if node in self.g else set()
        return self.descendants[node]


def _rank(draft: CausalDraft, data: WideData | None, alarm: str | None, exclude: Iterable[tuple[str, str]], alpha: float,
          missing_alpha: float, min_missing_correlation: float, seed: int,
          store: ValidationCache | None) -> list[SuspectEdge]:
    alarm = alarm if alarm is not None else draft.alarm
    excluded: set[tuple[str, str]] = {(str(e[0]), str(e[1])) for e in exclude}
    excluded |= {(v, u) for u, v in excluded}
    g = review_graph(draft)
    before = alarm_reach(g, alarm)
    observed = [n for n, node in draft.nodes.items() if node.observed]
    d: _Data | None = None
    if data is not None:
        d = store.data_for(data, observed, seed) if store is not None else _Data(data, observed, seed)
        d.begin_round()
    candidates = candidate_set(draft)
    ctx = _Context(draft, g, alarm, before, d, alpha, entity_links(g), candidates,
                   set().union(*candidates) if candidates else set())
    out: dict[tuple[str, ...], SuspectEdge] = {}

    # 1. cycles: a greedy minimal cut over the confounder graph (cycles there are the ones that matter).
    for edge, info in cycle_cut(draft, d, excluded).items():
        impact = impact_of_removal(g, edge, alarm, before)
        _put(out, SuspectEdge(edge, "cycle", round(0.85 + 0.15 * impact, 4),
                              [f"on {info['cycles']} cycle(s) of the draft; cutting it (with the other proposed "
                               "cuts) makes the graph acyclic"], {"cycles": info["cycles"], "alarm_impact": impact}))
    # 2. each proposed edge: disputes, confidence, structure, data.
    for e in draft.edges.values():
        if e.status is EdgeStatus.PROPOSED and e.key not in excluded:
            _put(out, _edge_suspect(ctx, e))
    # 3. missed edges that add connectivity (needs data).
    if d is not None:
        for s in missing_edges(draft, d, g, alarm, before, excluded, missing_alpha, min_missing_correlation, seed):
            _put(out, s)
        d.end_round()
    return sorted(out.values(), key=lambda s: (-s.score, s.kind, s.edge))


def _put(out: dict[tuple[str, ...], SuspectEdge], s: SuspectEdge) -> None:
    """Keep the higher-scored suspect of an edge, with the reasons and evidence of both."""
    key: tuple[str, ...] = s.edge if s.kind != "missing" else tuple(sorted(s.edge))
    old = out.get(key)
    if old is None or s.score > old.score:
        if old is not None:
            s.reasons = s.reasons + [r for r in old.reasons if r not in s.reasons]
            s.evidence = {**old.evidence, **s.evidence}
        out[key] = s
    else:
        old.reasons += [r for r in s.reasons if r not in old.reasons]
        old.evidence = {**s.evidence, **old.evidence}


def _edge_suspect(ctx: _Context, e: DraftEdge) -> SuspectEdge:
    """One proposed edge: questionable (should not be there) or reversed, each piece of evidence graded."""
    u, v = e.key
    impact = impact_of_removal(ctx.g, e.key, ctx.alarm, ctx.before)
    on_path = ctx.alarm is None or ctx.alarm not in ctx.g or v == ctx.alarm or v in ctx.before
    reasons: list[str] = []
    evidence: JSONObject = {"alarm_impact": impact, "on_alarm_path": on_path, "confidence": e.confidence}
    q_score = 0.1 * (1.0 - float(e.confidence)) + _structural(ctx, e, reasons, evidence)
    r_score = 0.0
    conflict = e.evidence.get("conflict")
    if conflict:
        w_k, w_r = float(conflict.get("weight_kept", 1)), float(conflict.get("weight_reversed", 0))
        r_score = 0.35 + 0.4 * w_r / max(w_k + w_r, 1e-9)
        reasons.insert(0, f"suggesters disagreed on the direction ({', '.join(conflict.get('reversed_by', []))} "
                          f"said {v} -> {u})")
    if ctx.d is not None and ctx.d.has(u, v):
        q_score, data_rev = _data_evidence(ctx, ctx.d, e, q_score, reasons, evidence)
        if data_rev is not None:
            r_score = max(r_score, data_rev) + (0.15 if conflict and data_rev > 0.2 else 0.0)
    q_score = min(q_score, 1.0)
    kind: SuspectKind = "reversed" if r_score > q_score else "questionable"
    base = min(1.0, max(q_score, r_score))
    # Edges off every path to the alarm matter less; an edge many nodes reach the alarm through, more.
    score = round(base * (0.85 + 0.15 * impact) * (1.0 if on_path else 0.8), 4)
    if not reasons:
        reasons.append("no objection found; listed for completeness")
    return SuspectEdge(e.key, kind, score, reasons, evidence)


def _structural(ctx: _Context, e: DraftEdge, reasons: list[str], evidence: JSONObject) -> float:
    """What the draft's structure says against the edge: only the data suggested it, no interaction behind it."""
    u, v = e.key
    q = 0.0
    if e.provenance and set(e.provenance) <= {Provenance.DATA}:
        q += 0.1
        reasons.append("only the data suggested it")
    eu, ev = entity(u), entity(v)
    if (ctx.candidates is not None and eu != ev and frozenset((u, v)) not in ctx.candidates
            and u in ctx.known and v in ctx.known):
        q += 0.25
        evidence["interaction"] = "none in the system model"
        reasons.append(f"{eu} and {ev} do not interact in the system model")
    elif (ctx.candidates is None and any(n > 1 for n in ctx.links.values()) and eu != ev
          and ctx.links.get(frozenset((eu, ev)), 0) <= 1):
        q += 0.15
        evidence["interaction"] = "no other edge"
        reasons.append(f"no other edge of the draft links {eu} and {ev}: the interaction rests on this edge alone")
    return q


def _data_evidence(ctx: _Context, d: _Data, e: DraftEdge, q_score: float, reasons: list[str],
                   evidence: JSONObject) -> tuple[float, float | None]:
    """(questionable score with the data's word, reversal score from the data or None when not dependent)."""
    g, alpha = ctx.g, ctx.alpha
    u, v = e.key
    cond = [p for p in g.predecessors(v) if p != u] + [p for p in g.predecessors(u) if p != v]
    r, p, used = d.test(u, v, cond)
    evidence.update({"partial_correlation": r, "p_value": p, "conditioned_on": used})
    weak = 1.0 - min(1.0, abs(r) / 0.2)
    # An independence found given few neighbours is direct evidence (the two metrics do not co-vary);
    # one found only after conditioning on many (often collinear) neighbours may be a loss of power,
    # so it counts for less.
    power = 1.0 - 0.4 * min(1.0, len(used) / 8)
    q_score += power * (0.45 * weak + (0.3 if p > alpha else 0.0) + 0.15 * min(1.0, p / 0.5))
    if p > alpha:
        reasons.append(f"independent in the data given {len(used)} neighbour(s) "
                       f"(partial correlation {r:+.2f}, p = {p:.2g})")
        return q_score, None
    if weak > 0.5:
        reasons.append(f"only weakly dependent given {len(used)} neighbour(s) (partial correlation {r:+.2f})")
    else:
        q_score = min(q_score, 0.25)  # clearly dependent: structure alone does not make it questionable
    anm = d.anm(u, v)
    evidence["anm"] = anm
    pref = float(anm["reverse_preference"])
    broken = local_markov(d, g, u, v, ctx.desc, alpha)
    evidence["local_markov_violations"] = broken
    lm = abs(broken[0]["partial_correlation"]) if broken else 0.0
    if pref > 0.25:
        reasons.append(f"an additive noise model fits {v} -> {u} better (HSIC "
                       f"{anm['hsic_backward']:.3f} against {anm['hsic_forward']:.3f})")
    if broken:
        reasons.append(f"the draft implies {broken[0]['check']}, but the data link them (partial "
                       f"correlation {broken[0]['partial_correlation']:+.2f}): consistent with {v} -> {u}")
    return q_score, 0.75 * (0.7 * max(0.0, pref) + 0.3 * min(1.0, lm / 0.2))
