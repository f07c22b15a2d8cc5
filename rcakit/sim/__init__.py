"""A simulator of a model-serving system that emits metrics, logs and traces with ground truth.

The system of the Atlas paper (section 5, Fig. 3): a client's request crosses the network to a
router, which load-balances it round robin to a worker; it waits in the worker's queue until the
batcher dispatches a batch of up to ``max_batch_size`` requests to a free GPU, where the model runs;
the result goes back to the client. Inter-arrival times are exponential. Topologies S (1 worker x 1
GPU), M (1 x 4), L (2 x 4) or any size; faults: workload spike, network slowdown of any link,
batch-size misconfiguration, GPU throttling and an error burst (crashes with restarts).

>>> from rcakit.sim import Topology, GpuThrottle, make_incident
>>> incident = make_incident(Topology.small(), GpuThrottle("GPU_0", duration="10min"), seed=1)

Telemetry: metrics on a regular grid (``step``, default 10 s); traces of one request in
``trace_sample`` (head sampling by request number, 1 in 20 by default for :func:`simulate`, none
by default for :func:`make_incident`) with eight spans each (Client, Client-Router, Router,
Router-Queue, Queue, Batcher, ModelInference, ModelInference-Client); logs with periodic info
lines, warnings when a component sees trouble and errors on crashes, whose templates change with the
fault. ``simulate(..., otlp=path)`` also writes OTLP/JSON.

Nodes are ``entity:metric``: ``Client:latency``, ``Queue_0:queue_length``, ``GPU_0:utilization``,
``Router-Queue_0:latency``. Latencies are in milliseconds.

The true graph (:func:`true_graph`) instantiates these edge types for each replica ("same": the
same worker or GPU; "worker": every GPU of the same worker; "all": every replica). Each edge keeps
its justification as the attribute ``why``:

===================================  ===================================  ========  ===============================================================================================
cause                                effect                               replicas  why
===================================  ===================================  ========  ===============================================================================================
Client:request_rate                  Router:throughput                    all       the router forwards every request the clients send
Router:throughput                    Queue:enqueueing_rate                all       each worker's queue receives its round-robin share of the routed requests
Queue:enqueueing_rate                ModelInference:execution_batch_size  worker    more arrivals during the batching window fill bigger batches
Batcher:max_batch_size               ModelInference:execution_batch_size  worker    the batcher puts at most max_batch_size requests in a batch
GPU:power                            ModelInference:execution_batch_size  same      a slower GPU is busy longer, so more requests wait for its next batch (cut of the queue loop)
ModelInference:error_rate            ModelInference:execution_batch_size  same      requests pile up while a crashed instance restarts, so its next batch is bigger
ModelInference:execution_batch_size  ModelInference:latency               same      execution time grows with the number of requests in the batch
GPU:power                            ModelInference:latency               same      a throttled GPU (lower power cap and clock) executes every batch more slowly
ModelInference:error_rate            ModelInference:latency               same      a crash cuts the execution of the failed batch short
Queue:enqueueing_rate                Queue:dequeueing_rate                same      requests are dequeued as they arrive while the GPUs keep up
ModelInference:execution_batch_size  Queue:dequeueing_rate                worker    each dispatch dequeues a whole batch: capacity is batch size over execution time
ModelInference:latency               Queue:dequeueing_rate                worker    a longer execution frees the GPU later, which caps the dequeue rate
ModelInference:error_rate            Queue:dequeueing_rate                worker    a crashed instance takes no batch while it restarts
Queue:enqueueing_rate                Queue:queue_length                   same      every arrival adds to the queue
Queue:dequeueing_rate                Queue:queue_length                   same      every dequeue drains the queue
ModelInference:latency               Queue:queue_length                   worker    requests pile up while the GPUs are busy: longer executions, longer queue (Pollaczek-Khinchine)
ModelInference:execution_batch_size  Queue:queue_length                   worker    each dispatch drains a whole batch, so bigger batches keep the queue shorter
ModelInference:error_rate            Queue:queue_length                   worker    requests pile up while a crashed instance restarts
Queue:queue_length                   Queue:latency                        same      a request waits behind the requests queued before it (Little's law)
Queue:dequeueing_rate                ModelInference:throughput            worker    every dequeued request is executed by one of the worker's inference instances
ModelInference:error_rate            ModelInference:throughput            same      failed requests do not count as served
ModelInference:latency               GPU:utilization                      same      the GPU is busy for the whole execution of each batch
ModelInference:throughput            GPU:utilization                      same      more requests served means more batches executed on the GPU
ModelInference:execution_batch_size  GPU:utilization                      same      at the same throughput, bigger batches mean fewer executions
Router-Queue:latency                 Router:latency                       all       the router's latency includes forwarding the request over the link to the queue
Client-Router:latency                Client:latency                       all       end-to-end latency is the sum of the latencies of the hops on the request's path
Router:latency                       Client:latency                       all       end-to-end latency is the sum of the latencies of the hops on the request's path
Queue:latency                        Client:latency                       all       end-to-end latency is the sum of the latencies of the hops on the request's path
ModelInference:latency               Client:latency                       all       end-to-end latency is the sum of the latencies of the hops on the request's path
ModelInference-Client:latency        Client:latency                       all       end-to-end latency is the sum of the latencies of the hops on the request's path
ModelInference:error_rate            Client:error_rate                    all       a failed inference returns an error to the client
===================================  ===================================  ========  ===============================================================================================

Batches crash now and then even without a fault (``Topology.crash_probability``, 0.2 %), so
error rates and error logs have a baseline. Not modelled: retries, timeouts, contention on the router, GPU memory. ``GPU:power`` stands for the
GPU's capacity (its power cap); it is hidden by default to play an unobserved metric.

:mod:`rcakit.sim.families` adds harder systems for tuning (a web shop, a queue pipeline, a shared
database, replicas behind a balancer) with eight fault kinds and noise: :func:`family_incident`,
:func:`family_cases`; tune on :data:`TUNING_SEEDS`, report :data:`SCORING_SEEDS`.
"""

from rcakit.sim.families import (
    FAMILIES,
    FAULT_KINDS,
    NOISE,
    SCORING_SEEDS,
    TUNING_SEEDS,
    family_cases,
    family_incident,
)
from rcakit.sim.faults import (
    BatchSizeMisconfig,
    ErrorBurst,
    Fault,
    GpuThrottle,
    NetworkSlowdown,
    WorkloadSpike,
)
from rcakit.sim.simulation import make_incident, simulate, write_otlp
from rcakit.sim.topology import Topology
from rcakit.sim.truth import EDGE_TYPES, system_description, true_graph

__all__ = [
    "EDGE_TYPES",
    "FAMILIES",
    "FAULT_KINDS",
    "NOISE",
    "SCORING_SEEDS",
    "TUNING_SEEDS",
    "BatchSizeMisconfig",
    "ErrorBurst",
    "Fault",
    "GpuThrottle",
    "NetworkSlowdown",
    "Topology",
    "WorkloadSpike",
    "family_cases",
    "family_incident",
    "make_incident",
    "simulate",
    "system_description",
    "true_graph",
    "write_otlp",
]
