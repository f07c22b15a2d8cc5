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
from typing import Any

from rcakit.graph.meanings import Meaning, metric_meaning
from rcakit.graph.proposal import CandidatePair
from rcakit.graph.system import ComponentKind, InteractionKind, SystemModel
from rcakit.telemetry._schema import split_node

__all__ = ["COMMON_METRICS", "candidate_pairs", "enumerate_metrics", "relation_between"]

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


def _corpus_for(kind: str, extra: Mapping[str, Any]) -> dict[str, str]:
    """Metric name -> description for a component kind, the system's corpus overriding the built-in one."""
    out: dict[str, str] = {}
    for source in (COMMON_METRICS, extra):
        levels = source.get(kind) or {}
        for entries in levels.values():
            if isinstance(entries, Mapping):
                out.update({str(k): str(v) for k, v in entries.items()})
    return out


def enumerate_metrics(system: SystemModel, *, corpus: Mapping[str, Any] | None = None,
                      kinds: Iterable[str] | None = None) -> SystemModel:
    """A copy of ``system`` with the usual metrics of each component added as unobserved nodes.

    A common metric is added only when the component has no metric of the same meaning (a service
    reporting ``latency_p90`` gets no extra ``latency``). ``corpus`` (Atlas common-metrics format)
    adds to or overrides the built-in :data:`COMMON_METRICS` and the system's ``common_metrics``;
    ``kinds`` limits enumeration to some component kinds. Components with neither metrics nor
    interactions are left alone: nothing could connect them to the rest.
    """
    out = copy.deepcopy(system)
    extra: dict[str, Any] = {**(system.common_metrics or {}), **dict(corpus or {})}
    allowed = set(kinds) if kinds is not None else None
    for name in list(out.components):
        kind = _kind_of(out, name)
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


def relation_between(system: SystemModel, a: str, b: str) -> tuple[str, bool] | None:
    """How the components of nodes ``a`` and ``b`` interact: (``"same"|"invokes"|"uses"``, a is the source).

    None when they do not interact directly. For two-way interactions the first one listed wins.
    """
    ea, eb = split_node(a)[0], split_node(b)[0]
    if ea == eb:
        return ("same", True)
    for inter in system.interactions:
        if inter.source == ea and inter.target == eb:
            return (inter.kind.value, True)
        if inter.source == eb and inter.target == ea:
            return (inter.kind.value, False)
    return None


def candidate_pairs(system: SystemModel, *, include_unobserved: bool = True) -> list[CandidatePair]:
    """Pairs of metrics on one component or on two directly interacting components (Atlas 4.4).

    Cross-component pairs are oriented caller -> callee (or user -> resource): ``a`` is the source
    side's metric and ``relation`` is ``"invokes"`` or ``"uses"``. Each unordered pair appears once.
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
    for inter in system.interactions:
        relation = "uses" if inter.kind is InteractionKind.USES else "invokes"
        for a in by_entity.get(inter.source, []):
            for b in by_entity.get(inter.target, []):
                put(a, b, relation)
    return pairs
