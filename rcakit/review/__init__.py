"""Review a causal draft with a human in the loop (Atlas section 4.6): decisions, undo, autosave, export.

``ReviewSession(draft)`` holds the draft and every decision (accept, reject, reverse, add, forbid,
require, skip), offers suspicious edges five at a time (``next_batch``), re-runs data-driven
discovery with the decisions as background knowledge (``rediscover``), autosaves atomically after
each decision and reopens exactly (``ReviewSession.open(path)``). Plain Python: no widget imports.
"""

from rcakit.review.export import export, to_dot, to_gml, to_html, to_json
from rcakit.review.session import (
    SESSION_SUFFIX,
    Decision,
    DecisionKind,
    QueueItem,
    ReviewEvent,
    ReviewSession,
    default_session_path,
)

__all__ = [
    "SESSION_SUFFIX",
    "Decision",
    "DecisionKind",
    "QueueItem",
    "ReviewEvent",
    "ReviewSession",
    "default_session_path",
    "export",
    "to_dot",
    "to_gml",
    "to_html",
    "to_json",
]
