"""Which edges of a draft deserve a human look (Atlas 4.6), five at a time.

Four kinds of suspicion, each with its reasons and evidence:

* ``questionable``: the data say the two metrics are independent given the cause's and effect's
  other parents (a Markov blanket of the pair in the draft): partial correlation, Fisher z test;
* ``reversed``: an additive-noise-model test fits the reverse direction better (the residual of
  effect-on-cause is more dependent on the cause than the other way round, HSIC), or the
  suggesters disagreed on the direction;
* ``cycle``: the edge belongs to a minimal set of edges whose removal makes the draft acyclic
  (greedy: the edge on most cycles, least confident and least supported by data first);
* ``missing``: two metrics the draft does not connect are clearly dependent given their parents,
  and an edge between them would add connectivity (candidate pairs only when the draft has a system).

Scores are in [0, 1]; each is weighted by how much the edge matters for the alarm: how many nodes
lose (or, for a missing edge, gain) a path to the alarm node when the edge is removed (added).
Without data only structural checks run (cycles, disputed directions, low confidence).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import networkx as nx
import numpy as np

from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.graph.proposal import Provenance

__all__ = [
    "SuspectEdge",
    "anm_direction",
    "annotate_suspicion",
    "apply_suspects",
    "next_batch",
    "partial_correlation",
    "rank_suspicious",
]

SuspectKind = Literal["questionable", "reversed", "cycle", "missing"]


@dataclass
class SuspectEdge:
    """An edge worth a human look: the edge as proposed (or, for ``missing``, as suggested), why, how much."""

    edge: tuple[str, str]
    kind: SuspectKind
    score: float
    reasons: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"edge": list(self.edge), "kind": self.kind, "score": float(self.score), "reasons": list(self.reasons),
                "evidence": _plain(self.evidence)}

    def _repr_html_(self) -> str:
        u, v = (html.escape(x) for x in self.edge)
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in self.reasons)
        return f"<div><b>{html.escape(self.kind)}</b> {u} &rarr; {v} (score {self.score:.2f})<ul>{reasons}</ul></div>"


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# -- statistics -----------------------------------------------------------------------------------------
def partial_correlation(corr: np.ndarray, i: int, j: int, cond: Iterable[int]) -> float:
    """Partial correlation of variables i and j given ``cond`` from a correlation matrix."""
    idx = [i, j, *[c for c in cond if c not in (i, j)]]
    sub = corr[np.ix_(idx, idx)]
    prec = np.linalg.pinv(sub)
    denom = math.sqrt(max(prec[0, 0] * prec[1, 1], 1e-300))
    return float(np.clip(-prec[0, 1] / denom, -0.999999, 0.999999))


def _fisher_p(r: float, n: int, k: int) -> float:
    dof = max(n - k - 3, 1)
    z = 0.5 * math.log((1 + r) / (1 - r)) * math.sqrt(dof)
    return float(math.erfc(abs(z) / math.sqrt(2)))


def _hsic(x: np.ndarray, y: np.ndarray) -> float:
    """Normalised HSIC statistic with Gaussian kernels (median heuristic)."""
    n = x.shape[0]

    def gram(v: np.ndarray) -> np.ndarray:
        d = (v[:, None] - v[None, :]) ** 2
        med = np.median(d[d > 0]) if np.any(d > 0) else 1.0
        return np.exp(-d / med)

    h = np.eye(n) - 1.0 / n
    k, lm = h @ gram(x) @ h, h @ gram(y) @ h
    num = float((k * lm).sum())
    den = math.sqrt(float((k * k).sum()) * float((lm * lm).sum())) or 1.0
    return num / den


def _residual(cause: np.ndarray, effect: np.ndarray, degree: int = 3) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a poorly conditioned fit (few distinct values) is still a fit
        coef = np.polyfit(cause, effect, degree)
    return effect - np.polyval(coef, cause)


def anm_direction(x: np.ndarray, y: np.ndarray, *, max_samples: int = 300, seed: int = 0) -> dict[str, float]:
    """Additive-noise-model check of x -> y against y -> x.

    Fits each direction with a cubic regression and measures the dependence between the cause and
    the residual (normalised HSIC; lower is better). Returns both statistics and
    ``reverse_preference`` in [-1, 1]: positive when y -> x fits better.
    """
    rng = np.random.default_rng(seed)
    if x.shape[0] > max_samples:
        idx = rng.choice(x.shape[0], size=max_samples, replace=False)
        x, y = x[idx], y[idx]
    x = (x - x.mean()) / (x.std() or 1.0)
    y = (y - y.mean()) / (y.std() or 1.0)
    forward = _hsic(x, _residual(x, y))
    backward = _hsic(y, _residual(y, x))
    pref = (forward - backward) / max(forward + backward, 1e-12)
    return {"hsic_forward": forward, "hsic_backward": backward, "reverse_preference": float(pref)}


# -- graph helpers ----------------------------------------------------------------------------------------
def _review_graph(draft: CausalDraft) -> nx.DiGraph:
    return draft.observed_graph(include_proposed=True)


def _alarm_reach(g: nx.DiGraph, alarm: str | None) -> set[str]:
    if alarm is None or alarm not in g:
        return set()
    return nx.ancestors(g, alarm)


def _impact_of_removal(g: nx.DiGraph, edge: tuple[str, str], alarm: str | None, before: set[str]) -> float:
    if alarm is None or not before or not g.has_edge(*edge):
        return 0.0
    data = g.edges[edge]
    g.remove_edge(*edge)
    after = _alarm_reach(g, alarm)
    g.add_edge(*edge, **data)
    return len(before - after) / max(len(before), 1)


def _impact_of_addition(g: nx.DiGraph, edge: tuple[str, str], alarm: str | None, before: set[str]) -> float:
    if alarm is None or alarm not in g or edge[0] not in g or edge[1] not in g:
        return 0.0
    g.add_edge(*edge)
    after = _alarm_reach(g, alarm)
    g.remove_edge(*edge)
    return len(after - before) / max(len(g) - 1, 1)


class _Data:
    def __init__(self, data: Any, nodes: list[str], seed: int) -> None:
        from rcakit.graph.data import wide_matrix

        self.x, kept, self.dropped = wide_matrix(data, [n for n in nodes], max_samples=5000, seed=seed)
        self.index = {n: i for i, n in enumerate(kept)}
        self.n = self.x.shape[0]
        self.corr = np.corrcoef(self.x, rowvar=False) if self.x.shape[1] > 1 else np.ones((1, 1))
        self.corr = np.nan_to_num(self.corr)

    def has(self, *nodes: str) -> bool:
        return all(n in self.index for n in nodes)

    def test(self, u: str, v: str, cond: Iterable[str], max_cond: int = 10) -> tuple[float, float, list[str]]:
        i, j = self.index[u], self.index[v]
        cands = [c for c in dict.fromkeys(cond) if c in self.index and c not in (u, v)]
        # The strongest neighbours of either end, at most max_cond of them (keeps the test powerful).
        cands.sort(key=lambda c: -max(abs(self.corr[self.index[c], i]), abs(self.corr[self.index[c], j])))
        cands = cands[:max_cond]
        r = partial_correlation(self.corr, i, j, [self.index[c] for c in cands])
        return r, _fisher_p(r, self.n, len(cands)), cands


# -- ranking --------------------------------------------------------------------------------------------
def rank_suspicious(
    draft: CausalDraft,
    data: Any = None,
    *,
    alarm: str | None = None,
    exclude: Iterable[tuple[str, str]] = (),
    alpha: float = 0.01,
    missing_alpha: float = 1e-4,
    min_missing_correlation: float = 0.15,
    seed: int = 0,
) -> list[SuspectEdge]:
    """Every proposed edge with its suspicion, cycle cuts and missed edges, most suspicious first.

    ``data``: a wide aligned frame (polars or pandas, one column per node; a ``time`` column is
    ignored) or None for structural checks only. ``alarm`` defaults to ``draft.alarm``. Edges in
    ``exclude`` (already decided; either direction) and accepted or rejected edges are not handed
    out again. Proposed edges the data do not question still appear, with low scores, so that a
    reviewer can go through the whole draft in order.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return _rank(draft, data, alarm, exclude, alpha, missing_alpha, min_missing_correlation, seed)
    with threadpool_limits(1):  # small matrices: BLAS threads would only contend
        return _rank(draft, data, alarm, exclude, alpha, missing_alpha, min_missing_correlation, seed)


