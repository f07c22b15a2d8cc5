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
from dataclasses import dataclass

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


def _windows(faults: Sequence[Fault], target: str) -> list[tuple[float, float, Fault]]:
    return [(f.start, f.end, f) for f in faults if f.target == target]


def run(topology: Topology, *, duration: float, rate: float, faults: Sequence[Fault], seed: int) -> Run:
    rng = np.random.Generator(np.random.PCG64(seed))
    topo = topology
    delays = topo.link_delays

    n_seg = math.ceil(duration / CLOCK_SEGMENT) + 1
    shocks = rng.normal(0.0, _CLOCK_SD * math.sqrt(1 - _CLOCK_PHI**2), size=(topo.n_gpus, n_seg))
    log_speed = np.zeros_like(shocks)
    log_speed[:, 0] = rng.normal(0.0, _CLOCK_SD, size=topo.n_gpus)
    for c in range(1, n_seg):
        log_speed[:, c] = _CLOCK_PHI * log_speed[:, c - 1] + shocks[:, c]
    gpu_speed = np.exp(log_speed)
    speed_rows = gpu_speed.tolist()

    send = _arrivals(rng, rate, duration, [f for f in faults if isinstance(f, WorkloadSpike)])
    n = send.shape[0]
    worker = (np.arange(n) % topo.workers).astype(np.int64)
    slow_links = [f for f in faults if isinstance(f, NetworkSlowdown)]

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
    enqueue = forward + rq

    dequeue = np.zeros(n)
    batch_of = np.zeros(n, dtype=np.int64)
    gpu_of = np.zeros(n, dtype=np.int64)
    exec_end = np.zeros(n)
    failed = np.zeros(n, dtype=bool)
    queue_len = np.zeros(n)
    b_start: list[float] = []
    b_end: list[float] = []
    b_gpu: list[int] = []
    b_size: list[int] = []
    b_failed: list[bool] = []
    b_restart: list[float] = []

    for w in range(topo.workers):
        idx = np.flatnonzero(worker == w)
        order = idx[np.argsort(enqueue[idx], kind="stable")]
        arrivals = enqueue[order]
        m = arrivals.shape[0]
        noise = np.asarray(rng.gamma(20.0, 1.0 / 20.0, size=m)).tolist()
        crash_u = np.asarray(rng.random(m)).tolist()
        crash_at = np.asarray(rng.uniform(0.2, 0.8, size=m)).tolist()
        gpus = list(topo.gpus_of(w))
        batch_faults = _windows(faults, f"Batcher_{w}")
        throttles = {g: _windows([f for f in faults if isinstance(f, GpuThrottle)], f"GPU_{g}") for g in gpus}
        bursts = {g: _windows([f for f in faults if isinstance(f, ErrorBurst)], f"ModelInference_{g}") for g in gpus}
        free = [0.0] * len(gpus)
        window, base, per = topo.batch_window, topo.exec_base, topo.exec_per_item
        default_max = topo.max_batch_size
        base_crash, base_restart = topo.crash_probability, topo.restart_time
        a = arrivals.tolist()
        first_batch = len(b_start)
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
                    restart = max(restart, ef.restart)  # type: ignore[attr-defined]
            crashed = crash_u[k] < 1.0 - survive
            if not crashed:
                restart = 0.0
            if crashed:
                ex *= crash_at[k]
            end = d + ex
            free[gl] = end + restart
            b_start.append(d)
            b_end.append(end)
            b_gpu.append(g)
            b_size.append(j - i)
            b_failed.append(crashed)
            b_restart.append(end + restart)
            last = d
            i = j
            k += 1
        sizes = np.asarray(b_size[first_batch:], dtype=np.int64)
        local_batch = np.repeat(np.arange(sizes.shape[0]), sizes)
        starts = np.asarray(b_start[first_batch:])
        ends = np.asarray(b_end[first_batch:])
        dq = starts[local_batch]
        dequeue[order] = dq
        batch_of[order] = local_batch + first_batch
        gpu_of[order] = np.asarray(b_gpu[first_batch:], dtype=np.int64)[local_batch]
        exec_end[order] = ends[local_batch]
        failed[order] = np.asarray(b_failed[first_batch:], dtype=bool)[local_batch]
        # Waiting at enqueue: those enqueued before minus those already dequeued (dq is non-decreasing).
        queue_len[order] = np.arange(m) - np.searchsorted(dq, arrivals, side="right")

    ic = delays["ModelInference-Client"] * _jitter(rng, n)
    for f in slow_links:
        if f.target.startswith("ModelInference_"):
            g = int(f.target.split("-", 1)[0].rsplit("_", 1)[1])
            ic *= _factor(exec_end, [f], mask=gpu_of == g)
    done = exec_end + ic

    return Run(
        topology=topo, duration=duration, r_send=send, r_worker=worker, r_cr=cr, r_router=router, r_rq=rq,
        r_enqueue=enqueue, r_dequeue=dequeue, r_batch=batch_of, r_gpu=gpu_of, r_exec_end=exec_end, r_ic=ic,
        r_done=done, r_failed=failed, r_queue_len=np.maximum(queue_len, 0.0),
        b_start=np.asarray(b_start), b_end=np.asarray(b_end), b_gpu=np.asarray(b_gpu, dtype=np.int64),
        b_size=np.asarray(b_size, dtype=np.int64), b_failed=np.asarray(b_failed, dtype=bool),
        b_restart_end=np.asarray(b_restart), gpu_speed=gpu_speed,
    )
