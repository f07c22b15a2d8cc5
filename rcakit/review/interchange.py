"""Graph interchange both ways: a reviewed draft out to the tools a user already runs, and a user's graph in.

Out, in one call each (or ``export_graph(draft, format)``):

* :func:`to_networkx` a ``DiGraph`` whose nodes and edges carry everything the review knows
  (status, provenance, confidence, votes, rationale, rules, evidence); :func:`to_node_link` the
  same as networkx's node-link JSON; DOT and GML text with the same attributes flattened to strings
  (:func:`render_dot`, :func:`render_gml`, also behind :func:`rcakit.review.export`).
  Rejected edges travel too (``status="rejected"``) so that the review arrives whole; pass
  ``include_rejected=False`` for the graph to analyse.
* :func:`to_dowhy` a DoWhy gcm ``InvertibleStructuralCausalModel`` (or ``StructuralCausalModel``) on
  the observed graph (accepted and, by default, proposed edges; unmeasured nodes collapsed), with
  mechanisms assigned and, given data, fitted.
* :func:`to_background_knowledge` causal-learn's ``BackgroundKnowledge`` for the user's own
  discovery run: accepted edges (and ``require`` decisions) required, rejected edges (and
  ``forbid`` decisions, and the reverse of every required edge) forbidden.

In: :func:`import_graph` (or :func:`from_networkx`, :func:`from_dot`, :func:`from_gml`,
:func:`from_node_link`) makes a draft to review from a networkx graph, a DOT, GML or node-link JSON
file or text; :func:`from_causallearn` brings the result of the user's own discovery run back to the
review (merged into the draft, decisions kept). Attributes written by rcakit come back as they were (round trip); a graph from
elsewhere keeps its node and edge attributes, and an edge without a status is *proposed*, with
the provenance ``human`` and the evidence ``{"imported_from": ...}``.

The work is done in :mod:`rcakit.review._interchange_out` (export side) and
:mod:`rcakit.review._interchange_in` (import side); this module is where both are imported from.
"""

from __future__ import annotations

from rcakit.review._interchange_in import (
    IMPORT_FORMATS,
    from_causallearn,
    from_dot,
    from_gml,
    from_networkx,
    from_node_link,
    import_graph,
)
from rcakit.review._interchange_out import (
    EXPORT_FORMATS,
    export_graph,
    render_dot,
    render_gml,
    to_background_knowledge,
    to_dowhy,
    to_networkx,
    to_node_link,
)

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "export_graph",
    "from_causallearn",
    "from_dot",
    "from_gml",
    "from_networkx",
    "from_node_link",
    "import_graph",
    "render_dot",
    "render_gml",
    "to_background_knowledge",
    "to_dowhy",
    "to_networkx",
    "to_node_link",
]

