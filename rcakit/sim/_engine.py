"""The simulation core: request timings from a seeded random generator, as numpy arrays.

Why not simpy: a simpy process per request schedules about eight events per request, and one hour
of the L topology at 100 requests/s is 360,000 requests. ``python -m rcakit.bench sim`` runs such a
plain simpy model of the same system as its baseline: about 8,700 simulated requests/s, so ~41 s
for the hour, against 85,000 requests/s (metrics, logs and traces: 4.2 s) to 156,000 (metrics only:
2.3 s) for this engine, measured in one process on a shared 2-core machine; ``tests/sim/test_engine.py`` checks that both give the same
latencies. The model has only one place
where requests interact, the queue -> batcher -> GPU station of each worker, so:

* pure delays (network links, router processing) are drawn for all requests at once with numpy;
* each worker's station is a next-event loop over *batches* (not requests): the batcher's next
  dispatch happens when a GPU of the worker is free and either ``max_batch_size`` requests wait or
  the oldest has waited ``batch_window``; the free GPU with the earliest free time is chosen. Arrival
  times are sorted, so the next dispatch is found with a binary search, and the loop runs once per
  batch with plain Python floats;
* per-request and per-bin quantities are then derived with numpy.

Randomness comes from one ``numpy.random.Generator(PCG64(seed))`` consumed in a fixed order, so the
same seed gives the same telemetry on every platform numpy supports.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from rcakit.sim.faults import (
    ErrorBurst,
    Fault,
    GpuThrottle,
    NetworkSlowdown,
    WorkloadSpike,
)
from rcakit.sim.topology import Topology

__all__ = ["CLOCK_SEGMENT", "Run", "run"]

F = TypeVar("F", bound=Fault)

# GPU boost clocks drift with temperature and load: a log-AR(1) process, constant over 5 s segments,
# with a stationary spread of ~6 %. Execution time scales with 1/speed and the power metric with speed,
# so the baseline shows how GPU capacity drives inference latency (and a throttle is not the first
# time that node ever moved).
CLOCK_SEGMENT = 5.0
_CLOCK_SD = 0.06
_CLOCK_PHI = 0.9


@dataclass
class Run:
    """Everything the simulation decided, one entry per request (``r_*``) or per batch (``b_*``)."""

    topology: Topology
    duration: float
    # requests, in order of sending
    r_send: np.ndarray        # client sends
    r_worker: np.ndarray      # worker chosen by the router
    r_cr: np.ndarray          # Client-Router link delay
    r_router: np.ndarray      # router processing time
    r_rq: np.ndarray          # Router-Queue link delay
    r_enqueue: np.ndarray     # enqueue time at the worker's queue
    r_dequeue: np.ndarray     # dequeue (batch dispatch) time
    r_batch: np.ndarray       # batch index
    r_gpu: np.ndarray         # global GPU number
    r_exec_end: np.ndarray    # end of the execution (or crash)
    r_ic: np.ndarray          # ModelInference-Client link delay
    r_done: np.ndarray        # response received by the client
    r_failed: np.ndarray      # bool
    r_queue_len: np.ndarray   # requests waiting in the queue when this one was enqueued
    # batches
    b_start: np.ndarray
    b_end: np.ndarray
    b_gpu: np.ndarray
    b_size: np.ndarray
    b_failed: np.ndarray
    b_restart_end: np.ndarray  # when the instance takes batches again (== b_end unless crashed)
    # GPU clocks: relative speed of each GPU (rows) in each CLOCK_SEGMENT-second segment (columns)
    gpu_speed: np.ndarray

    def mean_speed(self, gpu: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Average relative clock speed of ``gpu`` over each interval [lo, hi) (before throttling)."""
        speed = self.gpu_speed[gpu]
        edges = np.arange(speed.shape[0] + 1) * CLOCK_SEGMENT
        cum = np.concatenate([[0.0], np.cumsum(speed * CLOCK_SEGMENT)])
        return (np.interp(hi, edges, cum) - np.interp(lo, edges, cum)) / np.maximum(hi - lo, 1e-12)

    @property
    def r_latency(self) -> np.ndarray:
        return self.r_done - self.r_send


def _arrivals(rng: np.random.Generator, rate: float, duration: float, spikes: Sequence[WorkloadSpike]) -> np.ndarray:
    """Poisson arrivals with a rate that is piecewise constant between fault boundaries."""
    edges = sorted({0.0, duration, *(f.start for f in spikes if f.start < duration),
                    *(min(f.end, duration) for f in spikes)})
    pieces = []
    for lo, hi in itertools.pairwise(edges):
        mid = 0.5 * (lo + hi)
        seg_rate = rate * math.prod(f.magnitude for f in spikes if f.active(mid))
        if seg_rate <= 0:
            continue
        expected = seg_rate * (hi - lo)
        times: list[np.ndarray] = []
        t = lo
        while t < hi:
            n = int(expected * 1.1 + 10 * math.sqrt(expected) + 16)
            gaps = rng.exponential(1.0 / seg_rate, size=n)
            chunk = t + np.cumsum(gaps)
            times.append(chunk[chunk < hi])
            t = float(chunk[-1])
        pieces.append(np.concatenate(times))
    return np.concatenate(pieces) if pieces else np.zeros(0)


