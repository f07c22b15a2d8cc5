"""Graph interchange in: a user's networkx, DOT, GML or node-link graph, or a causal-learn result, as a draft.

The functions behind :mod:`rcakit.review.interchange` (import them from there or from
:mod:`rcakit.review`): :func:`import_graph` picks the reader by suffix or ``format``;
:func:`from_networkx` does the work for every format (the others parse to a networkx graph first),
reading back what rcakit wrote and keeping every other attribute; :func:`from_causallearn` merges the
result of a user's own discovery run into the draft.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, overload

import networkx as nx

from rcakit._types import JSONObject, JSONValue
from rcakit.errors import DataError
from rcakit.graph.draft import CausalDraft, DraftEdge, DraftNode, EdgeStatus
from rcakit.graph.proposal import Provenance
from rcakit.review._interchange_attrs import _EDGE_KEYS, _EXTRA, _NODE_KEYS, _STYLE, _draft_of

if TYPE_CHECKING:
    from causallearn.graph.GeneralGraph import GeneralGraph
    from causallearn.graph.GraphClass import CausalGraph
    from typing_extensions import Unpack

    from rcakit.review.session import ReviewSession

__all__ = [
    "IMPORT_FORMATS",
    "from_causallearn",
    "from_dot",
    "from_gml",
    "from_networkx",
    "from_node_link",
    "import_graph",
]

IMPORT_FORMATS = ("networkx", "node-link", "dot", "gml")
_T = TypeVar("_T")


class ImportOptions(TypedDict, total=False):
    """The keywords every reader passes on to :func:`from_networkx`."""

    status: EdgeStatus | str
    alarm: str | None
    entity: str | None
    rename: Mapping[str, str] | None
    source: str


# -- in ---------------------------------------------------------------------------------------------------
def _bool(value: object, default: bool = True) -> bool:
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


def _list(value: object) -> list[str]:
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


def _dict(value: object) -> JSONObject:
    if isinstance(value, Mapping):
        return dict(value)
    if value in (None, ""):
        return {}
    try:
        loaded = json.loads(str(value))
    except json.JSONDecodeError:
        return {"value": value}
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def _name(node: Hashable, entity: str | None, rename: Mapping[str, str] | None) -> str:
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
    meta: JSONObject = {"imported_from": source}
    if graph.graph.get("name"):
        meta["name"] = str(graph.graph["name"])
    nodes, node_extra, flagged_alarm = _read_nodes(graph, names)
    if node_extra:
        meta["node_attributes"] = node_extra
    edges: dict[tuple[str, str], DraftEdge] = {}
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
        edges[(a, b)] = _read_edge(a, b, attrs, default_status, source)
    if duplicates:
        meta["import_notes"] = [f"{duplicates} parallel edge(s) merged into the first"]
    chosen = alarm or (names.get(g_alarm, g_alarm) if g_alarm else None) or flagged_alarm
    if chosen and chosen not in {n.name for n in nodes}:
        raise DataError(f"the alarm {chosen!r} is not a node of the graph", source=source,
                        hint="Pass alarm= naming one of its nodes")
    return CausalDraft(nodes, edges.values(), alarm=str(chosen) if chosen else None, meta=meta)


def _read_nodes(graph: nx.Graph, names: Mapping[Hashable, str]
                ) -> tuple[list[DraftNode], dict[str, JSONObject], str | None]:
    """The graph's nodes as draft nodes, the attributes a draft has no field for, and the node flagged as alarm."""
    nodes: list[DraftNode] = []
    node_extra: dict[str, JSONObject] = {}
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
    return nodes, node_extra, flagged_alarm


# A user's graph carries any Python value as an attribute (read with float()/str() where rcakit has a field).
def _read_edge(a: str, b: str, attrs: Mapping[str, Any], default_status: EdgeStatus, source: str) -> DraftEdge:
    """One edge: the attributes rcakit writes read back (as text too), any other kept in its evidence."""
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
    return DraftEdge(a, b, edge_status, [Provenance(p) for p in provenance], conf, votes,
                     str(attrs.get("rationale") or ""), _list(attrs.get("rules")), evidence, susp)


def from_node_link(data: Mapping[str, JSONValue] | str | Path, **options: Unpack[ImportOptions]) -> CausalDraft:
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


@overload
def _unquote(value: str) -> str: ...
@overload
def _unquote(value: _T) -> _T: ...
def _unquote(value: object) -> object:
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


def from_dot(data: str | Path, **options: Unpack[ImportOptions]) -> CausalDraft:
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


def from_gml(data: str | Path, **options: Unpack[ImportOptions]) -> CausalDraft:
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
    result: CausalGraph | GeneralGraph | Mapping[str, object],
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

    graph: GeneralGraph = result.get("G") if isinstance(result, Mapping) else getattr(result, "G", result)
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


def import_graph(graph_or_path: nx.Graph | Mapping[str, JSONValue] | str | Path, *, format: str | None = None,
                 **options: Unpack[ImportOptions]) -> CausalDraft:
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
        merged: ImportOptions = {"source": str(path), **options}
        return from_node_link(document, **merged)
    raise DataError(f"cannot import a graph from a {fmt or 'suffix-less'} file", source=str(path),
                    hint="Use a .dot/.gv, .gml or .json (node-link) file, or pass format=")
