"""Which questions to ask first: by the F1 an answer is expected to add (default), or by suspicion alone."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

import networkx as nx

from rcakit.graph.draft import CausalDraft, DraftEdge, EdgeStatus
from rcakit.graph.proposal import Provenance
from rcakit.graph.validate._cache import ValidationCache, validation_cache
from rcakit.graph.validate._patterns import (
    Patterns,
    completion_candidates,
    pair_kind,
    reverse_kind,
    sigmoid,
    was_reversed_by_review,
)
from rcakit.graph.validate._propagation_gain import TYPICAL_F1, similar_gain
from rcakit.graph.validate.propagate import relations
from rcakit.graph.validate.suspect import SuspectEdge
from rcakit.graph.validate.suspicion import rank_suspicious

if TYPE_CHECKING:
    from rcakit.graph.data import WideData

__all__ = ["GAIN_WEIGHTS", "QuestionOrder", "expected_gain_order", "next_batch"]


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
    "reversed_data": 1.0,       # x the suspicion score when validation called it reversed
    "reversed_pattern": 2.5,    # x how much the draft's edges of the same kind of pair point the other way
    "reversed_role": 3.0,       # x the same for the role kind (metrics and how their components relate)
    "reversed_cycle": 2.0,      # the edge is a cycle cut
    "false_base": -3.0,         # prior log-odds that a drafted edge is false
    "false_data": 4.0,          # x the suspicion score when validation called it questionable
    "false_rarity": 1.0,        # x 1 / (1 + edges of the same kind of pair): a one-off pattern
    "false_role_rarity": 0.0,   # x 1 / (1 + edges of the same role kind, either way): a one-off role
    "false_cycle": 1.0,         # the edge is a cycle cut
    "false_confidence": 1.0,    # x (1 - the drafter's confidence)
    "rule_error": 2.0,          # x (share of decided edges of the same rule that were wrong - prior)
    "missing_base": -2.0,       # prior log-odds that a data-suggested missing edge is true
    "missing_data": 4.0,        # x the missing edge's suspicion score (its dependence in the data)
    "missing_fill": 3.0,        # x the share of possible pairs of this kind the draft links
    "missing_silent": 1.0,      # a completion of two measured metrics validation did not find dependent
    "completion_min_fill": 0.5,  # kinds of pair at least this full propose their unlinked pairs (> 1: off)
    "reversed_dependent": 0.5,  # the data clearly link the two (p < 0.001): a wrong edge is more likely reversed
    "false_pattern": 1.0,       # x the share of possible pairs of this kind the draft links
    "accepted_weight": 2.0,     # an accepted edge counts this much in a pattern (a proposed one 1)
    "rejected_weight": 1.0,     # a rejected edge takes this much from its pattern
    "unobserved": 0.5,          # gain factor of a question about an unmeasured metric (no data to check)
    "similar_weight": 2.0,      # x the expected gain of propagating the answer to the similar pairs (0: off)
    "similar_base": 0.0,        # prior log-odds that a kind of pair follows one answer on one of its pairs
    "similar_support": 4.0,     # x the share of the similar pairs the draft already links that way
    "similar_contra": 2.0,      # x the share of the similar pairs the draft links the other way
    "similar_absent": 2.0,      # x the share of the similar pairs the draft does not link
    "similar_unlinked": -2.5,   # log-odds that a kind the draft never links holds for all pairs
    "similar_reject": -2.0,     # log-odds that no similar pair holds when the asked one is false
    "similar_role": -2.0,       # log-odds offset of the role scope (same metrics, same component relation)
}

_TYPICAL_F1 = TYPICAL_F1


def next_batch(
    draft: CausalDraft,
    data: WideData | None = None,
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
    patterns = Patterns(draft, w)
    rule_error = _RuleErrors(draft)
    exclude = [(str(a), str(b)) for a, b in exclude]
    excluded = {frozenset(e) for e in exclude}
    taken = excluded | {frozenset(k) for k in draft.edges} | {frozenset(s.edge) for s in suspects}
    live = nx.DiGraph([e.key for e in draft.edges.values() if e.status is not EdgeStatus.REJECTED])
    if w["completion_min_fill"] <= 1.0:
        for u, v, fill in completion_candidates(patterns, live, taken, w["completion_min_fill"]):
            suspects.append(SuspectEdge((u, v), "missing", 0.0,
                                        [f"the draft links {fill:.0%} of the pairs of this kind, not this one"],
                                        {"completion": True}))
    observed = {n for n, node in draft.nodes.items() if node.observed}
    # Pairs a reviewer decided that are not in the draft: ruled out (a propagation that would add one conflicts).
    ruled_out: set[tuple[str, ...]] = {e for e in exclude if e not in draft.edges and e[::-1] not in draft.edges}
    own: list[tuple[float, SuspectEdge, dict[str, float]]] = []
    for s in suspects:
        u, v = s.edge
        if s.kind == "missing":
            gain = _missing_gain(s, patterns, measured, w)
            p_answer = {"accept": s.evidence["p_true"], "reject": 1.0 - s.evidence["p_true"]}
        else:
            gain = _drafted_gain(s, draft.edges.get((u, v)), patterns, rule_error, w)
            p_rev, p_false = s.evidence["p_reversed"], s.evidence["p_false"]
            p_answer = {"accept": 1.0 - p_rev - p_false, "reverse": p_rev, "reject": p_false}
        if u not in observed or v not in observed:
            gain *= w["unobserved"]
        own.append((gain, s, p_answer))
    # One question per kind carries the propagation (its likeliest-wrong pair): the others of the
    # kind would offer the same suggestion.
    own.sort(key=lambda t: (-t[0], -t[1].score, t[1].kind, t[1].edge))
    anchored: set[tuple[str, frozenset[tuple[str, ...]]]] = set()
    related = relations(draft)
    scored: list[tuple[float, SuspectEdge]] = []
    for gain, s, p_answer in own:
        u, v = s.edge
        if w["similar_weight"] > 0 and u in observed and v in observed:
            gain += w["similar_weight"] * similar_gain(draft, s, p_answer, ruled_out, w, related, anchored)
        s.evidence["expected_gain"] = round(gain, 4)
        scored.append((gain, s))
    scored.sort(key=lambda t: (-t[0], -t[1].score, t[1].kind, t[1].edge))
    return [s for _, s in scored]


class _RuleErrors:
    """How often the decided edges of each drafting rule were wrong, above the review's overall error rate."""

    def __init__(self, draft: CausalDraft) -> None:
        self.right: dict[str, int] = {}
        self.wrong: dict[str, int] = {}
        for e in draft.edges.values():
            reversed_ = was_reversed_by_review(e)
            if (e.status is not EdgeStatus.PROPOSED and Provenance.HUMAN not in e.provenance) or reversed_:
                book = self.wrong if e.status is EdgeStatus.REJECTED or reversed_ else self.right
                for rule in e.rules:
                    book[rule] = book.get(rule, 0) + 1
        decided = sum(self.wrong.values()) + sum(self.right.values())
        self.prior = (sum(self.wrong.values()) + 1.0) / (decided + 2.0)

    def __call__(self, rules: list[str]) -> float:
        rates = [(self.wrong.get(r, 0) + self.prior) / (self.wrong.get(r, 0) + self.right.get(r, 0) + 1.0) - self.prior
                 for r in rules if self.wrong.get(r, 0) + self.right.get(r, 0)]
        return max(rates) if rates else 0.0


