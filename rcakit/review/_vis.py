"""The look of a draft as vis-network data: shared by the GraphReviewer widget and the HTML export.

Styling is decided here, in Python, so that the front end only draws what it is given:

* edge colour = provenance (knowledge blue, llm purple, data green, human orange, several teal);
* edge line = status (accepted solid, proposed dashed, rejected faint grey dots);
* edge width = confidence (1 px at 0, 5 px at 1);
* the alarm node is red, its ancestors amber, unobserved nodes have a brown dashed border.

Names travel as data (JSON strings drawn on a canvas or set with ``textContent``), never as markup.
"""

from __future__ import annotations

import json

import networkx as nx

from rcakit._types import JSONObject, JSONValue
from rcakit.graph.draft import CausalDraft, DraftEdge, EdgeStatus
from rcakit.telemetry import split_node

__all__ = ["PROVENANCE_COLORS", "edge_details", "json_for_script", "layout_positions", "vis_elements"]

PROVENANCE_COLORS = {
    "knowledge": "#1f77b4", "llm": "#9467bd", "data": "#2ca02c", "human": "#ff7f0e", "truth": "#555555",
    "several": "#17becf", "unknown": "#7f7f7f",
}
STATUS_DASHES: dict[str, bool | list[int]] = {"accepted": False, "proposed": [8, 6], "rejected": [2, 6]}


def _provenance_key(edge: DraftEdge) -> str:
    values = [p.value for p in edge.provenance]
    if "human" in values:
        return "human"
    if len(values) > 1:
        return "several"
    return values[0] if values else "unknown"


def edge_style(edge: DraftEdge) -> JSONObject:
    prov = _provenance_key(edge)
    status = edge.status.value
    conf = max(0.0, min(1.0, float(edge.confidence)))
    color = "#c8c8c8" if status == "rejected" else PROVENANCE_COLORS[prov]
    return {
        "color": {"color": color, "highlight": "#000000", "opacity": 0.45 if status == "rejected" else 1.0},
        "dashes": STATUS_DASHES[status],
        "width": round(1.0 + 4.0 * conf, 2) if status != "rejected" else 1.0,
        "arrows": "to",
    }


def _ancestors(draft: CausalDraft) -> set[str]:
    if draft.alarm is None:
        return set()
    live = [e.key for e in draft.edges.values() if e.status is not EdgeStatus.REJECTED]
    g = nx.DiGraph(live)
    return nx.ancestors(g, draft.alarm) if draft.alarm in g else set()


def layout_positions(
    draft: CausalDraft, *, seed: int = 0, fixed: dict[str, tuple[float, float]] | None = None,
) -> dict[str, tuple[float, float]]:
    """Node positions in pixels, computed once in Python so the browser draws at once (no physics).

    A seeded spring layout over every node and edge of the draft; ``fixed`` positions (nodes the
    reviewer already sees) stay where they are and only new nodes are placed.
    """
    g = nx.Graph()
    g.add_nodes_from(draft.nodes)
    g.add_edges_from(draft.edges)
    n = max(1, g.number_of_nodes())
    scale = 120.0 + 70.0 * n ** 0.5
    if fixed:
        known = {k: (x / scale, y / scale) for k, (x, y) in fixed.items() if k in g}
        if len(known) == n:
            return {k: fixed[k] for k in g.nodes}
        if known:
            pos = nx.spring_layout(g, pos=known, fixed=list(known), seed=seed, iterations=50)
            return {k: (round(float(x) * scale, 1), round(float(y) * scale, 1)) for k, (x, y) in pos.items()}
    pos = nx.spring_layout(g, seed=seed, iterations=50, k=1.6 / n ** 0.5)
    return {k: (round(float(x) * scale, 1), round(float(y) * scale, 1)) for k, (x, y) in pos.items()}


def vis_elements(
    draft: CausalDraft,
    *,
    provenance: str | None = None,
    status: str | None = None,
    component: str | None = None,
    selected: tuple[str, str] | str | None = None,
    queue: list[tuple[str, str]] | None = None,
    positions: dict[str, tuple[float, float]] | None = None,
) -> JSONObject:
    """Nodes and edges for vis-network, filtered by provenance, status and component (either end)."""
    ancestors = _ancestors(draft)
    queued = {tuple(e) for e in (queue or [])}
    edges = []
    shown_nodes: set[str] = set()
    for i, edge in enumerate(draft.edges.values()):
        if status and edge.status.value != status:
            continue
        if provenance and provenance not in {p.value for p in edge.provenance}:
            continue
        if component and component not in (split_node(edge.source)[0], split_node(edge.target)[0]):
            continue
        item: JSONObject = {"id": f"e{i}", "from": edge.source, "to": edge.target, "status": edge.status.value,
                "provenance": [p.value for p in edge.provenance], "confidence": round(float(edge.confidence), 3),
                **edge_style(edge)}
        if edge.key in queued:
            item["shadow"] = {"enabled": True, "color": "#ffbf00", "size": 12, "x": 0, "y": 0}
        if selected == edge.key:
            item["color"] = {**item["color"], "color": "#000000"}
            item["width"] = item["width"] + 2
        edges.append(item)
        shown_nodes |= {edge.source, edge.target}
    nodes = []
    filtering = bool(provenance or status or component)
    for name, node in draft.nodes.items():
        if filtering and name not in shown_nodes and name != draft.alarm:
            continue
        entity, metric = split_node(name)
        role = "alarm" if name == draft.alarm else ("ancestor" if name in ancestors else "node")
        background = {"alarm": "#d62728", "ancestor": "#ffd27f", "node": "#dbe9f6"}[role]
        node_item: JSONObject = {
            "id": name, "label": f"{entity}\n{metric}", "role": role, "observed": node.observed,
            "color": {"background": background, "border": "#8c564b" if not node.observed else "#444444"},
            "font": {"color": "#ffffff" if role == "alarm" else "#111111", "size": 13},
            "shape": "box", "borderWidth": 3 if role == "alarm" or selected == name else 1,
            "shapeProperties": {"borderDashes": [4, 3] if not node.observed else False},
        }
        if positions is not None and name in positions:
            node_item["x"], node_item["y"] = positions[name]
        nodes.append(node_item)
    return {"nodes": nodes, "edges": edges}


def edge_details(draft: CausalDraft, source: str, target: str) -> JSONObject:
    """Everything known about one edge, for the details panel (plain data)."""
    edge = draft.edge(source, target)
    via = draft.collapsed_places().get(edge.key, []) if any(not n.observed for n in draft.nodes.values()) else []
    return {"kind": "edge", **edge.to_dict(), "provenance_key": _provenance_key(edge), "collapsed_via": via}


def json_for_script(obj: JSONValue) -> str:
    """JSON safe to place inside an HTML ``<script>`` element: ``<``, ``>`` and ``&`` become escapes."""
    text = json.dumps(obj, default=str, ensure_ascii=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