def _rank(draft: CausalDraft, data: Any, alarm: str | None, exclude: Iterable[tuple[str, str]], alpha: float,
          missing_alpha: float, min_missing_correlation: float, seed: int) -> list[SuspectEdge]:
    alarm = alarm if alarm is not None else draft.alarm
    excluded: set[tuple[str, str]] = {(str(e[0]), str(e[1])) for e in exclude}
    excluded |= {(v, u) for u, v in excluded}
    g = _review_graph(draft)
    before = _alarm_reach(g, alarm)
    observed = [n for n, node in draft.nodes.items() if node.observed]
    d = _Data(data, observed, seed) if data is not None else None
    out: dict[tuple[str, str], SuspectEdge] = {}

    def put(s: SuspectEdge) -> None:
        key = s.edge if s.kind != "missing" else tuple(sorted(s.edge))
        old = out.get(key)  # type: ignore[arg-type]
        if old is None or s.score > old.score:
            if old is not None:
                s.reasons = s.reasons + [r for r in old.reasons if r not in s.reasons]
                s.evidence = {**old.evidence, **s.evidence}
            out[key] = s  # type: ignore[index]
        else:
            old.reasons += [r for r in s.reasons if r not in old.reasons]
            old.evidence = {**s.evidence, **old.evidence}

    proposed = [e for e in draft.edges.values() if e.status is EdgeStatus.PROPOSED and e.key not in excluded]

    # 1. cycles: a greedy minimal cut over the confounder graph (cycles there are the ones that matter).
    for edge, info in _cycle_cut(draft, d, excluded).items():
        impact = _impact_of_removal(g, edge, alarm, before)
        put(SuspectEdge(edge, "cycle", round(0.85 + 0.15 * impact, 4),
                        [f"on {info['cycles']} cycle(s) of the draft; cutting it (with the other proposed cuts) "
                         "makes the graph acyclic"], {"cycles": info["cycles"], "alarm_impact": impact}))

    # 2. each proposed edge: disputes, confidence, data.
    for e in proposed:
        u, v = e.key
        impact = _impact_of_removal(g, e.key, alarm, before)
        reasons: list[str] = []
        evidence: dict[str, Any] = {"alarm_impact": impact, "confidence": e.confidence}
        q_score = 0.3 * (1.0 - float(e.confidence))
        r_score = 0.0
        conflict = e.evidence.get("conflict")
        if conflict:
            w_k, w_r = float(conflict.get("weight_kept", 1)), float(conflict.get("weight_reversed", 0))
            r_score = max(r_score, 0.35 + 0.4 * w_r / max(w_k + w_r, 1e-9))
            reasons.append(f"suggesters disagreed on the direction ({', '.join(conflict.get('reversed_by', []))} "
                           f"said {v} -> {u})")
        if e.provenance and set(e.provenance) <= {Provenance.DATA}:
            q_score += 0.1
            reasons.append("only the data suggested it")
        if d is not None and d.has(u, v):
            cond = [p for p in g.predecessors(v) if p != u] + [p for p in g.predecessors(u) if p != v]
            r, p, used = d.test(u, v, cond)
            evidence.update({"partial_correlation": r, "p_value": p, "conditioned_on": used})
            if p > alpha:
                q_score = max(q_score, 0.55 + 0.45 * min(1.0, p / 0.5))
                reasons.append(f"independent in the data given {len(used)} neighbour(s) "
                               f"(partial correlation {r:+.2f}, p = {p:.2g})")
            else:
                q_score = min(q_score, 0.25 * (1 - min(1.0, abs(r) / 0.3)))
            anm = anm_direction(d.x[:, d.index[u]], d.x[:, d.index[v]], seed=seed)
            evidence["anm"] = anm
            pref = anm["reverse_preference"]
            if pref > 0.25 and p <= alpha:
                r_score = max(r_score, min(0.8, 0.4 + 0.5 * pref) + (0.15 if conflict else 0.0))
                reasons.append(f"an additive noise model fits {v} -> {u} better (HSIC {anm['hsic_backward']:.3f} "
                               f"against {anm['hsic_forward']:.3f})")
        kind: SuspectKind = "reversed" if r_score > q_score else "questionable"
        base = max(q_score, r_score)
        score = round(base * (0.7 + 0.3 * impact) if base < 0.85 else base, 4)
        if not reasons:
            reasons.append("no objection found; listed for completeness")
        put(SuspectEdge(e.key, kind, score, reasons, evidence))

    # 3. missed edges that add connectivity (needs data).
    if d is not None:
        for s in _missing(draft, d, g, alarm, before, excluded, missing_alpha, min_missing_correlation, seed):
            put(s)
    return sorted(out.values(), key=lambda s: (-s.score, s.kind, s.edge))


