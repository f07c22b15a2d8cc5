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
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from rcakit._io import atomic_write_text
from rcakit.errors import DataError
from rcakit.graph.draft import CausalDraft, DraftEdge, DraftNode, EdgeStatus
from rcakit.graph.proposal import Provenance

if TYPE_CHECKING:
    from rcakit.review.session import ReviewSession

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

EXPORT_FORMATS = ("networkx", "node-link", "dot", "gml", "dowhy", "causal-learn")
IMPORT_FORMATS = ("networkx", "node-link", "dot", "gml")
_EDGE_KEYS = ("status", "provenance", "confidence", "votes", "rationale", "rules", "evidence", "suspicion")
_NODE_KEYS = ("observed", "description", "alarm")
_EXTRA = "attributes"  # where a draft keeps attributes of an imported graph that it has no field for
_STYLE = {"accepted": "solid", "proposed": "dashed", "rejected": "dotted"}
_DOT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _draft_of(obj: CausalDraft | ReviewSession) -> CausalDraft:
    if isinstance(obj, CausalDraft):
        return obj
    draft = getattr(obj, "draft", None)
    if isinstance(draft, CausalDraft):
        return draft
    raise TypeError(f"expected a CausalDraft or a ReviewSession, got {type(obj).__name__}")


# -- out: networkx and node-link ----------------------------------------------------------------------
def _node_extra(draft: CausalDraft, name: str) -> dict[str, Any]:
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


def to_node_link(draft: CausalDraft | ReviewSession, *, include_rejected: bool = True) -> dict[str, Any]:
    """networkx's node-link document (``nodes``, ``edges``) of :func:`to_networkx`; JSON-serialisable."""
    data = nx.node_link_data(to_networkx(draft, include_rejected=include_rejected), edges="edges")
    return json.loads(json.dumps(data, default=str))


# -- out: DOT and GML -------------------------------------------------------------------------------------
def _flat(value: Any) -> str | int | float:
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


def _dot_quote(text: Any) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_key(key: str) -> str:
    return key if _DOT_ID.fullmatch(key) else _dot_quote(key)


