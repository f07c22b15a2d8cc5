"""Graphs for attribution: lift an entity-level graph (call graph, truth graph) to metric nodes."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

__all__ = ["lift_entity_graph"]


def lift_entity_graph(entity_graph: nx.DiGraph, metrics: str | Iterable[str], *,
                      nodes: Iterable[str] | None = None) -> nx.DiGraph:
    """``E1 -> E2`` between entities becomes ``E1:m -> E2:m`` for every metric name ``m``.

    With ``nodes`` (the metric nodes that exist), only those are kept; other lifted nodes are dropped
    (and their edges bridged by attribution, which names them as unmeasured). Edge attributes are kept.
    """
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    keep = set(nodes) if nodes is not None else None
    g = nx.DiGraph()
    for metric in names:
        for entity in entity_graph.nodes:
            node = f"{entity}:{metric}"
            if keep is None or node in keep:
                g.add_node(node)
        for u, v, data in entity_graph.edges(data=True):
            a, b = f"{u}:{metric}", f"{v}:{metric}"
            if keep is None or (a in keep and b in keep):
                g.add_edge(a, b, **data)
    return g
