"""Which pairs of metrics are worth asking about, and which metrics a component usually has (Atlas 4.3-4.4).

Direct causal influence between telemetry only arises where components interact, so a candidate
pair holds two metrics of one component, or of two components that directly interact (one invokes
the other, or uses it as a resource). :func:`candidate_pairs` orients every cross-component pair so
that ``a`` lives on the caller (or user) and ``b`` on the callee (or resource); ``relation`` names
the interaction. :func:`enumerate_metrics` adds the metrics a component of its kind usually has but
does not report as unobserved nodes (Atlas A.3), from a built-in corpus and the system's own
``common_metrics``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx

from rcakit.graph.meanings import Meaning, metric_meaning
from rcakit.graph.proposal import CandidatePair
from rcakit.graph.system import ComponentKind, InteractionKind, SystemModel
from rcakit.telemetry import split_node

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue

__all__ = ["COMMON_METRICS", "InteractionMap", "candidate_pairs", "enumerate_metrics", "infer_hosts",
           "interaction_map", "relation_between"]

#: The common metrics of each component kind, in Atlas's common-metrics format (kind -> level -> name -> text).
COMMON_METRICS: dict[str, dict[str, dict[str, str]]] = {
    "request": {
        "request_level": {"latency": "The time taken for a request to be processed end to end"},
    },
    "service": {
        "request_level": {"latency": "The time taken for an invoked service to process the request"},
        "service_level": {
            "throughput": "The number of requests that a service processes per second (its request rate)",
            "error_rate": "The share of requests that fail",
        },
    },
    "resource": {
        "resource_level": {
            "utilization": "The percentage of time that a resource is busy processing requests",
            "power": "A measure of the capacity of a resource to process requests",
            "memory": "The memory in use on the resource",
        },
    },
    "link": {
        "request_level": {"latency": "The time taken to send a request over the network link"},
    },
    "queue": {
        "request_level": {"latency": "The time waited by a request in the queue before it is dequeued"},
        "service_level": {"queue_length": "The number of requests waiting in the queue"},
    },
}

# Metrics whose meaning already covers an enumerated one (a component reporting its publish rate
# needs no enumerated throughput).
_COVERS: dict[Meaning, set[Meaning]] = {
    Meaning.THROUGHPUT: {Meaning.THROUGHPUT, Meaning.LOAD, Meaning.ENQUEUE_RATE, Meaning.DEQUEUE_RATE},
    Meaning.ERROR_RATE: {Meaning.ERROR_RATE, Meaning.AVAILABILITY},
}


def _kind_of(system: SystemModel, entity: str) -> str:
    comp = system.components[entity]
    template = comp.template.lower()
    if comp.kind is ComponentKind.SERVICE and "-" not in template and "queue" in template:
        return "queue"
    return comp.kind.value


def _corpus_for(kind: str, extra: Mapping[str, JSONValue]) -> dict[str, str]:
    """Metric name -> description for a component kind, the system's corpus overriding the built-in one."""
    out: dict[str, str] = {}
    for source in (COMMON_METRICS, extra):
        levels = source.get(kind) or {}
        for entries in levels.values():
            if isinstance(entries, Mapping):
                out.update({str(k): str(v) for k, v in entries.items()})
    return out


