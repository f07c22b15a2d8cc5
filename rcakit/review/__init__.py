"""Review a causal draft with a human in the loop (Atlas section 4.6): decisions, undo, autosave, export.

``ReviewSession(draft)`` holds the draft and every decision (accept, reject, reverse, add, forbid,
require, skip), offers suspicious edges five at a time (``next_batch``), re-runs data-driven
discovery with the decisions as background knowledge (``rediscover``), autosaves atomically after
each decision and reopens exactly (``ReviewSession.open(path)``). Plain Python: no widget imports.

Interchange (:mod:`rcakit.review.interchange`): a reviewed draft goes out in one call to networkx,
node-link JSON, DOT, GML, a DoWhy gcm causal model (``to_dowhy``) or causal-learn background
knowledge (``to_background_knowledge``); a user's networkx, DOT, GML or node-link graph comes in
as a draft to review (``import_graph``), keeping its attributes.
"""

from rcakit.review.export import export, to_dot, to_gml, to_html, to_json
from rcakit.review.interchange import (
    export_graph,
    from_causallearn,
    from_dot,
    from_gml,
    from_networkx,
    from_node_link,
    import_graph,
    to_background_knowledge,
    to_dowhy,
    to_networkx,
    to_node_link,
)
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
    "export_graph",
    "from_causallearn",
    "from_dot",
    "from_gml",
    "from_networkx",
    "from_node_link",
    "import_graph",
    "to_background_knowledge",
    "to_dot",
    "to_dowhy",
    "to_gml",
    "to_html",
    "to_json",
    "to_networkx",
    "to_node_link",
]
