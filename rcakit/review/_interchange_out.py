"""Graph interchange out: a reviewed draft to networkx, node-link JSON, DOT, GML, DoWhy and causal-learn.

The functions behind :mod:`rcakit.review.interchange` (import them from there or from
:mod:`rcakit.review`): :func:`to_networkx` and :func:`to_node_link` carry every attribute of the
review; :func:`render_dot` and :func:`render_gml` flatten them to strings; :func:`to_dowhy` builds a
DoWhy gcm causal model on the observed graph; :func:`to_background_knowledge` turns the decisions into
causal-learn constraints; :func:`export_graph` is one call for all of them.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, cast

import networkx as nx

from rcakit._io import atomic_write_text
from rcakit._types import JSONObject
from rcakit.errors import DataError
from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.review._interchange_attrs import _EXTRA, _STYLE, _draft_of

if TYPE_CHECKING:
    import pandas as pd
    from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge
    from dowhy.gcm import StructuralCausalModel

    from rcakit.graph.data import WideData
    from rcakit.review.session import ReviewSession

__all__ = [
    "EXPORT_FORMATS",
    "export_graph",
    "render_dot",
    "render_gml",
    "to_background_knowledge",
    "to_dowhy",
    "to_networkx",
    "to_node_link",
]

EXPORT_FORMATS = ("networkx", "node-link", "dot", "gml", "dowhy", "causal-learn")
_DOT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: What :func:`export_graph` returns, by format: a networkx graph, a node-link document, DOT or GML text, a DoWhy
#: model, causal-learn background knowledge.
_Exported: TypeAlias = "nx.DiGraph | JSONObject | str | StructuralCausalModel | BackgroundKnowledge"


# -- out: networkx and node-link ----------------------------------------------------------------------
def _node_extra(draft: CausalDraft, name: str) -> JSONObject:
    return dict((draft.meta.get("node_attributes") or {}).get(name) or {})


def to_networkx(draft: CausalDraft | ReviewSession, *, include_rejected: bool = True) -> nx.DiGraph:
    """Every node and edge of the draft with all its attributes (native Python values).

    Graph attributes: ``name``, ``alarm`` and ``rcakit_draft`` (the draft format version). Node
    attributes: ``observed``, ``description``, ``alarm`` and any imported ones. Edge attributes:
    ``status``, ``provenance`` (list), ``confidence``, ``votes``, ``rationale``, ``rules``,
    ``evidence``, ``suspicion`` and any imported ones.
    """
    d = _draft_of(draft)
    g = nx.DiGraph(name=str(d.meta.get("name") or ""), alarm=d.alarm, rcakit_draft=1)
    for name, node in d.nodes.items():
        g.add_node(name, **_node_extra(d, name), observed=bool(node.observed), description=node.description,
                   alarm=name == d.alarm)
    for edge in d.edges.values():
        if edge.status is EdgeStatus.REJECTED and not include_rejected:
            continue
        attrs = edge.to_dict()
        evidence = dict(attrs.pop("evidence") or {})
        extra = evidence.pop(_EXTRA, None) or {}
        del attrs["source"], attrs["target"]
        g.add_edge(edge.source, edge.target, **{**extra, **attrs, "evidence": evidence})
    return g


def to_node_link(draft: CausalDraft | ReviewSession, *, include_rejected: bool = True) -> JSONObject:
    """networkx's node-link document (``nodes``, ``edges``) of :func:`to_networkx`; JSON-serialisable."""
    data = nx.node_link_data(to_networkx(draft, include_rejected=include_rejected), edges="edges")
    document: JSONObject = json.loads(json.dumps(data, default=str))
    return document


