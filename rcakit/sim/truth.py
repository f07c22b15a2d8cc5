"""The true metric-level causal graph of the simulated system, and its Atlas-format description.

Every edge comes from one *edge type* over component kinds (``Queue:queue_length -> Queue:latency``)
instantiated for every replica that the simulator connects; the justification is kept on each edge as
the attribute ``why`` (and ``type``). The simulator has feedback loops (a longer queue makes bigger
batches, which take longer, which lengthens the queue); a DAG needs each loop cut once, and the cut
chosen here is to let batch size depend on what drives it from outside the loop (arrivals, the
configured maximum, the GPU clock) rather than on the queue length. See the table in
:mod:`rcakit.sim` for every edge type.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import networkx as nx

from rcakit.sim.topology import Topology

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["EDGE_TYPES", "METRICS", "system_description", "true_graph"]

# (cause, effect, scope, why). Scope says which replicas connect: "same" = same worker / same GPU,
# "worker" = every GPU of the worker, "all" = every replica (e.g. every hop into Client:latency).
EDGE_TYPES: tuple[tuple[str, str, str, str], ...] = (
    ("Client:request_rate", "Router:throughput", "all",
     "the router forwards every request the clients send"),
    ("Router:throughput", "Queue:enqueueing_rate", "all",
     "each worker's queue receives its round-robin share of the routed requests"),
    ("Queue:enqueueing_rate", "ModelInference:execution_batch_size", "worker",
     "more arrivals during the batching window fill bigger batches"),
    ("Batcher:max_batch_size", "ModelInference:execution_batch_size", "worker",
     "the batcher puts at most max_batch_size requests in a batch"),
    ("GPU:power", "ModelInference:execution_batch_size", "same",
     "a slower GPU is busy longer, so more requests wait for its next batch (cut of the queue loop)"),
    ("ModelInference:error_rate", "ModelInference:execution_batch_size", "same",
     "requests pile up while a crashed instance restarts, so its next batch is bigger"),
    ("ModelInference:execution_batch_size", "ModelInference:latency", "same",
     "execution time grows with the number of requests in the batch"),
    ("GPU:power", "ModelInference:latency", "same",
     "a throttled GPU (lower power cap and clock) executes every batch more slowly"),
    ("ModelInference:error_rate", "ModelInference:latency", "same",
     "a crash cuts the execution of the failed batch short"),
    ("Queue:enqueueing_rate", "Queue:dequeueing_rate", "same",
     "requests are dequeued as they arrive while the GPUs keep up"),
    ("ModelInference:execution_batch_size", "Queue:dequeueing_rate", "worker",
     "each dispatch dequeues a whole batch: capacity is batch size over execution time"),
    ("ModelInference:latency", "Queue:dequeueing_rate", "worker",
     "a longer execution frees the GPU later, which caps the dequeue rate"),
    ("ModelInference:error_rate", "Queue:dequeueing_rate", "worker",
     "a crashed instance takes no batch while it restarts"),
    ("Queue:enqueueing_rate", "Queue:queue_length", "same",
     "every arrival adds to the queue"),
    ("Queue:dequeueing_rate", "Queue:queue_length", "same",
     "every dequeue drains the queue"),
    ("ModelInference:latency", "Queue:queue_length", "worker",
     "requests pile up while the GPUs are busy: longer executions, longer queue (Pollaczek-Khinchine)"),
    ("ModelInference:execution_batch_size", "Queue:queue_length", "worker",
     "each dispatch drains a whole batch, so bigger batches keep the queue shorter"),
    ("ModelInference:error_rate", "Queue:queue_length", "worker",
     "requests pile up while a crashed instance restarts"),
    ("Queue:queue_length", "Queue:latency", "same",
     "a request waits behind the requests queued before it (Little's law)"),
    ("Queue:dequeueing_rate", "ModelInference:throughput", "worker",
     "every dequeued request is executed by one of the worker's inference instances"),
    ("ModelInference:error_rate", "ModelInference:throughput", "same",
     "failed requests do not count as served"),
    ("ModelInference:latency", "GPU:utilization", "same",
     "the GPU is busy for the whole execution of each batch"),
    ("ModelInference:throughput", "GPU:utilization", "same",
     "more requests served means more batches executed on the GPU"),
    ("ModelInference:execution_batch_size", "GPU:utilization", "same",
     "at the same throughput, bigger batches mean fewer executions"),
    ("Router-Queue:latency", "Router:latency", "all",
     "the router's latency includes forwarding the request over the link to the queue"),
    ("Client-Router:latency", "Client:latency", "all",
     "end-to-end latency is the sum of the latencies of the hops on the request's path"),
    ("Router:latency", "Client:latency", "all",
     "end-to-end latency is the sum of the latencies of the hops on the request's path"),
    ("Queue:latency", "Client:latency", "all",
     "end-to-end latency is the sum of the latencies of the hops on the request's path"),
    ("ModelInference:latency", "Client:latency", "all",
     "end-to-end latency is the sum of the latencies of the hops on the request's path"),
    ("ModelInference-Client:latency", "Client:latency", "all",
     "end-to-end latency is the sum of the latencies of the hops on the request's path"),
    ("ModelInference:error_rate", "Client:error_rate", "all",
     "a failed inference returns an error to the client"),
)

# Metric names per component kind with their descriptions (Atlas Appendix A.2 plus what rcakit adds).
METRICS: dict[str, dict[str, dict[str, str] | dict[str, list[str]]]] = {
    "Client": {
        "request_level": {
            "latency": "The time taken for a request to be processed from the time it is sent to the time "
                       "the response is received, in milliseconds",
            "error_rate": "The fraction of responses that are errors",
        },
        "service_level": {"request_rate": "The number of requests the clients send per second"},
    },
    "Client-Router": {"request_level": {
        "latency": "The time taken to send a request from the client to the router, in milliseconds"}},
    "Router": {
        "request_level": {"latency": "The time taken by the router to process and forward a request, "
                                     "in milliseconds"},
        "service_level": {"throughput": "The number of requests that a service successfully processes per "
                                        "second"},
    },
    "Router-Queue": {"request_level": {
        "latency": "The time taken to send a request from the router to a worker's queue, in milliseconds"}},
    "Queue": {
        "request_level": {
            "latency": "The time waited by a request in the queue before it is dequeued, in milliseconds",
            "queue_length": "The number of requests waiting in the queue when a request is enqueued",
        },
        "service_level": {
            "enqueueing_rate": "The rate at which requests are being enqueued, in requests per second",
            "dequeueing_rate": "The rate at which requests are being dequeued, in requests per second",
        },
        "to_exclude": {"service_level": ["throughput"]},
    },
    "Batcher": {"service_level": {"max_batch_size": "The maximum size of a batch that can be created"}},
    "ModelInference": {
        "request_level": {"latency": "The time taken for an invoked service to process the request, in "
                                     "milliseconds"},
        "service_level": {
            "execution_batch_size": "The number of requests that are processed in a single batch",
            "throughput": "The number of requests that a service successfully processes per second",
            "error_rate": "The fraction of requests whose inference failed",
        },
    },
    "ModelInference-Client": {"request_level": {
        "latency": "The time taken to send the inference result back to the client, in milliseconds"}},
    "GPU": {"resource_level": {
        "utilization": "The percentage of time that a resource is busy processing requests",
        "power": "A measure of capacity of a resource to process requests: the GPU's power cap in watts",
    }},
}

_COMMON_METRICS = {
    "service": {
        "request_level": {"latency": "The time taken for an invoked service to process the request"},
        "service_level": {"throughput": "The number of requests that a service successfully processes per second"},
    },
    "resource": {"resource_level": {
        "power": "A measure of capacity of a resource to process requests",
        "utilization": "The percentage of time that a resource is busy processing requests",
    }},
}


def _kind(entity: str) -> str:
    parts = entity.split("-")
    return "-".join(p.rsplit("_", 1)[0] if p.rsplit("_", 1)[-1].isdigit() else p for p in parts)


def _replicas(topology: Topology) -> dict[str, list[tuple[str, int, int]]]:
    """Entities of each kind with their (worker, gpu) position (-1 where it does not apply)."""
    out: dict[str, list[tuple[str, int, int]]] = {
        "Client": [("Client", -1, -1)], "Client-Router": [("Client-Router", -1, -1)], "Router": [("Router", -1, -1)],
        "Router-Queue": [], "Queue": [], "Batcher": [], "ModelInference": [], "GPU": [], "ModelInference-Client": [],
    }
    for w in range(topology.workers):
        out["Router-Queue"].append((f"Router-Queue_{w}", w, -1))
        out["Queue"].append((f"Queue_{w}", w, -1))
        out["Batcher"].append((f"Batcher_{w}", w, -1))
        for g in topology.gpus_of(w):
            out["ModelInference"].append((f"ModelInference_{g}", w, g))
            out["GPU"].append((f"GPU_{g}", w, g))
            out["ModelInference-Client"].append((f"ModelInference_{g}-Client", w, g))
    return out


def _hidden(node: str, hidden: Iterable[str]) -> bool:
    metric = node.split(":", 1)[1]
    return any(h in (node, metric) for h in hidden)


def true_graph(topology: Topology, hidden: Iterable[str] = ()) -> nx.DiGraph:
    """The true causal graph over ``entity:metric`` nodes; edges carry ``why`` and ``type``.

    ``hidden`` names metrics (``"power"``) or nodes (``"GPU_0:power"``) that are not observed: they
    are collapsed (A -> U -> B becomes A -> B, with ``via`` naming U), so the graph is over what a
    simulation with the same ``hide`` reports.
    """
    reps = _replicas(topology)
    graph = nx.DiGraph(topology=topology.name)
    for kind, levels in METRICS.items():
        for entity, _, _ in reps[kind]:
            for level, metrics in levels.items():
                if level == "to_exclude":
                    continue
                for metric in metrics:
                    graph.add_node(f"{entity}:{metric}", entity=entity, kind=kind, metric=metric, observed=True)
    for cause, effect, scope, why in EDGE_TYPES:
        ck, cm = cause.split(":")
        ek, em = effect.split(":")
        for c_entity, c_w, c_g in reps[ck]:
            for e_entity, e_w, e_g in reps[ek]:
                if scope == "same" and not _same(c_w, c_g, e_w, e_g):
                    continue
                if scope == "worker" and -1 not in (c_w, e_w) and c_w != e_w:
                    continue
                graph.add_edge(f"{c_entity}:{cm}", f"{e_entity}:{em}", why=why, type=f"{cause} -> {effect}")
    hidden = tuple(hidden)
    if hidden:
        for node in [n for n in graph.nodes if _hidden(n, hidden)]:
            for p in graph.predecessors(node):
                for s in graph.successors(node):
                    if not graph.has_edge(p, s):
                        graph.add_edge(p, s, why=f"through the unobserved {node}", type="collapsed", via=node)
            graph.remove_node(node)
    if not nx.is_directed_acyclic_graph(graph):  # pragma: no cover - a bug in EDGE_TYPES
        raise RuntimeError("the true graph of the simulator has a cycle")
    return graph


def _same(c_w: int, c_g: int, e_w: int, e_g: int) -> bool:
    if c_g != -1 and e_g != -1:
        return c_g == e_g
    if c_w != -1 and e_w != -1:
        return c_w == e_w
    return True


def system_description(topology: Topology, *, hidden: Iterable[str] = ("power",)) -> JSONObject:
    """The system in Atlas's input format (Appendix A): trace file, measurement descriptions, common metrics.

    Returns ``{"atlas_version": 1, "trace": {...}, "measurements": {...}, "common_metrics": {...}}``.
    Metrics in ``hidden`` are left out of the measurement descriptions (they stay in the common
    metrics, from which Atlas enumerates typical-but-unobserved metrics).
    """
    hidden = tuple(hidden)
    trace: dict[str, JSONObject] = {
        "request.Client": {"service_description": "client that sends inference requests to the router",
                           "resources": {}, "callees": ["Client-Router"]},
        "request.Client.Client-Router": {"service_description": "network communication that sends requests "
                                                                "from the client to the router",
                                         "resources": {}, "callees": ["Router"]},
        "request.Client.Router": {"service_description": "router that processes requests and load-balances "
                                                         "them round robin over the worker servers",
                                  "resources": {},
                                  "callees": [f"Router-Queue_{w}" for w in range(topology.workers)]},
    }
    for w in range(topology.workers):
        trace[f"request.Client.Router-Queue_{w}"] = {
            "service_description": f"network communication that sends requests from the router to worker {w}",
            "resources": {}, "callees": [f"Queue_{w}"]}
        trace[f"request.Client.Queue_{w}"] = {
            "service_description": "when requests are received at a server, they are buffered in the queue and "
                                   "wait to be executed. Requests will be dequeued and processed by the batcher "
                                   "when resources are available",
            "resources": {}, "callees": []}
        trace[f"request.Client.Batcher_{w}"] = {
            "service_description": "when resources are available, the batcher will check the queue and create a "
                                   "batch of min(available requests, max batch size) requests and send it to the "
                                   "model inference service",
            "resources": {}, "callees": [f"Queue_{w}"]}
        for g in topology.gpus_of(w):
            trace[f"request.Client.ModelInference_{g}"] = {
                "service_description": "model inference service that runs the model inference on the batched "
                                       "requests",
                "resources": {f"GPU_{g}": "An A100 GPU"},
                "callees": [f"Batcher_{w}", f"ModelInference_{g}-Client"]}
            trace[f"request.Client.ModelInference_{g}-Client"] = {
                "service_description": "network communication that sends the model inference result back to "
                                       "the client",
                "resources": {}, "callees": []}
    measurements: dict[str, JSONObject] = {}
    for kind, levels in METRICS.items():
        entry: JSONObject = {}
        for level, metrics in levels.items():
            if level == "to_exclude":
                entry[level] = metrics
                continue
            kept = {m: d for m, d in metrics.items() if not any(h in (m, f"{kind}:{m}") for h in hidden)}
            if kept:
                entry[level] = kept
        measurements[kind] = entry
    return {"atlas_version": 1, "trace": trace, "measurements": measurements, "common_metrics": _COMMON_METRICS}
