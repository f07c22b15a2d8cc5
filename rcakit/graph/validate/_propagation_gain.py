"""What a propagated suggestion is expected to add to a question: per answer and scope, the chance that the
whole kind follows the answer times the F1 its listed changes would add."""

from __future__ import annotations

from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.graph.validate._patterns import pair_kind, reverse_kind, sigmoid
from rcakit.graph.validate.propagate import SCOPES, Propagation, Scope, similar_changes, similar_pairs
from rcakit.graph.validate.suspect import SuspectEdge

__all__ = ["CHANGE_VALUE", "TYPICAL_F1", "similar_gain", "uniform_chance"]

#: F1 effects per fixed edge, in units of 1/(predicted + true edges): a reversal fixed gains a true
#: positive (2); a false edge rejected, one prediction fewer (about F1); a missing edge added, a true
#: positive and a prediction (about 2 - F1). F1 is taken as 0.85, a typical draft under review.
TYPICAL_F1 = 0.85
#: F1 effect of each kind of change a confirmed propagation makes (accepting a proposed edge: none).
CHANGE_VALUE = {"accept": 0.0, "reverse": 2.0, "add": 2.0 - TYPICAL_F1, "reject": TYPICAL_F1}

KindKey = tuple[str, frozenset[tuple[str, ...]]]


def _kind_key(edge: tuple[str, str], scope: Scope, related: dict[tuple[str, str], str]) -> KindKey:
    """The kind of a pair in a scope, either direction (so both ways of drafting it are one kind)."""
    u, v = edge
    if scope == "replicas":
        return scope, frozenset((pair_kind(u, v), reverse_kind(pair_kind(u, v))))
    eu, _, mu = u.partition(":")
    ev, _, mv = v.partition(":")
    rel = "same" if eu == ev else related.get((eu, ev), "unrelated")
    back = "same" if eu == ev else related.get((ev, eu), "unrelated")
    return scope, frozenset(((mu, mv, rel), (mv, mu, back)))


def similar_gain(draft: CausalDraft, s: SuspectEdge, p_answer: dict[str, float], ruled_out: set[tuple[str, ...]],
                 w: dict[str, float], related: dict[tuple[str, str], str], anchored: set[KindKey]) -> float:
    """The best scope's expected gain from propagating the answer on ``s`` (0 when its kinds carry one already).

    ``anchored``: kinds an earlier (better) question already carries; the kind this one carries is
    added, so that one question per kind offers the suggestion.
    """
    best, best_key, offered = 0.0, None, {}
    for scope in SCOPES:
        key = _kind_key(s.edge, scope, related)
        if key in anchored:
            continue
        total = 0.0
        for answer, p in p_answer.items():
            if p <= 0:
                continue
            prop = similar_changes(draft, s.edge, answer, forbidden=ruled_out,  # type: ignore[arg-type]
                                   scope=scope, related=related)
            value = sum(CHANGE_VALUE[a] for _, _, a in prop.changes)
            if prop.offered and value > 0:
                total += p * uniform_chance(draft, prop, w, related) * value
        if total > best:
            best, best_key = total, key
            offered = {"scope": scope, "gain": round(total, 4)}
    if best_key is not None:
        anchored.add(best_key)
        s.evidence["similar"] = offered
    return best


def uniform_chance(draft: CausalDraft, prop: Propagation, w: dict[str, float],
                   related: dict[tuple[str, str], str]) -> float:
    """The chance that every similar pair follows the answer, from how the draft links the kind's pairs.

    A linked kind (some similar pair linked either way): its pairs linked that way speak for it, those
    linked the other way or not at all against it. A kind the draft never links (a rule the drafter
    lacks everywhere) has its own prior. For ``reject``: the chance that none of the similar edges
    holds either. The broader ``role`` scope has its own prior offset.
    """
    if prop.answer == "reject":
        return sigmoid(w["similar_reject"])
    src, dst = prop.anchor[::-1] if prop.answer == "reverse" else prop.anchor
    support = contra = absent = 0
    for a, b in similar_pairs(draft, src, dst, prop.scope, related=related):
        forward, backward = draft.edges.get((a, b)), draft.edges.get((b, a))
        if forward is not None and forward.status is not EdgeStatus.REJECTED:
            support += 1
        elif backward is not None and backward.status is not EdgeStatus.REJECTED:
            contra += 1
        else:
            absent += 1
    offset = w["similar_role"] if prop.scope == "role" else 0.0
    if support + contra == 0:
        return sigmoid(w["similar_unlinked"] + offset)
    pairs = support + contra + absent
    return sigmoid(w["similar_base"] + offset + (w["similar_support"] * support - w["similar_contra"] * contra
                                                 - w["similar_absent"] * absent) / pairs)
