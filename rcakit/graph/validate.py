"""Which edges of a draft deserve a human look (Atlas 4.6), five at a time.

Four kinds of suspicion, each with its reasons and evidence:

* ``questionable``: the edge should perhaps not be there. Evidence adds up: the data say the two
  metrics are independent, or only weakly dependent, given the cause's and effect's other parents
  (partial correlation, Fisher z test; graded by the effect size, not only by the p-value, and
  weighed less when it conditions on many neighbours, where a test loses power); the
  edge is the only one linking two components (with a system model: the components do not
  interact, Atlas 4.4), an interaction nothing else in the draft supports; only the data suggested
  it; low confidence.
* ``reversed``: the data fit the other direction: an additive-noise-model test (the residual of
  effect-on-cause is more dependent on the cause than the other way round, HSIC), and independences
  the draft implies next to the edge that a reversed edge would break (local Markov property: u
  and v's other parents independent given u's parents; v and u's other parents independent given
  v's parents); or the suggesters disagreed on the direction.
* ``cycle``: the edge belongs to a minimal set of edges whose removal makes the draft acyclic
  (greedy: the edge on most cycles, least confident and least supported by data first);
* ``missing``: two metrics the draft does not connect are clearly dependent given their parents,
  and an edge between them would add connectivity (candidate pairs only when the draft has a system).

Scores are in [0, 1]. Edges off every path to the alarm node are discounted (x 0.8) and each score
is weighted by how many nodes lose (or, for a missing edge, gain) a path to the alarm when the edge
is removed (added). Without data only structural checks run (cycles, disputed directions,
unsupported interactions, low confidence).

Speed: the tests are kept per draft between calls (:class:`ValidationCache`, on by default): a
conditional-independence test is keyed by the pair and the conditioning set it was given (the
pair's parents in the draft), an ANM check by the pair. After a review decision only the tests
whose conditioning set changed run again.
"""

from __future__ import annotations

import html
import math
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import networkx as nx
import numpy as np

from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.graph.proposal import Provenance