def _jitter(rng: np.random.Generator, n: int) -> np.ndarray:
    """Multiplicative noise with mean 1 and coefficient of variation 0.5 (gamma, shape 4)."""
    return rng.gamma(4.0, 0.25, size=n)


def _factor(times: np.ndarray, faults: Sequence[Fault], mask: np.ndarray | None = None) -> np.ndarray:
    """The product of the magnitudes of ``faults`` active at each time (1 elsewhere)."""
    out = np.ones(times.shape[0])
    for f in faults:
        hit = (times >= f.start) & (times < f.end)
        if mask is not None:
            hit &= mask
        out[hit] *= f.magnitude
    return out


def _windows(faults: Sequence[F], target: str) -> list[tuple[float, float, F]]:
    return [(f.start, f.end, f) for f in faults if f.target == target]


def run(topology: Topology, *, duration: float, rate: float, faults: Sequence[Fault], seed: int) -> Run:
    rng = np.random.Generator(np.random.PCG64(seed))
    topo = topology
    gpu_speed = _gpu_clocks(rng, topo, duration)
    send = _arrivals(rng, rate, duration, [f for f in faults if isinstance(f, WorkloadSpike)])
    n = send.shape[0]
    worker = (np.arange(n) % topo.workers).astype(np.int64)
    slow_links = [f for f in faults if isinstance(f, NetworkSlowdown)]
    cr, router, rq, enqueue = _to_queue(rng, topo, send, worker, slow_links)

    served = _Served.empty(n)
    batches = _Batches()
    for w in range(topo.workers):
        _serve_worker(rng, topo, w, np.flatnonzero(worker == w), enqueue, faults, gpu_speed, served, batches)

    ic = topo.link_delays["ModelInference-Client"] * _jitter(rng, n)
    for f in slow_links:
        if f.target.startswith("ModelInference_"):
            g = int(f.target.split("-", 1)[0].rsplit("_", 1)[1])
            ic *= _factor(served.exec_end, [f], mask=served.gpu == g)
    done = served.exec_end + ic

    return Run(
        topology=topo, duration=duration, r_send=send, r_worker=worker, r_cr=cr, r_router=router, r_rq=rq,
        r_enqueue=enqueue, r_dequeue=served.dequeue, r_batch=served.batch, r_gpu=served.gpu,
        r_exec_end=served.exec_end, r_ic=ic, r_done=done, r_failed=served.failed,
        r_queue_len=np.maximum(served.queue_len, 0.0),
        b_start=np.asarray(batches.start), b_end=np.asarray(batches.end),
        b_gpu=np.asarray(batches.gpu, dtype=np.int64), b_size=np.asarray(batches.size, dtype=np.int64),
        b_failed=np.asarray(batches.failed, dtype=bool), b_restart_end=np.asarray(batches.restart),
        gpu_speed=gpu_speed,
    )


def _gpu_clocks(rng: np.random.Generator, topo: Topology, duration: float) -> np.ndarray:
    """Relative speed of each GPU (rows) in each CLOCK_SEGMENT-second segment (columns)."""
    n_seg = math.ceil(duration / CLOCK_SEGMENT) + 1
    shocks = rng.normal(0.0, _CLOCK_SD * math.sqrt(1 - _CLOCK_PHI**2), size=(topo.n_gpus, n_seg))
    log_speed = np.zeros_like(shocks)
    log_speed[:, 0] = rng.normal(0.0, _CLOCK_SD, size=topo.n_gpus)
    for c in range(1, n_seg):
        log_speed[:, c] = _CLOCK_PHI * log_speed[:, c - 1] + shocks[:, c]
    return np.exp(log_speed)


def _to_queue(rng: np.random.Generator, topo: Topology, send: np.ndarray, worker: np.ndarray,
              slow_links: list[NetworkSlowdown]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Client-Router delay, router time, Router-Queue delay and enqueue time of every request."""
    delays = topo.link_delays
    n = send.shape[0]
    cr = delays["Client-Router"] * _jitter(rng, n)
    cr *= _factor(send, [f for f in slow_links if f.target == "Client-Router"])
    arrive_router = send + cr
    router = topo.router_time * _jitter(rng, n)
    forward = arrive_router + router
    rq = delays["Router-Queue"] * _jitter(rng, n)
    for f in slow_links:
        if f.target.startswith("Router-Queue_"):
            w = int(f.target.rsplit("_", 1)[1])
            rq *= _factor(forward, [f], mask=worker == w)
    return cr, router, rq, forward + rq


@dataclass
class _Served:
    """Per request, what its worker's station did with it."""

    dequeue: np.ndarray
    batch: np.ndarray
    gpu: np.ndarray
    exec_end: np.ndarray
    failed: np.ndarray
    queue_len: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Served:
        return cls(np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n),
                   np.zeros(n, dtype=bool), np.zeros(n))