def _dot_attrs(attrs: Mapping[str, Any]) -> str:
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
def _wide(data: Any, nodes: list[str]) -> Any:
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
    data: Any = None,
    *,
    invertible: bool = True,
    include_proposed: bool = True,
    quality: str = "good",
) -> Any:
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
                            x_names: bool = False) -> Any:
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
                 **options: Any) -> Any:
    """The draft (or a session's draft) in ``format``: one of ``EXPORT_FORMATS``.

    Returns the object (networkx graph, node-link dict, DOT or GML text, DoWhy model, causal-learn
    knowledge); with ``path`` the text formats are also written there (atomically).

    >>> scm = export_graph(session, "dowhy", data=baseline_frame)  # doctest: +SKIP
    >>> export_graph(session, "dot", "reviewed.dot")  # doctest: +SKIP
    """
    writers: dict[str, Callable[..., Any]] = {
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
            atomic_write_text(Path(path), result)
        elif key == "node-link":
            atomic_write_text(Path(path), json.dumps(result, indent=2) + "\n")
        else:
            raise ValueError(f"{format} is a Python object, not a file format; call without path=")
    return result


# -- in ---------------------------------------------------------------------------------------------------
def _bool(value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().strip('"').lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return default


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    text = str(value)
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            loaded = None
        if isinstance(loaded, list):
            return [str(v) for v in loaded]
    return [part.strip() for part in text.split(",") if part.strip()]


def _dict(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if value in (None, ""):
        return {}
    try:
        loaded = json.loads(str(value))
    except json.JSONDecodeError:
        return {"value": value}
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def _name(node: Any, entity: str | None, rename: Mapping[str, str] | None) -> str:
    name = str(node)
    if rename and name in rename:
        return rename[name]
    if ":" not in name and entity is not None:
        return f"{entity}:{name}"
    return name


def from_networkx(
    graph: nx.Graph,
    *,
    status: EdgeStatus | str = EdgeStatus.PROPOSED,
    alarm: str | None = None,
    entity: str | None = None,
    rename: Mapping[str, str] | None = None,
    source: str = "networkx",
) -> CausalDraft:
    """A draft to review from a directed networkx graph, keeping its node and edge attributes.

    Attributes rcakit writes (``status``, ``provenance``, ``confidence``, ``votes``, ``rationale``,
    ``rules``, ``evidence``, ``suspicion``; nodes ``observed``, ``description``, ``alarm``) are read
    back; any other attribute is kept (edges: in ``evidence["attributes"]``; nodes: in
    ``draft.meta["node_attributes"]``) and written out again by the exports. An edge without a status
    gets ``status`` (default *proposed*); without a provenance, ``human`` and the evidence
    ``imported_from=source``. Node names must be ``entity:metric``: ``entity=`` prefixes names
    without a colon, ``rename=`` maps names.
    """
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"expected a networkx graph, got {type(graph).__name__}")
    if not graph.is_directed():
        raise DataError(f"the graph from {source} is undirected; a causal graph needs directed edges",
                        source=source, hint="Convert it with graph.to_directed() if both directions are meant, or "
                                            "orient its edges first")
    default_status = EdgeStatus(status)
    names = {node: _name(node, entity, rename) for node in graph.nodes}
    bad = [n for n in names.values() if ":" not in n or n.startswith(":") or n.endswith(":")]
    if bad:
        raise DataError(f"{len(bad)} node name(s) are not 'entity:metric', e.g. {bad[0]!r}", source=source,
                        column=bad[0], hint="Pass entity='<component>' to prefix names without a colon, or "
                                            "rename={'old': 'entity:metric'}")
    g_alarm = graph.graph.get("alarm") if isinstance(graph.graph, dict) else None
    meta: dict[str, Any] = {"imported_from": source}
    if graph.graph.get("name"):
        meta["name"] = str(graph.graph["name"])
    nodes: list[DraftNode] = []
    edges: dict[tuple[str, str], DraftEdge] = {}
    node_extra: dict[str, dict[str, Any]] = {}
    flagged_alarm = None
    for node, attrs in graph.nodes(data=True):
        name = names[node]
        description = attrs.get("description")
        if description is None and attrs.get("label") not in (None, "", str(node), name):
            description = attrs.get("label")
        nodes.append(DraftNode(name, _bool(attrs.get("observed"), True), str(description or "")))
        if _bool(attrs.get("alarm"), False):
            flagged_alarm = name
        extra = {k: v for k, v in attrs.items() if k not in _NODE_KEYS and not (k == "label" and v in (node, name))}
        if extra:
            node_extra[name] = extra
    if node_extra:
        meta["node_attributes"] = node_extra
    duplicates = 0
    pairs = graph.edges(data=True, keys=True) if graph.is_multigraph() else (
        (u, v, None, a) for u, v, a in graph.edges(data=True))
    for u, v, _key, attrs in pairs:
        a, b = names[u], names[v]
        if a == b:
            raise DataError(f"the graph from {source} has a self-loop on {a!r}", source=source, column=a,
                            hint="A causal draft has no self-loops; remove it (autocorrelation is not an edge)")
        if (a, b) in edges:
            duplicates += 1
            continue
        try:
            edge_status = EdgeStatus(str(attrs.get("status", default_status.value)).strip('"'))
        except ValueError:
            edge_status = default_status
        provenance = [p for p in _list(attrs.get("provenance")) if p in Provenance.__members__.values()]
        evidence = _dict(attrs.get("evidence"))
        if not provenance:
            provenance = [Provenance.HUMAN.value]
            evidence.setdefault("imported_from", source)
        extra = {k: val for k, val in attrs.items()
                 if k not in _EDGE_KEYS and not (k == "style" and val == _STYLE.get(edge_status.value))}
        if extra:
            evidence[_EXTRA] = extra
        confidence = attrs.get("confidence")
        try:
            conf = float(confidence) if confidence not in (None, "") else 0.5
        except (TypeError, ValueError):
            conf = 0.5
        suspicion = attrs.get("suspicion")
        try:
            susp = float(suspicion) if suspicion not in (None, "", "null") else None
        except (TypeError, ValueError):
            susp = None
        votes = {str(k): int(n) for k, n in _dict(attrs.get("votes")).items()
                 if isinstance(n, int | float | str) and str(n).lstrip("-").isdigit()}
        edges[(a, b)] = DraftEdge(a, b, edge_status, [Provenance(p) for p in provenance], conf, votes,
                                  str(attrs.get("rationale") or ""), _list(attrs.get("rules")), evidence, susp)
    if duplicates:
        meta["import_notes"] = [f"{duplicates} parallel edge(s) merged into the first"]
    chosen = alarm or (names.get(g_alarm, g_alarm) if g_alarm else None) or flagged_alarm
    if chosen and chosen not in {n.name for n in nodes}:
        raise DataError(f"the alarm {chosen!r} is not a node of the graph", source=source,
                        hint="Pass alarm= naming one of its nodes")
    return CausalDraft(nodes, edges.values(), alarm=str(chosen) if chosen else None, meta=meta)


def from_node_link(data: Mapping[str, Any] | str | Path, **options: Any) -> CausalDraft:
    """A draft from networkx's node-link JSON (a dict, JSON text or a file); see :func:`from_networkx`."""
    source = "node-link"
    if isinstance(data, Path) or (isinstance(data, str) and not data.lstrip().startswith("{")):
        source = str(data)
        data = Path(data).read_text(encoding="utf-8")
    document = json.loads(data) if isinstance(data, str) else dict(data)
    edges = "edges" if "edges" in document else "links"
    try:
        graph = nx.node_link_graph(document, directed=bool(document.get("directed", True)), edges=edges)
    except (KeyError, TypeError, nx.NetworkXError) as exc:
        raise DataError(f"not a node-link graph: {exc}", source=source,
                        hint="Expected networkx.node_link_data output: nodes [{id, ...}], edges [{source, target}]"
                        ) from exc
    options.setdefault("source", source)
    return from_networkx(graph, **options)


def _unquote(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
        out = []
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                out.append({"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)
    return text


def from_dot(data: str | Path, **options: Any) -> CausalDraft:
    """A draft from Graphviz DOT (a file or the text), parsed by pydot; see :func:`from_networkx`."""
    import pydot

    source = "dot"
    text = str(data)
    if isinstance(data, Path) or ("{" not in text and Path(text).exists()):
        source = str(data)
        text = Path(data).read_text(encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pydot's use of older pyparsing names
        graphs = pydot.graph_from_dot_data(text)
    if not graphs:
        raise DataError("pydot could not parse this DOT text", source=source,
                        hint="Check it with `dot -Tsvg FILE`; names with ':' or spaces must be quoted")
    dot = graphs[0]
    if dot.get_type() != "digraph":
        raise DataError("the DOT graph is undirected ('graph', not 'digraph')", source=source,
                        hint="A causal graph needs directed edges: write 'digraph' and '->'")
    graph = nx.MultiDiGraph()
    name = _unquote(dot.get_name())
    if name:
        graph.graph["name"] = name
    for key, value in (dot.get_attributes() or {}).items():
        graph.graph[_unquote(key)] = _unquote(value)
    for sub in [dot, *dot.get_subgraphs()]:
        for key, value in ((sub.get_graph_defaults() or [{}])[0] if sub.get_graph_defaults() else {}).items():
            graph.graph.setdefault(_unquote(key), _unquote(value))
        for node in sub.get_nodes():
            node_name = _unquote(node.get_name())
            if node_name in ("node", "edge", "graph", "\\n"):
                continue
            graph.add_node(node_name, **{_unquote(k): _unquote(v) for k, v in (node.get_attributes() or {}).items()})
        for edge in sub.get_edges():
            graph.add_edge(_unquote(edge.get_source()), _unquote(edge.get_destination()),
                           **{_unquote(k): _unquote(v) for k, v in (edge.get_attributes() or {}).items()})
    for key in ("color",):
        for _, attrs in graph.nodes(data=True):
            if attrs.get(key) == "red" and attrs.get("alarm") == "true":
                del attrs[key]  # the alarm's colour is rcakit's styling, not an attribute of the node
    options.setdefault("source", source)
    return from_networkx(graph, **options)


def from_gml(data: str | Path, **options: Any) -> CausalDraft:
    """A draft from GML (a file or the text), parsed by networkx; see :func:`from_networkx`."""
    source = "gml"
    text = str(data)
    if isinstance(data, Path) or ("[" not in text and Path(text).exists()):
        source = str(data)
        text = Path(data).read_text(encoding="utf-8")
    try:
        graph = nx.parse_gml(text, label="label")
    except nx.NetworkXError as exc:
        raise DataError(f"not valid GML: {exc}", source=source,
                        hint="Check the file; networkx.read_gml reads it") from exc
    options.setdefault("source", source)
    return from_networkx(graph, **options)


def from_causallearn(
    result: Any,
    *,
    nodes: Iterable[str] | None = None,
    draft: CausalDraft | ReviewSession | None = None,
    method: str = "causal-learn",
) -> CausalDraft:
    """A draft from a causal-learn result (``pc(...)``'s CausalGraph, ``ges(...)``'s dict, a GeneralGraph).

    Directed edges become proposed edges with the provenance ``data``. An undirected edge (the data
    do not tell the direction) takes the direction ``draft`` has for the pair, else the two names'
    order, with ``evidence["undirected"] = True`` and a rationale saying so; bidirected and circle
    marks (FCI's latent confounders, unknown ends) are not edges and are listed in
    ``meta["unresolved"]``. With ``draft`` (or a session), the result is merged into a copy of it:
    decisions stay, edges the data support gain the ``data`` provenance. Nodes named ``X1, X2, ...``
    (a run without ``node_names``) are renamed by position from ``nodes``.
    """
    from causallearn.graph.Endpoint import Endpoint

    graph: Any = result.get("G") if isinstance(result, Mapping) else getattr(result, "G", result)
    if not hasattr(graph, "get_graph_edges"):
        raise TypeError(f"expected a causal-learn result (CausalGraph, GES dict or GeneralGraph), got "
                        f"{type(result).__name__}")
    names = [n.get_name() for n in graph.get_nodes()]
    order = list(nodes) if nodes is not None else None
    if order is not None:
        if len(order) != len(names):
            raise DataError(f"nodes= names {len(order)} nodes but the causal-learn graph has {len(names)}",
                            hint="Pass the columns of the data the run was given, in their order")
        rename = dict(zip(names, order, strict=True))
    else:
        rename = {n: n for n in names}
    base = _draft_of(draft).copy() if draft is not None else CausalDraft(meta={"imported_from": method})
    unresolved: list[str] = []
    for edge in graph.get_graph_edges():
        a, b = rename[edge.get_node1().get_name()], rename[edge.get_node2().get_name()]
        ends = (edge.get_endpoint1(), edge.get_endpoint2())
        for name in (a, b):
            base.add_node(name)
        if ends == (Endpoint.TAIL, Endpoint.ARROW):
            pair, info = (a, b), {"directed": True}
        elif ends == (Endpoint.ARROW, Endpoint.TAIL):
            pair, info = (b, a), {"directed": True}
        elif ends == (Endpoint.TAIL, Endpoint.TAIL):
            pair = (b, a) if base.has_edge(b, a) else (a, b) if base.has_edge(a, b) else tuple(sorted((a, b)))
            info = {"directed": False, "undirected": True}
        else:
            unresolved.append(f"{a} {ends[0].name}-{ends[1].name} {b}")
            continue
        rationale = f"{method} found a dependence between the two in the data" + (
            "" if info["directed"] else "; the data do not tell its direction")
        base.add_edge(pair[0], pair[1], provenance=Provenance.DATA, confidence=0.6 if info["directed"] else 0.5,
                      rationale=rationale, evidence={method: info})
    if unresolved:
        base.meta["unresolved"] = unresolved
    return base


def import_graph(graph_or_path: Any, *, format: str | None = None, **options: Any) -> CausalDraft:
    """A draft to review from a networkx graph or a DOT, GML or node-link JSON file (by suffix or ``format``).

    >>> draft = import_graph("our-architecture.dot", entity=None)  # doctest: +SKIP
    >>> session = ReviewSession(draft)  # doctest: +SKIP
    """
    if isinstance(graph_or_path, nx.Graph):
        return from_networkx(graph_or_path, **options)
    if isinstance(graph_or_path, Mapping):
        return from_node_link(graph_or_path, **options)
    path = Path(graph_or_path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    fmt = {"gv": "dot", "json": "node-link"}.get(fmt, fmt)
    if not path.exists():
        raise DataError("no such file", source=str(path), hint="Check the path")
    if fmt == "dot":
        return from_dot(path, **options)
    if fmt == "gml":
        return from_gml(path, **options)
    if fmt == "node-link":
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
        if isinstance(document, dict) and "rcakit_draft" in document:
            return CausalDraft.from_dict(document)  # a draft saved by rcakit
        return from_node_link(document, **{"source": str(path), **options})
    raise DataError(f"cannot import a graph from a {fmt or 'suffix-less'} file", source=str(path),
                    hint="Use a .dot/.gv, .gml or .json (node-link) file, or pass format=")