__all__ = [
    "GAIN_WEIGHTS",
    "QuestionOrder",
    "SuspectEdge",
    "ValidationCache",
    "anm_direction",
    "annotate_suspicion",
    "apply_suspects",
    "expected_gain_order",
    "next_batch",
    "partial_correlation",
    "rank_suspicious",
    "validation_cache",
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
    """Normalised HSIC statistic with Gaussian kernels (median heuristic); O(n^2) centring."""

    def centred_gram(v: np.ndarray) -> np.ndarray:
        d = (v[:, None] - v[None, :]) ** 2
        # Median heuristic on the pairs among the first 100 points (already a random sample): the
        # median of all n^2 distances costs more than the rest of the test.
        head = d[:100, :100][np.triu_indices(min(100, v.shape[0]), 1)]
        pos = head[head > 0]
        med = float(np.median(pos)) if pos.size else 1.0
        k = np.exp(-d / med)
        row = k.mean(axis=0)
        return k - row[None, :] - row[:, None] + row.mean()  # H K H without the two n^3 products

    k, lm = centred_gram(x), centred_gram(y)
    num = float((k * lm).sum())
    den = math.sqrt(float((k * k).sum()) * float((lm * lm).sum())) or 1.0
    return num / den


#: Fewer distinct values than this in either series and the ANM test states no preference: a cubic
#: fit through at most four distinct points interpolates them and says nothing about noise.
ANM_MIN_DISTINCT = 5


def _residual(cause: np.ndarray, effect: np.ndarray, degree: int = 3) -> np.ndarray:
    """Residual of a least-squares polynomial fit of ``effect`` on ``cause`` (standardised inputs).

    Solved with ``lstsq`` on the Vandermonde matrix of the cause scaled to [-1, 1], so that a badly
    conditioned fit is a fit of lower effective rank, never a warning.
    """
    span = float(np.max(np.abs(cause))) or 1.0
    vander = np.vander(cause / span, degree + 1)
    coef, *_ = np.linalg.lstsq(vander, effect, rcond=None)
    return effect - vander @ coef


def anm_direction(x: np.ndarray, y: np.ndarray, *, max_samples: int = 300, seed: int = 0) -> dict[str, Any]:
    """Additive-noise-model check of x -> y against y -> x.

    Fits each direction with a cubic regression and measures the dependence between the cause and
    the residual (normalised HSIC; lower is better). Returns both statistics and
    ``reverse_preference`` in [-1, 1]: positive when y -> x fits better.

    Degenerate inputs get a stated answer instead of a fit: when either series is constant or has
    fewer than ``ANM_MIN_DISTINCT`` distinct values (after subsampling), or the series have fewer
    than ``ANM_MIN_DISTINCT`` rows, the result has ``reverse_preference`` 0 (no preference), None
    statistics and ``degenerate`` naming the reason.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"anm_direction needs series of equal length, got {x.shape[0]} and {y.shape[0]}")
    rng = np.random.default_rng(seed)
    if x.shape[0] > max_samples:
        idx = rng.choice(x.shape[0], size=max_samples, replace=False)
        x, y = x[idx], y[idx]
    reason = ""
    if x.shape[0] < ANM_MIN_DISTINCT:
        reason = f"only {x.shape[0]} rows"
    else:
        for name, v in (("x", x), ("y", y)):
            distinct = np.unique(v[np.isfinite(v)]).size
            if distinct <= 1:
                reason = f"{name} is constant"
                break
            if distinct < ANM_MIN_DISTINCT:
                reason = f"{name} has only {distinct} distinct values (a cubic fit interpolates them)"
                break
    if reason:
        return {"hsic_forward": None, "hsic_backward": None, "reverse_preference": 0.0,
                "degenerate": reason}
    x = (x - x.mean()) / x.std()
    y = (y - y.mean()) / y.std()
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
    """The data matrix of one validation, with memoised tests.

    A conditional-independence test is keyed by the unordered pair and the set of conditioning
    candidates it was given (the pair's neighbourhood in the draft), an ANM check by the ordered
    pair. A review decision that changes an edge's neighbourhood changes its key, so only that
    edge's test runs again. :meth:`end_round` drops tests the latest ranking did not ask for.
    """

    def __init__(self, data: Any, nodes: list[str], seed: int) -> None:
        from rcakit.graph.data import wide_matrix

        self.x, kept, self.dropped = wide_matrix(data, [n for n in nodes], max_samples=5000, seed=seed)
        self.index = {n: i for i, n in enumerate(kept)}
        self.n = self.x.shape[0]
        self.seed = seed
        self.corr = np.corrcoef(self.x, rowvar=False) if self.x.shape[1] > 1 else np.ones((1, 1))
        self.corr = np.nan_to_num(self.corr)
        self.tests: dict[tuple[str, str, frozenset[str]], tuple[float, float, list[str]]] = {}
        self.anms: dict[tuple[str, str], dict[str, Any]] = {}
        self.hits = self.misses = 0
        self.recomputed: set[tuple[str, str]] = set()
        self._used: set[tuple[str, str, frozenset[str]]] = set()

    def has(self, *nodes: str) -> bool:
        return all(n in self.index for n in nodes)

    def test(self, u: str, v: str, cond: Iterable[str], max_cond: int = 10) -> tuple[float, float, list[str]]:
        cands = frozenset(c for c in cond if c in self.index and c not in (u, v))
        a, b = (u, v) if u <= v else (v, u)
        key = (a, b, cands)
        self._used.add(key)
        found = self.tests.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        self.recomputed.add((a, b))
        i, j = self.index[a], self.index[b]
        # The strongest neighbours of either end, at most max_cond of them (keeps the test powerful).
        ranked = sorted(cands, key=lambda c: (-max(abs(self.corr[self.index[c], i]),
                                                   abs(self.corr[self.index[c], j])), c))[:max_cond]
        r = partial_correlation(self.corr, i, j, [self.index[c] for c in ranked])
        out = (r, _fisher_p(r, self.n, len(ranked)), ranked)
        self.tests[key] = out
        return out

    def anm(self, u: str, v: str) -> dict[str, Any]:
        found = self.anms.get((u, v))
        if found is None:
            back = self.anms.get((v, u))
            if back is not None:  # the same fits seen from the other end
                found = {"hsic_forward": back["hsic_backward"], "hsic_backward": back["hsic_forward"],
                         "reverse_preference": -back["reverse_preference"],
                         **({"degenerate": back["degenerate"]} if "degenerate" in back else {})}
            else:
                found = anm_direction(self.x[:, self.index[u]], self.x[:, self.index[v]], seed=self.seed)
            self.anms[(u, v)] = found
        return found

    def begin_round(self) -> None:
        self._used = set()
        self.recomputed = set()

    def end_round(self) -> None:
        self.tests = {k: t for k, t in self.tests.items() if k in self._used}


class ValidationCache:
    """Validation results of one draft on one data set, kept between :func:`next_batch` calls.

    Holds the data matrix and the memoised tests (see ``_Data``): a test is reused while the edge
    and the draft neighbourhood it conditioned on are unchanged, and recomputed when a review
    decision changed that neighbourhood. New data (another object, shape, node set or seed) starts
    afresh. ``hits``/``misses`` count reused and recomputed tests; ``recomputed`` lists the pairs
    the latest ranking tested anew.

    Data are recognised by identity: a pandas frame edited in place between calls is not noticed;
    pass ``cache=False`` (or a new frame) after such an edit.
    """

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._obj: Any = None
        self.data: _Data | None = None

    def data_for(self, data: Any, nodes: list[str], seed: int) -> _Data:
        shape = getattr(data, "shape", None)
        key = (id(data), shape, tuple(nodes), seed)
        if self.data is None or self._obj is not data or self._key != key:
            self.data = _Data(data, nodes, seed)
            self._obj, self._key = data, key
        return self.data

    @property
    def hits(self) -> int:
        return self.data.hits if self.data is not None else 0

    @property
    def misses(self) -> int:
        return self.data.misses if self.data is not None else 0

    @property
    def recomputed(self) -> set[tuple[str, str]]:
        return set(self.data.recomputed) if self.data is not None else set()


_CACHES: weakref.WeakKeyDictionary[CausalDraft, ValidationCache] = weakref.WeakKeyDictionary()


def validation_cache(draft: CausalDraft) -> ValidationCache:
    """The cache :func:`next_batch` and :func:`rank_suspicious` keep for ``draft`` (created on first use)."""
    cache = _CACHES.get(draft)
    if cache is None:
        cache = _CACHES[draft] = ValidationCache()
    return cache


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


def _entity(node: str) -> str:
    return node.split(":", 1)[0]


def _entity_links(g: nx.DiGraph) -> dict[frozenset[str], int]:
    """How many edges of the graph link each pair of distinct entities (either direction)."""
    out: dict[frozenset[str], int] = {}
    for u, v in g.edges:
        eu, ev = _entity(u), _entity(v)
        if eu != ev:
            key = frozenset((eu, ev))
            out[key] = out.get(key, 0) + 1
    return out


def _candidate_set(draft: CausalDraft) -> set[frozenset[str]] | None:
    """Pairs of metrics on one component or on interacting ones (Atlas 4.4), when the draft has a system."""
    if draft.system is None:
        return None
    from rcakit.graph.candidates import candidate_pairs

    try:
        return {frozenset((p.a, p.b)) for p in candidate_pairs(draft.system, include_unobserved=True)}
    except Exception:  # a system model that cannot enumerate pairs gives no structural evidence
        return None


def _local_markov(d: _Data, g: nx.DiGraph, u: str, v: str, desc: Any, alpha: float) -> list[dict[str, Any]]:
    """Independences the draft implies next to u -> v that a reversed edge (v -> u) would break.

    (A) Another parent w of v, not adjacent to u and not u's descendant, is independent of u given
    u's parents (both are causes of v); with v -> u in truth, w -> v -> u makes them dependent.
    (B) A parent q of u, not adjacent to v and not v's descendant, is independent of v given v's
    parents (which hold u); with v -> u <- q in truth, conditioning on the collider u links them.
    Returns the violated ones (p < alpha), strongest first.
    """
    out = []
    # (A) tests u against v's other parents, (B) tests v against u's other parents: one loop, two roles.
    for x, y, why in ((u, v, "{x} and {o} (both causes of {y}) independent given {x}'s parents"),
                      (v, u, "{x} and {o} independent given {x}'s parents")):
        adj_x = set(g.predecessors(x)) | set(g.successors(x))
        for o in g.predecessors(y):
            if o == x or o in adj_x or not d.has(o) or o in desc(x):
                continue
            r, p, _ = d.test(x, o, [z for z in g.predecessors(x) if z != o])
            if p < alpha:
                out.append({"check": why.format(x=x, o=o, y=y), "other": o, "partial_correlation": r,
                            "p_value": p})
    out.sort(key=lambda c: -abs(c["partial_correlation"]))
    return out


def _rank(draft: CausalDraft, data: Any, alarm: str | None, exclude: Iterable[tuple[str, str]], alpha: float,
          missing_alpha: float, min_missing_correlation: float, seed: int,
          store: ValidationCache | None) -> list[SuspectEdge]:
    alarm = alarm if alarm is not None else draft.alarm
    excluded: set[tuple[str, str]] = {(str(e[0]), str(e[1])) for e in exclude}
    excluded |= {(v, u) for u, v in excluded}
    g = _review_graph(draft)
    before = _alarm_reach(g, alarm)
    observed = [n for n, node in draft.nodes.items() if node.observed]
    d: _Data | None = None
    if data is not None:
        d = store.data_for(data, observed, seed) if store is not None else _Data(data, observed, seed)
        d.begin_round()
    out: dict[tuple[str, str], SuspectEdge] = {}
    descendants: dict[str, set[str]] = {}

    def desc(node: str) -> set[str]:
        if node not in descendants:
            descendants[node] = nx.descendants(g, node) if node in g else set()
        return descendants[node]

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

    # 2. each proposed edge: disputes, confidence, structure, data.
    links = _entity_links(g)
    informative_links = any(n > 1 for n in links.values())
    candidates = _candidate_set(draft)
    known: set[str] = set().union(*candidates) if candidates else set()
    for e in proposed:
        u, v = e.key
        impact = _impact_of_removal(g, e.key, alarm, before)
        on_path = alarm is None or alarm not in g or v == alarm or v in before
        reasons: list[str] = []
        evidence: dict[str, Any] = {"alarm_impact": impact, "on_alarm_path": on_path, "confidence": e.confidence}
        # Questionable (the edge should not be there): graded, each piece of evidence adds.
        q_score = 0.1 * (1.0 - float(e.confidence))
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
        eu, ev = _entity(u), _entity(v)
        if (candidates is not None and eu != ev and frozenset((u, v)) not in candidates
                and u in known and v in known):
            q_score += 0.25
            evidence["interaction"] = "none in the system model"
            reasons.append(f"{eu} and {ev} do not interact in the system model")
        elif candidates is None and informative_links and eu != ev and links.get(frozenset((eu, ev)), 0) <= 1:
            q_score += 0.15
            evidence["interaction"] = "no other edge"
            reasons.append(f"no other edge of the draft links {eu} and {ev}: the interaction rests on this edge alone")
        if d is not None and d.has(u, v):
            cond = [p for p in g.predecessors(v) if p != u] + [p for p in g.predecessors(u) if p != v]
            r, p, used = d.test(u, v, cond)
            evidence.update({"partial_correlation": r, "p_value": p, "conditioned_on": used})
            weak = 1.0 - min(1.0, abs(r) / 0.2)
            # An independence found given few neighbours is direct evidence (the two metrics do not
            # co-vary); one found only after conditioning on many (often collinear) neighbours may be
            # a loss of power, so it counts for less.
            power = 1.0 - 0.4 * min(1.0, len(used) / 8)
            q_score += power * (0.45 * weak + (0.3 if p > alpha else 0.0) + 0.15 * min(1.0, p / 0.5))
            if p > alpha:
                reasons.append(f"independent in the data given {len(used)} neighbour(s) "
                               f"(partial correlation {r:+.2f}, p = {p:.2g})")
            elif weak > 0.5:
                reasons.append(f"only weakly dependent given {len(used)} neighbour(s) (partial correlation {r:+.2f})")
            else:
                q_score = min(q_score, 0.25)  # clearly dependent: structure alone does not make it questionable
            if p <= alpha:
                anm = d.anm(u, v)
                evidence["anm"] = anm
                pref = float(anm["reverse_preference"])
                broken = _local_markov(d, g, u, v, desc, alpha)
                evidence["local_markov_violations"] = broken
                lm = abs(broken[0]["partial_correlation"]) if broken else 0.0
                data_rev = 0.75 * (0.7 * max(0.0, pref) + 0.3 * min(1.0, lm / 0.2))
                if pref > 0.25:
                    reasons.append(f"an additive noise model fits {v} -> {u} better (HSIC "
                                   f"{anm['hsic_backward']:.3f} against {anm['hsic_forward']:.3f})")
                if broken:
                    reasons.append(f"the draft implies {broken[0]['check']}, but the data link them (partial "
                                   f"correlation {broken[0]['partial_correlation']:+.2f}): consistent with {v} -> {u}")
                r_score = max(r_score, data_rev) + (0.15 if conflict and data_rev > 0.2 else 0.0)
        q_score = min(q_score, 1.0)
        kind: SuspectKind = "reversed" if r_score > q_score else "questionable"
        base = min(1.0, max(q_score, r_score))
        # Edges off every path to the alarm matter less; an edge many nodes reach the alarm through, more.
        score = round(base * (0.85 + 0.15 * impact) * (1.0 if on_path else 0.8), 4)
        if not reasons:
            reasons.append("no objection found; listed for completeness")
        put(SuspectEdge(e.key, kind, score, reasons, evidence))

    # 3. missed edges that add connectivity (needs data).
    if d is not None:
        for s in _missing(draft, d, g, alarm, before, excluded, missing_alpha, min_missing_correlation, seed):
            put(s)
        d.end_round()
    return sorted(out.values(), key=lambda s: (-s.score, s.kind, s.edge))


class QuestionOrder(StrEnum):
    """How :func:`next_batch` orders its questions.

    ``EXPECTED_GAIN`` (default): by the F1 an answer is expected to add, the probability that the
    edge is wrong (reversed or false; for a missing edge, that it is true) times what fixing it is
    worth; ``SUSPICION``: by :func:`rank_suspicious`'s score alone.
    """

    EXPECTED_GAIN = "expected_gain"
    SUSPICION = "suspicion"


#: Constants of the expected-gain order (log-odds weights of the evidence). Chosen by a coordinate
#: search on the simulator S and M only (``python -m rcakit.bench review`` prints the tuning and the
#: scoring seeds); no dataset-specific rule, constant or name.
GAIN_WEIGHTS: dict[str, float] = {
    "reversed_base": -3.0,      # prior log-odds that a drafted edge has the wrong direction
    "reversed_data": 4.0,       # x the suspicion score when validation called it reversed
    "reversed_pattern": 2.5,    # x how much the draft's edges of the same kind of pair point the other way
    "reversed_cycle": 2.0,      # the edge is a cycle cut
    "false_base": -3.0,         # prior log-odds that a drafted edge is false
    "false_data": 4.0,          # x the suspicion score when validation called it questionable
    "false_rarity": 1.0,        # x 1 / (1 + edges of the same kind of pair): a one-off pattern
    "false_cycle": 1.0,         # the edge is a cycle cut
    "false_confidence": 1.0,    # x (1 - the drafter's confidence)
    "rule_error": 2.0,          # x (share of decided edges of the same rule that were wrong - prior)
    "missing_base": -3.0,       # prior log-odds that a data-suggested missing edge is true
    "missing_data": 4.0,        # x the missing edge's suspicion score (its dependence in the data)
    "missing_fill": 3.0,        # x the share of possible pairs of this kind the draft links
    "missing_silent": 1.0,      # a completion of two measured metrics validation did not find dependent
    "completion_min_fill": 0.5,  # kinds of pair at least this full propose their unlinked pairs (> 1: off)
    "reversed_dependent": 0.5,  # the data clearly link the two (p < 0.001): a wrong edge is more likely reversed
    "false_pattern": 1.0,       # x the share of possible pairs of this kind the draft links
    "accepted_weight": 2.0,     # an accepted edge counts this much in a pattern (a proposed one 1)
    "rejected_weight": 1.0,     # a rejected edge takes this much from its pattern
    "unobserved": 0.5,          # gain factor of a question about an unmeasured metric (no data to check)
}

#: F1 effects per fixed edge, in units of 1/(predicted + true edges): a reversal fixed gains a true
#: positive (2); a false edge rejected, one prediction fewer (about F1); a missing edge added, a true
#: positive and a prediction (about 2 - F1). F1 is taken as 0.85, a typical draft under review.
_TYPICAL_F1 = 0.85


def next_batch(
    draft: CausalDraft,
    data: Any = None,
    *,
    k: int = 5,
    alarm: str | None = None,
    exclude: Iterable[tuple[str, str]] = (),
    cache: ValidationCache | bool = True,
    order: QuestionOrder | str = QuestionOrder.EXPECTED_GAIN,
) -> list[SuspectEdge]:
    """The ``k`` questions worth most not yet decided (Atlas hands out five at a time).

    ``order`` (:class:`QuestionOrder`): by default the expected F1 gain of each answer, which weighs
    validation's evidence (:func:`rank_suspicious`) with what the draft and the decisions taken on
    it say: edges between the same kinds of metrics (digits in component names ignored, ``GPU_0``
    and ``GPU_3`` alike) mostly pointing the other way suggest a reversal; a kind of pair no other
    edge has, a false edge; a data-suggested missing edge of a kind the draft has often, a true one;
    a rule whose decided edges were often wrong makes its other edges suspect. Accepted and rejected
    edges weigh in these counts, so each answer moves the next batch. The probability and gain are
    in each suspect's evidence (``p_reversed``, ``p_false``, ``p_true``, ``expected_gain``).

    Tests are kept between calls for the same draft and data (``cache``; see :func:`rank_suspicious`).
    """
    if int(k) < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    try:
        order = QuestionOrder(order)
    except ValueError:
        raise ValueError(f"order must be one of {[o.value for o in QuestionOrder]}, got {order!r}") from None
    exclude = list(exclude)
    suspects = rank_suspicious(draft, data, alarm=alarm, exclude=exclude, cache=cache)
    if order is QuestionOrder.SUSPICION:
        return suspects[: int(k)]
    store = validation_cache(draft) if cache is True else (cache if isinstance(cache, ValidationCache) else None)
    measured = set(store.data.index) if data is not None and store is not None and store.data is not None else None
    return expected_gain_order(draft, suspects, exclude=exclude, measured=measured)[: int(k)]


_DIGITS = re.compile(r"\d+")


def _node_kind(node: str) -> tuple[str, str, tuple[str, ...]]:
    """(component with its digits masked, metric, the digits): ``GPU_3:utilization`` -> ("GPU_#", "utilization", ("3",))."""
    entity, _, metric = node.partition(":")
    return _DIGITS.sub("#", entity), metric, tuple(_DIGITS.findall(entity))


def _pattern(u: str, v: str) -> tuple[str, str, str, str, str]:
    """The kind of a directed pair: both ends' kinds and whether their component numbers agree."""
    cu, mu, iu = _node_kind(u)
    cv, mv, iv = _node_kind(v)
    rel = "none" if not iu or not iv else ("same" if iu == iv else "differ")
    return cu, mu, cv, mv, rel


def _reverse_pattern(p: tuple[str, str, str, str, str]) -> tuple[str, str, str, str, str]:
    return p[2], p[3], p[0], p[1], p[4]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def _was_reversed_by_review(edge: Any) -> bool:
    # ReviewSession.reverse keeps the drafter's provenance and adds the human's.
    return edge.status is EdgeStatus.ACCEPTED and Provenance.HUMAN in edge.provenance and len(edge.provenance) > 1


class _Patterns:
    """How often each kind of directed pair occurs among the draft's edges, and how full each kind is.

    Two granularities: with and without the component-number relation (``GPU_0 -> ModelInference_0``
    is "same number"). A kind's *fill* is its weighted edge count over the number of node pairs of
    that kind, the share of possible edges of that kind the draft has: a kind present for three of
    four replicas makes the fourth pair likely.
    """

    def __init__(self, draft: CausalDraft, w: dict[str, float]) -> None:
        self.count: dict[tuple[str, ...], float] = {}
        for e in draft.edges.values():
            if e.status is EdgeStatus.REJECTED:
                weight = -w["rejected_weight"]
            else:
                weight = w["accepted_weight"] if e.status is EdgeStatus.ACCEPTED else 1.0
            for key in self.keys(*e.key):
                self.count[key] = self.count.get(key, 0.0) + weight
        self.nodes_of: dict[tuple[str, str], list[str]] = {}
        for n, node in draft.nodes.items():
            if node.observed:
                c, m, _ = _node_kind(n)
                self.nodes_of.setdefault((c, m), []).append(n)
        self._pairs: dict[tuple[str, ...], int] = {}

    @staticmethod
    def keys(u: str, v: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        p = _pattern(u, v)
        return p, p[:4]

    def get(self, key: tuple[str, ...], own: float = 0.0) -> float:
        return max(0.0, self.count.get(key, 0.0) - own)

    def pairs(self, key: tuple[str, ...]) -> int:
        """Ordered node pairs of this kind (observed nodes)."""
        if key not in self._pairs:
            us, vs = self.nodes_of.get((key[0], key[1]), []), self.nodes_of.get((key[2], key[3]), [])
            if len(key) == 4:
                n = sum(1 for u in us for v in vs if u != v)
            else:
                n = sum(1 for u in us for v in vs if u != v and _pattern(u, v)[4] == key[4])
            self._pairs[key] = n
        return self._pairs[key]

    def fill(self, u: str, v: str, own: float = 0.0) -> float:
        """The larger fill of the pair's kind (either granularity); ``own`` is the pair's own weight, left out."""
        out = 0.0
        for key in self.keys(u, v):
            n = self.pairs(key)
            if n > 1:
                out = max(out, min(1.0, self.get(key, own) / (n - (1 if own else 0))))
        return out

    def direction(self, u: str, v: str, own: float) -> tuple[float, float]:
        """(edges of this kind, edges of the reverse kind), own edge left out; equal when the kind is symmetric."""
        p = _pattern(u, v)
        rev = _reverse_pattern(p)
        same = self.get(p, own)
        return same, (self.get(rev) if rev != p else same)


def _completion_candidates(patterns: _Patterns, live: nx.DiGraph, taken: set[frozenset[str]], min_fill: float,
                           limit: int = 200) -> list[tuple[str, str, float]]:
    """Unlinked pairs of a kind the draft has at ``min_fill`` or more (most full first), never closing a cycle."""
    kinds = [key for key, c in patterns.count.items() if len(key) == 5 and c >= 2]
    out: dict[frozenset[str], tuple[str, str, float]] = {}
    for key in kinds:
        n = patterns.pairs(key)
        if n < 2 or patterns.get(key) / n < min_fill:
            continue
        for u in patterns.nodes_of.get((key[0], key[1]), []):
            for v in patterns.nodes_of.get((key[2], key[3]), []):
                pair = frozenset((u, v))
                if u == v or pair in taken or pair in out or _pattern(u, v)[4] != key[4]:
                    continue
                if u in live and v in live and nx.has_path(live, v, u):
                    continue
                out[pair] = (u, v, patterns.fill(u, v))
    return sorted(out.values(), key=lambda t: (-t[2], t[0], t[1]))[:limit]


def expected_gain_order(draft: CausalDraft, suspects: Iterable[SuspectEdge], *, exclude: Iterable[tuple[str, str]] = (),
                        measured: set[str] | None = None, weights: dict[str, float] | None = None) -> list[SuspectEdge]:
    """``suspects`` ordered by expected F1 gain (see :func:`next_batch`), each annotated with its probabilities.

    Pairs of a kind the draft has for most of the possible pairs (replicas) that the draft does not
    link are added as ``missing`` suspects. ``measured``: the nodes with data (None when unknown);
    a completion both of whose ends are measured but which validation did not find dependent is
    less likely.
    """
    w = {**GAIN_WEIGHTS, **(weights or {})}
    suspects = list(suspects)
    patterns = _Patterns(draft, w)
    rule_right: dict[str, int] = {}
    rule_wrong: dict[str, int] = {}
    for e in draft.edges.values():
        if (e.status is not EdgeStatus.PROPOSED and Provenance.HUMAN not in e.provenance) or _was_reversed_by_review(e):
            wrong = e.status is EdgeStatus.REJECTED or _was_reversed_by_review(e)
            for rule in e.rules:
                book = rule_wrong if wrong else rule_right
                book[rule] = book.get(rule, 0) + 1
    decided = sum(rule_wrong.values()) + sum(rule_right.values())
    prior = (sum(rule_wrong.values()) + 1.0) / (decided + 2.0)

    def rule_error(rules: list[str]) -> float:
        rates = [(rule_wrong.get(r, 0) + prior) / (rule_wrong.get(r, 0) + rule_right.get(r, 0) + 1.0) - prior
                 for r in rules if rule_wrong.get(r, 0) + rule_right.get(r, 0)]
        return max(rates) if rates else 0.0

    excluded = {frozenset(e) for e in exclude}
    taken = excluded | {frozenset(k) for k in draft.edges} | {frozenset(s.edge) for s in suspects}
    live = nx.DiGraph([e.key for e in draft.edges.values() if e.status is not EdgeStatus.REJECTED])
    if w["completion_min_fill"] <= 1.0:
        for u, v, fill in _completion_candidates(patterns, live, taken, w["completion_min_fill"]):
            suspects.append(SuspectEdge((u, v), "missing", 0.0,
                                        [f"the draft links {fill:.0%} of the pairs of this kind, not this one"],
                                        {"completion": True}))
    observed = {n for n, node in draft.nodes.items() if node.observed}
    scored: list[tuple[float, SuspectEdge]] = []
    for s in suspects:
        u, v = s.edge
        if s.kind == "missing":
            fill = max(patterns.fill(u, v), patterns.fill(v, u))
            silent = (s.evidence.get("completion") and measured is not None and u in measured and v in measured)
            p_true = _sigmoid(w["missing_base"] + w["missing_data"] * s.score + w["missing_fill"] * fill
                              - (w["missing_silent"] if silent else 0.0))
            gain = (2.0 - _TYPICAL_F1) * p_true
            s.evidence.update({"p_true": round(p_true, 4), "pattern_fill": round(fill, 4)})
        else:
            edge = draft.edges.get((u, v))
            own = (w["accepted_weight"] if edge is not None and edge.status is EdgeStatus.ACCEPTED else 1.0)
            same, rev = patterns.direction(u, v, own)
            symmetric = _reverse_pattern(_pattern(u, v)) == _pattern(u, v)
            against = 0.0 if symmetric else (rev - same) / (rev + same + 1.0)
            rarity = 1.0 / (1.0 + same + rev)
            cycle = 1.0 if s.kind == "cycle" else 0.0
            rules_err = rule_error(edge.rules) if edge is not None else 0.0
            confidence = float(edge.confidence) if edge is not None else 0.5
            p_value = s.evidence.get("p_value")
            dependent = 1.0 if p_value is not None and p_value < 1e-3 else 0.0
            p_rev = _sigmoid(w["reversed_base"] + w["reversed_data"] * (s.score if s.kind == "reversed" else 0.0)
                             + w["reversed_pattern"] * against + w["reversed_cycle"] * cycle
                             + w["reversed_dependent"] * dependent + w["rule_error"] * rules_err)
            p_false = _sigmoid(w["false_base"] + w["false_data"] * (s.score if s.kind == "questionable" else 0.0)
                               + w["false_rarity"] * rarity + w["false_cycle"] * cycle
                               - w["false_pattern"] * patterns.fill(u, v, own)
                               + w["false_confidence"] * (1.0 - confidence) + w["rule_error"] * rules_err)
            total = p_rev + p_false
            if total > 1.0:
                p_rev, p_false = p_rev / total, p_false / total
            gain = 2.0 * p_rev + _TYPICAL_F1 * p_false
            s.evidence.update({"p_reversed": round(p_rev, 4), "p_false": round(p_false, 4),
                               "pattern_against": round(against, 4)})
            if against > 0.5 and p_rev > p_false:
                s.reasons.append(f"most edges between these kinds of metrics point the other way ({rev:g} against {same:g})")
            if rules_err > 0.2:
                s.reasons.append("other edges from the same rule were found wrong in this review")
        if u not in observed or v not in observed:
            gain *= w["unobserved"]
        s.evidence["expected_gain"] = round(gain, 4)
        scored.append((gain, s))
    scored.sort(key=lambda t: (-t[0], -t[1].score, t[1].kind, t[1].edge))
    return [s for _, s in scored]


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
        # Condition on the parents of both ends: in a DAG that is right, two nonadjacent nodes are
        # independent given their parents (local Markov property), whichever is the other's ancestor.
        # (Their children are left out: conditioning on a common child would link them.)
        cond = [*g.predecessors(a), *g.predecessors(b)]
        r, p, used = d.test(a, b, cond)
        if p > alpha or abs(r) < min_r:
            continue
        # Direction: towards the alarm's ancestry when only one end is in it, else the ANM's choice.
        reach = before | ({alarm} if alarm else set())
        anm = d.anm(a, b)
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
        base = 0.45 * min(1.0, abs(r)) + (0.0 if connected else 0.1)
        score = round(base * (0.85 + 0.15 * min(1.0, impact * 4)) * (1.0 if impact > 0 or alarm is None else 0.8), 4)
        reasons = [f"dependent in the data given their parents (partial correlation {r:+.2f}, p = {p:.2g})",
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