def _missing_gain(s: SuspectEdge, patterns: Patterns, measured: set[str] | None, w: dict[str, float]) -> float:
    """The chance that a missing edge is true (data, how full its kind is) times what adding it gains."""
    u, v = s.edge
    fill = max(patterns.fill(u, v), patterns.fill(v, u))
    silent = bool(s.evidence.get("completion") and measured is not None and u in measured and v in measured)
    p_true = sigmoid(w["missing_base"] + w["missing_data"] * s.score + w["missing_fill"] * fill
                     - (w["missing_silent"] if silent else 0.0))
    s.evidence.update({"p_true": round(p_true, 4), "pattern_fill": round(fill, 4)})
    return (2.0 - _TYPICAL_F1) * p_true


def _drafted_gain(s: SuspectEdge, edge: DraftEdge | None, patterns: Patterns, rule_error: _RuleErrors,
                  w: dict[str, float]) -> float:
    """The chances that a drafted edge is reversed or false, times what fixing each gains."""
    u, v = s.edge
    own = (w["accepted_weight"] if edge is not None and edge.status is EdgeStatus.ACCEPTED else 1.0)
    same, rev = patterns.direction(u, v, own)
    symmetric = reverse_kind(pair_kind(u, v)) == pair_kind(u, v)
    against = 0.0 if symmetric else (rev - same) / (rev + same + 1.0)
    role_same, role_rev = patterns.role_direction(u, v, own)
    role_against = (role_rev - role_same) / (role_rev + role_same + 1.0)
    rarity = 1.0 / (1.0 + same + rev)
    cycle = 1.0 if s.kind == "cycle" else 0.0
    rules_err = rule_error(edge.rules) if edge is not None else 0.0
    confidence = float(edge.confidence) if edge is not None else 0.5
    p_value = s.evidence.get("p_value")
    dependent = 1.0 if p_value is not None and p_value < 1e-3 else 0.0
    p_rev = sigmoid(w["reversed_base"] + w["reversed_data"] * (s.score if s.kind == "reversed" else 0.0)
                    + w["reversed_pattern"] * against + w["reversed_role"] * role_against
                    + w["reversed_cycle"] * cycle
                    + w["reversed_dependent"] * dependent + w["rule_error"] * rules_err)
    p_false = sigmoid(w["false_base"] + w["false_data"] * (s.score if s.kind == "questionable" else 0.0)
                      + w["false_rarity"] * rarity + w["false_role_rarity"] / (1.0 + role_same + role_rev)
                      + w["false_cycle"] * cycle
                      - w["false_pattern"] * patterns.fill(u, v, own)
                      + w["false_confidence"] * (1.0 - confidence) + w["rule_error"] * rules_err)
    total = p_rev + p_false
    if total > 1.0:
        p_rev, p_false = p_rev / total, p_false / total
    s.evidence.update({"p_reversed": round(p_rev, 4), "p_false": round(p_false, 4),
                       "pattern_against": round(against, 4), "role_against": round(role_against, 4)})
    if against > 0.5 and p_rev > p_false:
        s.reasons.append(f"most edges between these kinds of metrics point the other way ({rev:g} against {same:g})")
    if role_against > 0.5 and p_rev > p_false:
        s.reasons.append(f"most edges between these metrics of components related this way point the other way "
                         f"({role_rev:g} against {role_same:g})")
    if rules_err > 0.2:
        s.reasons.append("other edges from the same rule were found wrong in this review")
    return 2.0 * p_rev + _TYPICAL_F1 * p_false