def enumerate_metrics(system: SystemModel, *, corpus: Mapping[str, JSONValue] | None = None,
                      kinds: Iterable[str] | None = None) -> SystemModel:
    """A copy of ``system`` with the usual metrics of each component added as unobserved nodes.

    A common metric is added only when the component has no metric of the same meaning (a service
    reporting ``latency_p90`` gets no extra ``latency``). ``corpus`` (Atlas common-metrics format)
    adds to or overrides the built-in :data:`COMMON_METRICS` and the system's ``common_metrics``;
    ``kinds`` limits enumeration to some component kinds. Components with neither metrics nor
    interactions are left alone: nothing could connect them to the rest.
    """
    out = copy.deepcopy(system)
    extra: JSONObject = {**(system.common_metrics or {}), **dict(corpus or {})}
    allowed = set(kinds) if kinds is not None else None
    imap = interaction_map(out)
    for name in list(out.components):
        if name in imap.passthrough and name not in imap.links:
            continue  # a configuration-only component (a batcher) has no runtime metrics to enumerate
        kind = "link" if name in imap.links else _kind_of(out, name)
        if allowed is not None and kind not in allowed:
            continue
        existing = out.metrics_of(name)
        if not existing and not out.neighbors(name):
            continue
        have = {metric_meaning(m.name, m.description, component_kind=kind) for m in existing}
        for metric, description in _corpus_for(kind, extra).items():
            meaning = metric_meaning(metric, description, component_kind=kind)
            covered = _COVERS.get(meaning, {meaning})
            if any(m.name == metric for m in existing) or (meaning is not Meaning.UNKNOWN and have & covered):
                continue
            out.add_metric(name, metric, description, observed=False)
            have.add(meaning)
    return out


@dataclass
class InteractionMap:
    """The interactions that matter for causal influence, derived from a system's call graph.

    * ``links``: network hops named after the two components they join (``Client-Router``);
      ``response_links`` carry the answer back to a request (``ModelInference_0-Client``).
    * ``passthrough``: links and components that report only configuration (a batcher with its
      ``max_batch_size``): influence flows through them to the next component.
    * ``queues``: components that buffer requests (``Queue_0``).
    * ``relations``: (source entity, target entity) -> ``"invokes"``, ``"uses"``, ``"consumes"`` (the
      source pulls work from the target queue) or ``"request_path"`` (the source is a request and
      the target a component on its path). Calls through pass-through components count as direct.
    """

    links: set[str] = field(default_factory=set)
    response_links: set[str] = field(default_factory=set)
    passthrough: set[str] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)
    requests: set[str] = field(default_factory=set)
    relations: dict[tuple[str, str], str] = field(default_factory=dict)

    def callers(self, entity: str) -> list[str]:
        return [s for (s, t), rel in self.relations.items() if t == entity and rel == "invokes"]

    def relation(self, ea: str, eb: str) -> tuple[str, bool] | None:
        if ea == eb:
            return ("same", True)
        rel = self.relations.get((ea, eb))
        if rel is not None:
            return (rel, True)
        rel = self.relations.get((eb, ea))
        if rel is not None:
            return (rel, False)
        return None


def interaction_map(system: SystemModel) -> InteractionMap:
    """Links, pass-through components, queues, requests and the effective relations of ``system``."""
    out = InteractionMap()
    templates = {c.template for c in system.components.values()}
    request_templates = {c.template for c in system.components.values() if c.kind is ComponentKind.REQUEST}
    for name, comp in system.components.items():
        parts = comp.template.split("-")
        if len(parts) > 1 and all(p in templates and p != comp.template for p in parts):
            out.links.add(name)
            if parts[-1] in request_templates:
                out.response_links.add(name)
        elif _kind_of(system, name) == "queue":
            out.queues.add(name)
        if comp.kind is ComponentKind.REQUEST:
            out.requests.add(name)
    for name in system.components:
        metrics = system.metrics_of(name)
        if metrics and all(metric_meaning(m.name, m.description) is Meaning.CONFIG for m in metrics):
            out.passthrough.add(name)
    out.passthrough |= out.links
    invokes: dict[str, list[str]] = {}
    for inter in system.interactions:
        if inter.kind is InteractionKind.USES:
            out.relations.setdefault((inter.source, inter.target), "uses")
        else:
            invokes.setdefault(inter.source, []).append(inter.target)

    def direct(src: str, dst: str, last_hop: str) -> str:
        pulls = dst in out.queues and last_hop not in out.links and src not in out.links
        return "consumes" if pulls else "invokes"

    for inter in system.interactions:
        if inter.kind is InteractionKind.INVOKES:
            out.relations.setdefault((inter.source, inter.target), direct(inter.source, inter.target, inter.source))
    for src in system.components:
        if src in out.passthrough:
            continue
        # Follow calls through pass-through components to the next real component.
        stack = [(mid, src) for mid in invokes.get(src, []) if mid in out.passthrough]
        seen = {src}
        while stack:
            mid, _ = stack.pop()
            if mid in seen:
                continue
            seen.add(mid)
            for dst in invokes.get(mid, []):
                if dst in out.passthrough:
                    stack.append((dst, mid))
                elif dst != src and (src, dst) not in out.relations and (dst, src) not in out.relations:
                    out.relations[(src, dst)] = direct(src, dst, mid)
    if out.requests:
        undirected = nx.Graph()
        undirected.add_nodes_from(system.components)
        undirected.add_edges_from((i.source, i.target) for i in system.interactions)
        for req in out.requests:
            for other in nx.node_connected_component(undirected, req):
                if other != req and (req, other) not in out.relations and (other, req) not in out.relations:
                    out.relations[(req, other)] = "request_path"
    return out


