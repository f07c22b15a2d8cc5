"""Data-driven discovery for :meth:`ReviewSession.rediscover`, with the review decisions as background knowledge.

``rcakit.graph.data.discover`` does the work (PC, GES, GRaSP, NOTEARS with exact background
knowledge, time-bounded). Undirected edges of the learned CPDAG are oriented by the draft when it has
one direction, and otherwise left out (the reviewer is shown directed proposals only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rcakit._types import JSONObject
from rcakit.errors import DataError
from rcakit.graph.data import Background
from rcakit.graph.data import discover as graph_discover
from rcakit.graph.draft import CausalDraft
from rcakit.review._ranking import wide_frame

if TYPE_CHECKING:
    from rcakit.graph.data import WideData

__all__ = ["discover"]

Edge = tuple[str, str]


def discover(
    draft: CausalDraft, data: WideData, *, method: str = "pc", alpha: float = 0.05,
    required: Iterable[Edge] = (), forbidden: Iterable[Edge] = (),
) -> tuple[dict[Edge, JSONObject], str]:
    """Directed edges the data support, each with a small evidence dict, and the method's name."""
    method = method.lower()
    observed = [n for n, node in draft.nodes.items() if node.observed]
    frame = wide_frame(data, observed) if not hasattr(data, "columns") or "time" not in list(data.columns) else data
    present = [n for n in observed if n in list(frame.columns)]
    if len(present) < 2:
        raise DataError("the data hold fewer than two of the draft's nodes as columns",
                        hint="Pass a wide frame whose columns are the draft's 'entity:metric' node names")
    background = Background(required=set(map(tuple, required)), forbidden=set(map(tuple, forbidden)))  # type: ignore[arg-type]
    result = graph_discover(frame, method=method, nodes=present, background=background, alpha=alpha)
    found: dict[Edge, JSONObject] = {}
    for u, v in result.graph.edges:
        found[(u, v)] = {"directed": True, "confidence": 0.6, "seconds": result.seconds}
    for u, v in result.undirected:  # direction unknown: follow the draft when it has one, else skip
        for e in ((u, v), (v, u)):
            if draft.has_edge(*e):
                found[e] = {"directed": False, "confidence": 0.5}
    return found, result.method
