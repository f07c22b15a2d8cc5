"""The attribute vocabulary both directions of :mod:`rcakit.review.interchange` share.

The edge and node attributes rcakit writes (and reads back), where a draft keeps attributes it has no
field for, the DOT style of each status, and :func:`_draft_of` (a draft, or a session's draft).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcakit.graph.draft import CausalDraft

if TYPE_CHECKING:
    from rcakit.review.session import ReviewSession

__all__ = ["_EDGE_KEYS", "_EXTRA", "_NODE_KEYS", "_STYLE", "_draft_of"]

_EDGE_KEYS = ("status", "provenance", "confidence", "votes", "rationale", "rules", "evidence", "suspicion")
_NODE_KEYS = ("observed", "description", "alarm")
_EXTRA = "attributes"  # where a draft keeps attributes of an imported graph that it has no field for
_STYLE = {"accepted": "solid", "proposed": "dashed", "rejected": "dotted"}


def _draft_of(obj: CausalDraft | ReviewSession) -> CausalDraft:
    if isinstance(obj, CausalDraft):
        return obj
    draft = getattr(obj, "draft", None)
    if isinstance(draft, CausalDraft):
        return draft
    raise TypeError(f"expected a CausalDraft or a ReviewSession, got {type(obj).__name__}")