# -- out: DOT and GML -------------------------------------------------------------------------------------
def _flat(value: object) -> str | int | float:
    """A DOT/GML attribute value: lists joined by commas, dicts and None as JSON, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not (isinstance(value, float) and not math.isfinite(value)):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) and "," not in v for v in value):
        return ",".join(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _flat_graph(draft: CausalDraft | ReviewSession, include_rejected: bool) -> nx.DiGraph:
    g = to_networkx(draft, include_rejected=include_rejected)
    flat = nx.DiGraph(**{k: _flat(v) for k, v in g.graph.items() if v is not None})
    for name, attrs in g.nodes(data=True):
        flat.add_node(name, **{k: _flat(v) for k, v in attrs.items()})
    for u, v, attrs in g.edges(data=True):
        flat.add_edge(u, v, **{k: _flat(x) for k, x in attrs.items() if x is not None and x != {}})
    return flat


def _dot_quote(text: object) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_key(key: str) -> str:
    return key if _DOT_ID.fullmatch(key) else _dot_quote(key)


def _dot_attrs(attrs: Mapping[str, object]) -> str:
    return ", ".join(f"{_dot_key(str(k))}={_dot_quote(v)}" for k, v in attrs.items())


def render_dot(draft: CausalDraft | ReviewSession, *, include_rejected: bool = True) -> str:
    """Graphviz DOT with every attribute (every id and value quoted, so ``entity:metric`` names and
    quotes inside names survive); styled for Graphviz: dashed proposed, dotted rejected, red alarm."""
    g = _flat_graph(draft, include_rejected)
    lines = [f"digraph {_dot_quote(g.graph.get('name') or 'rcakit')} {{"]
    graph_attrs = {k: v for k, v in g.graph.items() if k != "name"}
    if graph_attrs:
        lines.append(f"  graph [{_dot_attrs(graph_attrs)}];")
    for name, attrs in g.nodes(data=True):
        shown = dict(attrs)
        if attrs.get("alarm") == "true":
            shown.setdefault("color", "red")
        lines.append(f"  {_dot_quote(name)} [{_dot_attrs(shown)}];")
    for u, v, attrs in g.edges(data=True):
        shown = dict(attrs)
        shown.setdefault("style", _STYLE.get(str(attrs.get("status")), "solid"))
        lines.append(f"  {_dot_quote(u)} -> {_dot_quote(v)} [{_dot_attrs(shown)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_gml(draft: CausalDraft | ReviewSession, *, include_rejected: bool = True) -> str:
    """GML (networkx's writer) with every attribute; lists and dicts flattened to strings."""
    return "\n".join(nx.generate_gml(_flat_graph(draft, include_rejected))) + "\n"


# -- out: DoWhy ------------------------------------------------------------------------------------------
def _wide(data: WideData, nodes: list[str]) -> pd.DataFrame:
    import pandas as pd

    frame = data
    if hasattr(frame, "to_pandas") and not isinstance(frame, pd.DataFrame):
        frame = frame.to_pandas()
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"data must be a wide table (pandas or polars frame, or AlignedMetrics), got "
                        f"{type(data).__name__}", hint="Pass incident.baseline().align('1m', 'mean') or a frame with "
                        "one column per 'entity:metric' node")
    missing = [n for n in nodes if n not in frame.columns]
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise DataError(f"the data have no column for {len(missing)} node(s) of the graph: {shown}",
                        column=missing[0], hint="Every node of the observed graph needs a column of samples named "
                        "after it; align the incident's metrics (Telemetry.align) or leave the node out")
    out = frame[nodes].apply(pd.to_numeric, errors="coerce").dropna()
    if len(out) < 10:
        raise DataError(f"only {len(out)} rows have a value for every node", hint="Use a longer window, fill gaps "
                        "(Telemetry.align(..., fill=...)) or leave out the sparse nodes")
    return out