_HOST_MEANINGS = {Meaning.UTILIZATION, Meaning.MEMORY, Meaning.DISK_IO, Meaning.NETWORK, Meaning.POWER}


def infer_hosts(system: SystemModel) -> SystemModel:
    """A copy of a system without any interaction, where host-like components are resources in use.

    With no call graph and no deployment description, an expert still reads ``server:cpu_global_prct``,
    ``server:ram_global_prct`` as the machine the other components run on. A component whose metrics
    all mean utilization, memory, disk or network becomes a resource used by every component that
    is not host-like. A system that has interactions is returned unchanged (as a copy).
    """
    out = copy.deepcopy(system)
    if out.interactions or len(out.components) < 2:
        return out
    hosts, others = [], []
    for name, comp in out.components.items():
        metrics = out.metrics_of(name)
        meanings = {metric_meaning(m.name, m.description) for m in metrics}
        if metrics and meanings <= _HOST_MEANINGS:
            hosts.append(name)
        elif comp.kind is not ComponentKind.RESOURCE:
            others.append(name)
    if not hosts or not others:
        return out
    for host in hosts:
        out.components[host].kind = ComponentKind.RESOURCE
        for other in others:
            out.add_interaction(other, host, InteractionKind.USES)
    return out


def relation_between(system: SystemModel, a: str, b: str, *,
                     imap: InteractionMap | None = None) -> tuple[str, bool] | None:
    """How the components of nodes ``a`` and ``b`` interact: (relation, a is the source side), or None.

    Relations are ``"same"``, ``"invokes"``, ``"uses"``, ``"consumes"`` and ``"request_path"`` (see
    :class:`InteractionMap`); pass ``imap`` when asking about many pairs of one system.
    """
    imap = imap if imap is not None else interaction_map(system)
    return imap.relation(split_node(a)[0], split_node(b)[0])


def candidate_pairs(system: SystemModel, *, include_unobserved: bool = True) -> list[CandidatePair]:
    """Pairs of metrics on one component or on two directly interacting components (Atlas 4.4).

    Cross-component pairs are oriented from the source side: ``a`` is the caller's (user's,
    consumer's, request's) metric, ``b`` the callee's (resource's, queue's, hop's), and ``relation``
    names the interaction (:class:`InteractionMap`). Calls through links and configuration-only
    components count as direct; a request interacts with every component on its path (Atlas 4.2).
    Each unordered pair appears once.
    """
    by_entity: dict[str, list[str]] = {}
    for node, info in sorted(system.metrics.items()):
        if info.observed or include_unobserved:
            by_entity.setdefault(info.entity, []).append(node)
    seen: set[tuple[str, str]] = set()
    pairs: list[CandidatePair] = []

    def put(a: str, b: str, relation: str) -> None:
        key = (a, b) if a <= b else (b, a)
        if a == b or key in seen:
            return
        seen.add(key)
        pairs.append(CandidatePair(a, b, relation))

    for nodes in by_entity.values():
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                put(a, b, "same")
    for (source, target), relation in interaction_map(system).relations.items():
        for a in by_entity.get(source, []):
            for b in by_entity.get(target, []):
                put(a, b, relation)
    return pairs