def next_batch(
    draft: CausalDraft,
    data: Any = None,
    *,
    k: int = 5,
    alarm: str | None = None,
    exclude: Iterable[tuple[str, str]] = (),
) -> list[SuspectEdge]:
    """The ``k`` most suspicious edges not yet decided (Atlas hands out five at a time)."""
    if int(k) < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return rank_suspicious(draft, data, alarm=alarm, exclude=exclude)[: int(k)]


def _cycle_cut(draft: CausalDraft, d: _Data | None, excluded: set[tuple[str, str]],
               max_cycles: int = 2000) -> dict[tuple[str, str], dict[str, Any]]:
    g = draft.confounder_graph(include_proposed=True)
    cuts: dict[tuple[str, str], dict[str, Any]] = {}
    while True:
        sccs = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
        if not sccs:
            return cuts
        counts: dict[tuple[str, str], int] = {}
        n = 0
        for comp in sccs:
            for cycle in nx.simple_cycles(g.subgraph(comp)):
                for i in range(len(cycle)):
                    e = (cycle[i], cycle[(i + 1) % len(cycle)])
                    counts[e] = counts.get(e, 0) + 1
                n += 1
                if n >= max_cycles:
                    break
        cuttable = [e for e in counts if draft.has_edge(*e) and draft.edge(*e).status is EdgeStatus.PROPOSED]
        if not cuttable:
            return cuts  # only accepted edges left on the cycle: a human decided that

        def support(e: tuple[str, str]) -> float:
            if d is None or not d.has(*e):
                return 0.0
            return abs(float(d.corr[d.index[e[0]], d.index[e[1]]]))

        best = max(cuttable, key=lambda e: (counts[e], -draft.edge(*e).confidence, -support(e), e))
        g.remove_edge(*best)
        if best not in excluded:
            cuts[best] = {"cycles": counts[best]}


