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
  (greedy: the edge on most cycles, least confident, then the one an additive noise model most
  prefers reversed, then least supported by data);
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

Modules: :mod:`.suspicion` ranks the edges (:func:`rank_suspicious`; the checks in ``_checks``, the
statistics in ``_stats``, the memoised tests in ``_cache``), :mod:`.order` orders the questions
(:func:`next_batch`, :class:`QuestionOrder`; kinds of edges in ``_patterns``), :mod:`.suspect` holds
:class:`SuspectEdge`.
"""

from __future__ import annotations

from rcakit.graph.validate._cache import ValidationCache, validation_cache
from rcakit.graph.validate._stats import ANM_MIN_DISTINCT, anm_direction, partial_correlation
from rcakit.graph.validate.order import GAIN_WEIGHTS, QuestionOrder, expected_gain_order, next_batch
from rcakit.graph.validate.propagate import SCOPES, Propagation, similar_changes, similar_pairs
from rcakit.graph.validate.suspect import SuspectEdge, SuspectKind, annotate_suspicion, apply_suspects
from rcakit.graph.validate.suspicion import rank_suspicious

__all__ = [
    "ANM_MIN_DISTINCT",
    "GAIN_WEIGHTS",
    "SCOPES",
    "Propagation",
    "QuestionOrder",
    "SuspectEdge",
    "SuspectKind",
    "ValidationCache",
    "anm_direction",
    "annotate_suspicion",
    "apply_suspects",
    "expected_gain_order",
    "next_batch",
    "partial_correlation",
    "rank_suspicious",
    "similar_changes",
    "similar_pairs",
    "validation_cache",
]
