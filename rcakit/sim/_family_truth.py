"""The true causal graph of a :mod:`rcakit.sim.families` system: the equations of
:mod:`rcakit.sim._family_engine` written as cause -> effect edges between metric nodes, each with its ``why``."""

from __future__ import annotations

import networkx as nx

from rcakit.sim._family_engine import Service, Topo
from rcakit.sim._family_systems import metric_names

__all__ = ["true_family_graph"]


def _edges_of(topo: Topo, svc: Service) -> list[tuple[str, str, str]]:
    """(cause, effect, why) of one instrumented entity's equations."""
    s = svc.name
    load = f"{s}:enqueue_rate" if svc.kind == "broker" else f"{s}:request_rate"
    edges = [(load, f"{s}:cpu", "serving requests uses CPU"),
             (f"{s}:memory", f"{s}:error_rate", "a heap near its limit fails requests (OutOfMemoryError)")]
    slow = [(f"{s}:cpu", "a busier CPU makes every request wait for it (1 / (1 - utilisation))"),
            (f"{s}:memory", "GC pauses grow as the heap fills")]
    if "disk_io" in metric_names(svc):
        edges.append((load, f"{s}:disk_io", "every request reads or writes the disk"))
        slow.append((f"{s}:disk_io", "a busier disk makes every query wait for it"))
    for call in (c for stage in svc.stages for c in stage):
        callee = topo.services[call.callee]
        c = callee.name
        slow.append((f"{c}:latency", "a synchronous call: the caller waits for it"))
        if call.critical:
            edges.append((f"{c}:errors" if not callee.instrumented else f"{c}:error_rate", f"{s}:error_rate",
                          "a failed critical call fails the request"))
        for side in ((c,) if callee.instrumented else ()) + callee.backends:
            head = f"{c}:latency" if callee.kind == "lb" else f"{s}:latency"
            fail = f"{c}:errors" if callee.kind == "lb" else f"{s}:error_rate"
            side_load = f"{side}:enqueue_rate" if topo.services[side].kind == "broker" else f"{side}:request_rate"
            edges += [(load, side_load, "each request calls it"),
                      (load, f"{side}:net_retransmits", "more calls over a lossy link, more retransmits"),
                      (f"{side}:net_retransmits", side_load, "timed-out calls are retried"),
                      (f"{side}:net_retransmits", fail, "a call that times out twice fails")]
            if callee.kind == "lb":
                edges += [(f"{side}:latency", head, "the balancer's callers wait for the replica"),
                          (f"{side}:net_rtt", head, "the hop behind the balancer adds its RTT"),
                          (f"{side}:net_retransmits", head, "a lost segment waits a retransmission timeout"),
                          (f"{side}:error_rate", fail, "a replica's failure is the balancer's")]
            else:
                slow += [(f"{side}:net_rtt", "the link's RTT adds to every call"),
                         (f"{side}:net_retransmits", "a lost segment waits a retransmission timeout")]
    if svc.kind == "broker":
        q, k = s, svc.consumer
        edges += [(load, f"{q}:queue_length", "every published message is queued"),
                  (f"{k}:latency", f"{q}:queue_length", "a slower consumer drains the queue more slowly"),
                  (load, f"{q}:dequeue_rate", "messages are taken as they arrive while the consumer keeps up"),
                  (f"{k}:latency", f"{q}:dequeue_rate", "the consumer's time per message caps the dequeue rate"),
                  (f"{q}:queue_length", f"{q}:error_rate", "a full queue rejects publishes"),
                  (load, f"{k}:request_rate", "the consumer receives every published message")]
        slow.append((f"{q}:queue_length", "past the high-water mark the broker throttles publishers"))
    edges += [(cause, f"{s}:latency", why) for cause, why in slow]
    if "pool_utilization" in metric_names(svc):
        pool = f"{s}:pool_utilization"
        edges += [(load, pool, "busy workers = rate x time per request (Little's law)"),
                  (pool, f"{s}:latency", "a nearly full pool makes requests queue for a worker"),
                  (pool, f"{s}:error_rate", "a full pool rejects requests")]
        edges += [(cause, pool, "a slower request holds its worker longer (Little's law)") for cause, _ in slow]
    return edges


def true_family_graph(topo: Topo) -> nx.DiGraph:
    """The causal graph between the family's metric nodes (cause -> effect, each edge with ``why``)."""
    graph = nx.DiGraph()
    for name, svc in topo.services.items():
        graph.add_nodes_from((f"{name}:{m}" for m in metric_names(svc)), observed=True)
    for svc in topo.services.values():
        if svc.instrumented:
            for cause, effect, why in _edges_of(topo, svc):
                graph.add_edge(cause, effect, why=why)
    return graph