def _missing(draft: CausalDraft, d: _Data, g: nx.DiGraph, alarm: str | None, before: set[str],
             excluded: set[tuple[str, str]], alpha: float, min_r: float, seed: int) -> list[SuspectEdge]:
    nodes = [n for n in g.nodes if d.has(n)]
    if draft.system is not None:
        from rcakit.graph.candidates import candidate_pairs

        pairs = [(p.a, p.b) for p in candidate_pairs(draft.system, include_unobserved=False)
                 if d.has(p.a, p.b)]
    else:
        pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:]]
    rejected = {e.key for e in draft.edges_where(status=EdgeStatus.REJECTED)}
    rejected |= {(v, u) for u, v in rejected}
    undirected = g.to_undirected(as_view=True)
    out = []
    for a, b in pairs:
        if g.has_edge(a, b) or g.has_edge(b, a) or (a, b) in excluded or (a, b) in rejected:
            continue
        # Condition on the neighbours of both ends: a path already in the draft explains its dependence.
        cond = [*g.predecessors(a), *g.successors(a), *g.predecessors(b), *g.successors(b)]
        r, p, used = d.test(a, b, cond)
        if p > alpha or abs(r) < min_r:
            continue
        # Direction: towards the alarm's ancestry when only one end is in it, else the ANM's choice.
        reach = before | ({alarm} if alarm else set())
        anm = anm_direction(d.x[:, d.index[a]], d.x[:, d.index[b]], seed=seed)
        if (b in reach) != (a in reach):
            edge = (a, b) if b in reach else (b, a)
            how = "towards the alarm"
        else:
            edge = (b, a) if anm["reverse_preference"] > 0 else (a, b)
            how = "by the additive noise model"
        if nx.has_path(g, edge[1], edge[0]):
            edge = (edge[1], edge[0])  # never close a cycle
            how = "so as not to close a cycle"
        connected = nx.has_path(undirected, a, b)
        impact = _impact_of_addition(g, edge, alarm, before)
        base = 0.4 + 0.35 * min(1.0, abs(r) / 0.8) + (0.0 if connected else 0.1)
        score = round(base * (0.7 + 0.3 * min(1.0, impact * 4)), 4)
        reasons = [f"dependent in the data given their neighbours (partial correlation {r:+.2f}, p = {p:.2g})",
                   f"oriented {how}"]
        if not connected:
            reasons.append("would connect two parts of the graph that are not connected")
        if impact > 0:
            reasons.append(f"gives {impact:.0%} of the nodes a new path to the alarm")
        out.append(SuspectEdge(edge, "missing", score, reasons,
                               {"partial_correlation": r, "p_value": p, "conditioned_on": used, "anm": anm,
                                "alarm_impact": impact, "adds_connectivity": not connected}))
    return out


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