@dataclass
class _Batches:
    """Every batch of every worker, in dispatch order per worker."""

    start: list[float] = field(default_factory=list)
    end: list[float] = field(default_factory=list)
    gpu: list[int] = field(default_factory=list)
    size: list[int] = field(default_factory=list)
    failed: list[bool] = field(default_factory=list)
    restart: list[float] = field(default_factory=list)


def _serve_worker(rng: np.random.Generator, topo: Topology, w: int, idx: np.ndarray, enqueue: np.ndarray,
                  faults: Sequence[Fault], gpu_speed: np.ndarray, served: _Served, batches: _Batches) -> None:
    """Batch worker ``w``'s requests (``idx``) on its GPUs and record, per request, what happened."""
    order = idx[np.argsort(enqueue[idx], kind="stable")]
    arrivals = enqueue[order]
    m = arrivals.shape[0]
    noise = np.asarray(rng.gamma(20.0, 1.0 / 20.0, size=m)).tolist()
    crash_u = np.asarray(rng.random(m)).tolist()
    crash_at = np.asarray(rng.uniform(0.2, 0.8, size=m)).tolist()
    first_batch = len(batches.start)
    _dispatch(topo, w, arrivals.tolist(), faults, gpu_speed, (noise, crash_u, crash_at), batches)
    sizes = np.asarray(batches.size[first_batch:], dtype=np.int64)
    local_batch = np.repeat(np.arange(sizes.shape[0]), sizes)
    starts = np.asarray(batches.start[first_batch:])
    ends = np.asarray(batches.end[first_batch:])
    dq = starts[local_batch]
    served.dequeue[order] = dq
    served.batch[order] = local_batch + first_batch
    served.gpu[order] = np.asarray(batches.gpu[first_batch:], dtype=np.int64)[local_batch]
    served.exec_end[order] = ends[local_batch]
    served.failed[order] = np.asarray(batches.failed[first_batch:], dtype=bool)[local_batch]
    # Waiting at enqueue: those enqueued before minus those already dequeued (dq is non-decreasing).
    served.queue_len[order] = np.arange(m) - np.searchsorted(dq, arrivals, side="right")


def _dispatch(topo: Topology, w: int, a: list[float], faults: Sequence[Fault], gpu_speed: np.ndarray,
              draws: tuple[list[float], list[float], list[float]], batches: _Batches) -> None:
    """The next-event loop of worker ``w``'s batcher over the sorted arrival times ``a``, one pass per batch
    (``draws``: per batch, execution noise, the crash draw and where in the execution a crash hits)."""
    noise, crash_u, crash_at = draws
    speed_rows = gpu_speed.tolist()
    n_seg = gpu_speed.shape[1]
    m = len(a)
    gpus = list(topo.gpus_of(w))
    batch_faults = _windows(faults, f"Batcher_{w}")
    throttles = {g: _windows([f for f in faults if isinstance(f, GpuThrottle)], f"GPU_{g}") for g in gpus}
    bursts = {g: _windows([f for f in faults if isinstance(f, ErrorBurst)], f"ModelInference_{g}") for g in gpus}
    free = [0.0] * len(gpus)
    window, base, per = topo.batch_window, topo.exec_base, topo.exec_per_item
    default_max = topo.max_batch_size
    base_crash, base_restart = topo.crash_probability, topo.restart_time
    i, last, k = 0, 0.0, 0
    while i < m:
        gl = 0
        if len(gpus) > 1:
            gl = min(range(len(gpus)), key=free.__getitem__)
        tf = free[gl]
        ai = a[i]
        t_ref = tf if tf > ai else ai
        mb = default_max
        for lo, hi, bf in batch_faults:
            if lo <= t_ref < hi:
                mb = int(bf.magnitude)
        full_at = a[i + mb - 1] if i + mb - 1 < m else math.inf
        ready = min(ai + window, full_at)
        d = max(tf, ready, last)
        j = bisect_right(a, d, i, min(i + mb, m))
        g = gpus[gl]
        slow = 1.0
        for lo, hi, tf_ in throttles[g]:
            if lo <= d < hi:
                slow *= tf_.magnitude
        ex = (base + per * (j - i)) * slow * noise[k] / speed_rows[g][min(int(d / CLOCK_SEGMENT), n_seg - 1)]
        # Crash when the uniform draw falls under the combined probability of the background
        # rate and any active burst: 1 - (1 - p0)(1 - p1)...
        survive = 1.0 - base_crash
        restart = base_restart
        for lo, hi, ef in bursts[g]:
            if lo <= d < hi:
                survive *= 1.0 - ef.magnitude
                restart = max(restart, ef.restart)
        crashed = crash_u[k] < 1.0 - survive
        if not crashed:
            restart = 0.0
        if crashed:
            ex *= crash_at[k]
        end = d + ex
        free[gl] = end + restart
        batches.start.append(d)
        batches.end.append(end)
        batches.gpu.append(g)
        batches.size.append(j - i)
        batches.failed.append(crashed)
        batches.restart.append(end + restart)
        last = d
        i = j
        k += 1