def to_dowhy(
    draft: CausalDraft | ReviewSession,
    data: WideData | None = None,
    *,
    invertible: bool = True,
    include_proposed: bool = True,
    quality: str = "good",
) -> StructuralCausalModel:
    """A DoWhy gcm causal model on the draft's observed graph, its mechanisms assigned (and fitted on ``data``).

    The graph is the observed graph (accepted and, with ``include_proposed``, proposed edges;
    unmeasured nodes collapsed, their names in each edge's ``via``); it must be acyclic. With
    ``data`` (a wide frame, one column per node) the mechanisms are chosen by
    ``gcm.auto.assign_causal_mechanisms`` at ``quality`` ("good", "better", "best") and fitted with
    ``gcm.fit``: the model answers ``gcm.attribute_anomalies`` etc. at once (``quality="linear"``:
    empirical roots and linear additive noise models, fitted in a fraction of the time). Without
    data, root nodes get an empirical distribution and the others a linear additive noise model,
    unfitted: call ``gcm.fit(model, data)`` before asking it anything. ``invertible=False`` gives a plain
    ``StructuralCausalModel`` (enough for interventions, not for counterfactuals).
    """
    from dowhy import gcm

    d = _draft_of(draft)
    graph = d.observed_graph(include_proposed=include_proposed)
    if graph.number_of_nodes() == 0:
        raise DataError("the draft has no observed nodes", hint="Add nodes or mark them observed")
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(u for u, _ in nx.find_cycle(graph))
        raise DataError(f"DoWhy needs an acyclic graph; the draft has the cycle {cycle}",
                        hint="Reverse or reject one edge of the cycle (ReviewSession.reverse/reject), or export with "
                             "include_proposed=False to keep only accepted edges")
    model = gcm.InvertibleStructuralCausalModel(graph) if invertible else gcm.StructuralCausalModel(graph)
    gcm.config.disable_progress_bars()
    qualities = {"good": gcm.auto.AssignmentQuality.GOOD, "better": gcm.auto.AssignmentQuality.BETTER,
                 "best": gcm.auto.AssignmentQuality.BEST}
    if quality not in (*qualities, "linear"):
        raise ValueError(f"quality must be 'linear' or one of {', '.join(qualities)}, got {quality!r}")
    if data is None or quality == "linear":
        for node in graph.nodes:
            if graph.in_degree(node) == 0:
                model.set_causal_mechanism(node, gcm.EmpiricalDistribution())
            else:
                model.set_causal_mechanism(node, gcm.AdditiveNoiseModel(gcm.ml.create_linear_regressor()))
        if data is None:
            return model
    frame = _wide(data, list(graph.nodes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if quality != "linear":
            gcm.auto.assign_causal_mechanisms(model, frame, quality=qualities[quality])
        gcm.fit(model, frame)
    return model


# -- out: causal-learn -------------------------------------------------------------------------------------
def to_background_knowledge(draft: CausalDraft | ReviewSession, *, nodes: Iterable[str] | None = None,
                            x_names: bool = False) -> BackgroundKnowledge:
    """causal-learn ``BackgroundKnowledge``: the review's decisions as constraints for discovery.

    Required: accepted edges (and a session's ``require`` decisions). Forbidden: rejected edges (and
    ``forbid`` decisions), and the reverse of every required edge. Nodes are named as in the draft,
    so run ``pc(data[nodes].to_numpy(), node_names=nodes, background_knowledge=bk)``; with
    ``x_names=True`` they are causal-learn's default names ``X1, X2, ...`` in the order of ``nodes``
    (for a run without ``node_names``). ``nodes`` (default: the draft's observed nodes) limits the
    constraints to the columns of the run.
    """
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

    d = _draft_of(draft)
    if hasattr(draft, "background_knowledge") and not isinstance(draft, CausalDraft):
        decisions = draft.background_knowledge()
        required, forbidden = set(decisions["required"]), set(decisions["forbidden"])
    else:
        required = {e.key for e in d.edges_where(status=EdgeStatus.ACCEPTED)}
        forbidden = {e.key for e in d.edges_where(status=EdgeStatus.REJECTED)} | {(v, u) for u, v in required}
        forbidden -= required
    order = list(nodes) if nodes is not None else [n for n, node in d.nodes.items() if node.observed]
    index = {n: i for i, n in enumerate(order)}
    graph_nodes = {n: GraphNode(f"X{i + 1}" if x_names else n) for n, i in index.items()}
    knowledge = BackgroundKnowledge()
    for u, v in sorted(required):
        if u in index and v in index:
            knowledge.add_required_by_node(graph_nodes[u], graph_nodes[v])
    for u, v in sorted(forbidden):
        if u in index and v in index:
            knowledge.add_forbidden_by_node(graph_nodes[u], graph_nodes[v])
    return knowledge


# -- out: one call ---------------------------------------------------------------------------------------
def export_graph(draft: CausalDraft | ReviewSession, format: str, path: str | Path | None = None,
                 **options: object) -> _Exported:
    """The draft (or a session's draft) in ``format``: one of ``EXPORT_FORMATS``.

    Returns the object (networkx graph, node-link dict, DOT or GML text, DoWhy model, causal-learn
    knowledge); with ``path`` the text formats are also written there (atomically).

    >>> scm = export_graph(session, "dowhy", data=baseline_frame)  # doctest: +SKIP
    >>> export_graph(session, "dot", "reviewed.dot")  # doctest: +SKIP
    """
    writers: dict[str, Callable[..., _Exported]] = {
        "networkx": to_networkx, "node-link": to_node_link, "dot": render_dot, "gml": render_gml,
        "dowhy": to_dowhy, "causal-learn": to_background_knowledge,
    }
    key = format.lower().replace("_", "-")
    key = {"nx": "networkx", "json": "node-link", "nodelink": "node-link", "gv": "dot", "causallearn":
           "causal-learn"}.get(key, key)
    if key not in writers:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}")
    result = writers[key](draft, **options)
    if path is not None:
        if key in ("dot", "gml"):
            atomic_write_text(Path(path), cast(str, result))
        elif key == "node-link":
            atomic_write_text(Path(path), json.dumps(result, indent=2) + "\n")
        else:
            raise ValueError(f"{format} is a Python object, not a file format; call without path=")
    return result
