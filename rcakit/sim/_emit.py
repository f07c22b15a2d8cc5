"""Telemetry from a simulation run: per-bin metrics, sampled traces and log lines, as polars frames.

Metrics are stamped at the start of each bin of ``step`` seconds and computed from the requests
and batches whose event of interest falls in the bin:

* request latencies (``Client``, links, ``Router``, ``Queue``, ``ModelInference``): mean in
  milliseconds over the requests that *finished* that hop in the bin; no row when none did;
* rates (``request_rate``, ``throughput``, ``enqueueing_rate``, ``dequeueing_rate``): events / s;
* ``Queue:queue_length``: mean number waiting when a request is enqueued;
* ``ModelInference:execution_batch_size``: mean size of the batches started in the bin;
* ``error_rate``: failed / finished requests (0 when none finished);
* ``GPU:utilization``: percent of the bin the GPU was executing; ``GPU:power``: the power cap in
  watts (drops when throttled), hidden by default to stand for an unobserved metric;
* ``Batcher:max_batch_size``: the configured value in the middle of the bin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import polars as pl

from rcakit.sim._engine import Run
from rcakit.sim.faults import BatchSizeMisconfig, Fault, GpuThrottle
from rcakit.telemetry import LOG_SCHEMA, METRIC_SCHEMA, SPAN_SCHEMA

__all__ = ["SLO_MS", "build_logs", "build_metrics", "build_spans"]

SLO_MS = 200.0
_GPU_CLOCK_MHZ = 1410


class _Bins:
    def __init__(self, duration: float, step: float) -> None:
        self.step = step
        self.n = max(1, math.ceil(duration / step - 1e-9))
        self.duration = duration

    def index(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bin of each time and the mask of times inside the simulated span."""
        b = np.floor(t / self.step).astype(np.int64)
        ok = (t >= 0) & (t < self.duration) & (b < self.n)
        return b, ok

    def count(self, t: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        b, ok = self.index(t)
        if mask is not None:
            ok &= mask
        return np.bincount(b[ok], minlength=self.n)[: self.n].astype(float)

    def mean(self, t: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        b, ok = self.index(t)
        if mask is not None:
            ok &= mask
        s = np.bincount(b[ok], weights=v[ok], minlength=self.n)[: self.n]
        c = np.bincount(b[ok], minlength=self.n)[: self.n]
        with np.errstate(invalid="ignore", divide="ignore"):
            return s / np.maximum(c, 1), c > 0

    def busy(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Seconds of each bin covered by the intervals [starts, ends) (intervals do not overlap)."""
        edges = np.arange(self.n + 1) * self.step
        s, e = np.sort(starts), np.sort(ends)
        cs, ce = np.concatenate([[0.0], np.cumsum(s)]), np.concatenate([[0.0], np.cumsum(e)])
        ns, ne = np.searchsorted(s, edges), np.searchsorted(e, edges)
        covered = edges * ns - cs[ns] - (edges * ne - ce[ne])
        return np.diff(covered)

    def mids(self) -> np.ndarray:
        return (np.arange(self.n) + 0.5) * self.step


def _wanted(node: str, hide: Iterable[str]) -> bool:
    metric = node.split(":", 1)[1]
    return not any(h in (node, metric) for h in hide)


def build_metrics(run: Run, faults: list[Fault], *, start: datetime, step: float,
                  hide: tuple[str, ...], rng: np.random.Generator) -> pl.DataFrame:
    topo = run.topology
    bins = _Bins(run.duration, step)
    out: list[tuple[str, np.ndarray, np.ndarray]] = []   # (node, values, present)
    every = np.ones(bins.n, dtype=bool)

    def add(node: str, values: np.ndarray, present: np.ndarray | None = None) -> None:
        out.append((node, np.asarray(values, dtype=float), every if present is None else present))

    ms = 1000.0
    add("Client:request_rate", bins.count(run.r_send) / step)
    add("Client:latency", *bins.mean(run.r_done, run.r_latency * ms))
    done = bins.count(run.r_done)
    add("Client:error_rate", bins.count(run.r_done, run.r_failed) / np.maximum(done, 1))
    add("Client-Router:latency", *bins.mean(run.r_send + run.r_cr, run.r_cr * ms))
    add("Router:latency", *bins.mean(run.r_enqueue, (run.r_router + run.r_rq) * ms))
    add("Router:throughput", bins.count(run.r_enqueue) / step)
    mids = bins.mids()
    for w in range(topo.workers):
        mine = run.r_worker == w
        add(f"Router-Queue_{w}:latency", *bins.mean(run.r_enqueue, run.r_rq * ms, mine))
        add(f"Queue_{w}:latency", *bins.mean(run.r_dequeue, (run.r_dequeue - run.r_enqueue) * ms, mine))
        add(f"Queue_{w}:queue_length", *bins.mean(run.r_enqueue, run.r_queue_len, mine))
        add(f"Queue_{w}:enqueueing_rate", bins.count(run.r_enqueue, mine) / step)
        add(f"Queue_{w}:dequeueing_rate", bins.count(run.r_dequeue, mine) / step)
        max_batch = np.full(bins.n, float(topo.max_batch_size))
        for f in faults:
            if isinstance(f, BatchSizeMisconfig) and f.target == f"Batcher_{w}":
                max_batch[(mids >= f.start) & (mids < f.end)] = float(int(f.magnitude))
        add(f"Batcher_{w}:max_batch_size", max_batch)
        for g in topo.gpus_of(w):
            on = run.r_gpu == g
            mi = f"ModelInference_{g}"
            add(f"{mi}:latency", *bins.mean(run.r_exec_end, (run.r_exec_end - run.r_dequeue) * ms, on))
            bon = run.b_gpu == g
            add(f"{mi}:execution_batch_size", *bins.mean(run.b_start, run.b_size.astype(float), bon))
            add(f"{mi}:throughput", bins.count(run.r_exec_end, on & ~run.r_failed) / step)
            finished = bins.count(run.r_exec_end, on)
            add(f"{mi}:error_rate", bins.count(run.r_exec_end, on & run.r_failed) / np.maximum(finished, 1))
            add(f"{mi}-Client:latency", *bins.mean(run.r_done, run.r_ic * ms, on))
            busy = bins.busy(run.b_start[bon], run.b_end[bon])
            add(f"GPU_{g}:utilization", np.clip(100.0 * busy / step, 0.0, 100.0))
            lo_t = np.arange(bins.n) * step
            cap = topo.gpu_power_watts * run.mean_speed(g, lo_t, np.minimum(lo_t + step, run.duration))
            for f in faults:
                if isinstance(f, GpuThrottle) and f.target == f"GPU_{g}":
                    cap[(mids >= f.start) & (mids < f.end)] /= f.magnitude
            # The noise is drawn even when power is hidden, so hiding it changes nothing else.
            add(f"GPU_{g}:power", cap * rng.normal(1.0, 0.005, size=bins.n))

    t0 = int(start.timestamp() * 1e9)
    step_ns = round(step * 1e9)
    frames = []
    for node, values, present in out:
        if not _wanted(node, hide):
            continue
        entity, metric = node.split(":", 1)
        keep = np.flatnonzero(present)
        frames.append(pl.DataFrame({
            "time": (t0 + keep.astype(np.int64) * step_ns),
            "entity": [entity] * keep.shape[0],
            "metric": [metric] * keep.shape[0],
            "value": values[keep],
        }))
    table = pl.concat(frames) if frames else pl.DataFrame(schema=METRIC_SCHEMA)
    return (table.with_columns(pl.col("time").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"))
            .sort("time", "entity", "metric").select(list(METRIC_SCHEMA)))


def _ns(start: datetime, t: np.ndarray) -> np.ndarray:
    return int(start.timestamp() * 1e9) + np.round(t * 1e9).astype(np.int64)


def build_spans(run: Run, *, start: datetime, sample: int, seed: int) -> pl.DataFrame:
    """One trace per ``sample`` requests (head sampling by request number): eight spans each."""
    if not sample:
        return pl.DataFrame(schema=SPAN_SCHEMA)
    n = run.r_send.shape[0]
    sel = np.arange(0, n, sample)
    sel = sel[run.r_done[sel] < run.duration]
    if sel.shape[0] == 0:
        return pl.DataFrame(schema=SPAN_SCHEMA)
    trace = [f"{seed & 0xFFFFFFFF:08x}{r:024x}" for r in sel.tolist()]
    ids = sel.tolist()
    w = run.r_worker[sel]
    g = run.r_gpu[sel]
    failed = run.r_failed[sel]
    send, cr_end = run.r_send[sel], run.r_send[sel] + run.r_cr[sel]
    fwd = cr_end + run.r_router[sel]
    enq, deq, end, done = run.r_enqueue[sel], run.r_dequeue[sel], run.r_exec_end[sel], run.r_done[sel]
    worker_names = np.array([str(x) for x in range(run.topology.workers)], dtype=object)
    gpu_names = np.array([str(x) for x in range(run.topology.n_gpus)], dtype=object)
    wn, gn = worker_names[w], gpu_names[g]
    hops = [
        # (hop number, parent hop, entity per span, operation, start, end, error)
        (1, 0, np.full(sel.shape[0], "Client", dtype=object), "POST /v1/predict", send, done, failed),
        (2, 1, np.full(sel.shape[0], "Client-Router", dtype=object), "send", send, cr_end, None),
        (3, 2, np.full(sel.shape[0], "Router", dtype=object), "route", cr_end, enq, None),
        (4, 3, "Router-Queue_" + wn, "forward", fwd, enq, None),
        (5, 4, "Queue_" + wn, "wait", enq, deq, None),
        (6, 5, "Batcher_" + wn, "form_batch", deq, deq, None),
        (7, 6, "ModelInference_" + gn, "infer", deq, end, failed),
        (8, 7, "ModelInference_" + gn + "-Client", "respond", end, done, None),
    ]
    frames = []
    for hop, parent, entity, operation, s, e, err in hops:
        error = err if err is not None else np.zeros(sel.shape[0], dtype=bool)
        frames.append(pl.DataFrame({
            "trace_id": trace,
            "span_id": [f"{r:012x}{hop:04x}" for r in ids],
            "parent_id": [f"{r:012x}{parent:04x}" for r in ids] if parent else [None] * len(ids),
            "entity": list(entity),
            "operation": [operation] * len(ids),
            "start": _ns(start, s),
            "end": _ns(start, e),
            "duration": e - s,
            "error": error,
            "status": np.where(error, "ERROR", "OK").tolist(),
        }, schema_overrides={"parent_id": pl.String}))
    table = pl.concat(frames)
    return (table.with_columns(pl.col("start").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
                               pl.col("end").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"))
            .sort("start", "trace_id", "span_id").select(list(SPAN_SCHEMA)))


class _LogRows:
    """Log lines in the order they are written, turned into a LOG_SCHEMA frame at the end."""

    def __init__(self) -> None:
        self.t: list[float] = []
        self.entity: list[str] = []
        self.level: list[str] = []
        self.message: list[str] = []
        self.trace: list[str | None] = []
        self.span: list[str | None] = []

    def log(self, t: float, entity: str, level: str, message: str, trace: str | None = None,
            span: str | None = None) -> None:
        self.t.append(t)
        self.entity.append(entity)
        self.level.append(level)
        self.message.append(message)
        self.trace.append(trace)
        self.span.append(span)

    def frame(self, start: datetime) -> pl.DataFrame:
        table = pl.DataFrame({
            "time": _ns(start, np.asarray(self.t, dtype=float)),
            "entity": self.entity, "level": self.level, "message": self.message, "trace_id": self.trace,
            "span_id": self.span,
        }, schema_overrides={"trace_id": pl.String, "span_id": pl.String})
        return (table.with_columns(pl.col("time").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"))
                .sort("time", "entity", "level", "message", maintain_order=True).select(list(LOG_SCHEMA)))


_MS = 1000.0


def build_logs(run: Run, faults: list[Fault], metrics_frame: pl.DataFrame | None, *, start: datetime,
               step: float, sample: int, seed: int) -> pl.DataFrame:
    """Log lines: periodic info stats, warnings when a component sees trouble, errors on crashes.

    The templates a fault brings are its fingerprint: crashes log CUDA errors and restarts, a slow
    link logs slow transfers on its receiving side, throttling logs clock warnings, a batch-size
    change logs a config reload, and a long queue or a breached SLO logs warnings.
    """
    bins = _Bins(run.duration, step)
    rows = _LogRows()
    edge_t = np.arange(bins.n) * step
    stamp = np.minimum(edge_t + step * 0.999, run.duration - 1e-6)   # end of each bin
    _client_logs(run, bins, stamp, step, rows)
    _slow_link_logs(bins, stamp, _worker_logs(run, bins, stamp, step, rows), rows)
    _fault_logs(run, faults, edge_t, step, rows)
    _crash_logs(run, rows)
    if sample:
        _request_logs(run, sample, seed, rows)
    return rows.frame(start)


def _client_logs(run: Run, bins: _Bins, stamp: np.ndarray, step: float, rows: _LogRows) -> None:
    """Periodic stats of the router and the client (info), SLO warnings and failed requests."""
    n_sent = bins.count(run.r_send)
    n_done = bins.count(run.r_done)
    n_fail = bins.count(run.r_done, run.r_failed)
    lat_sum = np.bincount(*_bin_weights(bins, run.r_done, run.r_latency * _MS), minlength=bins.n)[: bins.n]
    p95 = _binned_quantile(bins, run.r_done, run.r_latency * _MS, 0.95)
    for b in range(bins.n):
        t = float(stamp[b])
        rows.log(t, "Router", "INFO", f"routed {int(n_sent[b])} requests in the last {step:g}s")
        if n_done[b]:
            rows.log(t, "Client", "INFO", f"received {int(n_done[b])} responses, mean latency "
                                          f"{lat_sum[b] / n_done[b]:.1f} ms")
        if p95[b] > SLO_MS:
            rows.log(t, "Client", "WARNING", f"p95 latency {p95[b]:.0f} ms above SLO {SLO_MS:.0f} ms")
        if n_fail[b]:
            rows.log(t, "Client", "ERROR", f"{int(n_fail[b])} requests failed with HTTP 500 in the last {step:g}s")


_LinkCheck = tuple[str, str, np.ndarray, np.ndarray, float, str]


def _worker_logs(run: Run, bins: _Bins, stamp: np.ndarray, step: float, rows: _LogRows) -> list[_LinkCheck]:
    """Periodic stats of the queues, inference instances and GPUs, queue warnings; returns the links to
    check for slow transfers (link, receiving entity, arrival times, delays, base delay, template)."""
    topo = run.topology
    base = topo.link_delays
    link_checks: list[_LinkCheck] = [
        ("Client-Router", "Router", run.r_send + run.r_cr, run.r_cr, base["Client-Router"],
         "slow inbound connections from Client: mean transfer {:.1f} ms"),
    ]
    for w in range(topo.workers):
        mine = run.r_worker == w
        link_checks.append((f"Router-Queue_{w}", "Router", np.where(mine, run.r_enqueue, -1.0), run.r_rq,
                            base["Router-Queue"], f"forwarding to Queue_{w} is slow: mean {{:.1f}} ms"))
        qlen, has = bins.mean(run.r_enqueue, run.r_queue_len, mine)
        n_in, n_out = bins.count(run.r_enqueue, mine), bins.count(run.r_dequeue, mine)
        threshold = 2 * topo.max_batch_size
        for b in range(bins.n):
            t = float(stamp[b])
            rows.log(t, f"Queue_{w}", "INFO", f"depth {qlen[b]:.0f}, enqueued {int(n_in[b])}, dequeued {int(n_out[b])}")
            if has[b] and qlen[b] > threshold:
                rows.log(t, f"Queue_{w}", "WARNING", f"queue depth {qlen[b]:.0f} above threshold {threshold}")
        for g in topo.gpus_of(w):
            on = run.r_gpu == g
            bon = run.b_gpu == g
            link_checks.append((f"ModelInference_{g}-Client", f"ModelInference_{g}",
                                np.where(on, run.r_done, -1.0), run.r_ic, base["ModelInference-Client"],
                                "sending responses to Client is slow: mean {:.1f} ms"))
            n_b = bins.count(run.b_start, bon)
            n_r = bins.count(run.r_exec_end, on & ~run.r_failed)
            busy = bins.busy(run.b_start[bon], run.b_end[bon])
            for b in range(bins.n):
                t = float(stamp[b])
                rows.log(t, f"ModelInference_{g}", "INFO",
                         f"served {int(n_r[b])} requests in {int(n_b[b])} batches")
                rows.log(t, f"GPU_{g}", "INFO", f"utilization {100 * busy[b] / step:.0f}%")
    return link_checks


def _slow_link_logs(bins: _Bins, stamp: np.ndarray, link_checks: list[_LinkCheck], rows: _LogRows) -> None:
    """A warning on the receiving side of a link in every bin its mean delay exceeds 5x the base delay."""
    for _link, entity, t_end, delay, base_delay, template in link_checks:
        mean, has = bins.mean(t_end, delay * _MS, t_end >= 0)
        for b in np.flatnonzero(has & (mean > 5 * base_delay * _MS)).tolist():
            rows.log(float(stamp[b]), entity, "WARNING", template.format(mean[b]))


def _fault_logs(run: Run, faults: list[Fault], edge_t: np.ndarray, step: float, rows: _LogRows) -> None:
    """Config reloads of a batch-size change, clock warnings of a throttle (a slow link's warnings are
    the receiving side's, above)."""
    topo = run.topology
    for f in faults:
        if f.start >= run.duration:
            continue
        stop = min(f.end, run.duration - 1e-6)
        if isinstance(f, BatchSizeMisconfig):
            new, old = int(f.magnitude), topo.max_batch_size
            rows.log(f.start, f.target, "WARNING", f"config reloaded: max_batch_size={new} (was {old})")
            if f.end < run.duration:
                rows.log(stop, f.target, "INFO", f"config reloaded: max_batch_size={old} (was {new})")
        elif isinstance(f, GpuThrottle):
            mhz = int(_GPU_CLOCK_MHZ / f.magnitude)
            cap = topo.gpu_power_watts / f.magnitude
            for b in np.flatnonzero((edge_t + step > f.start) & (edge_t < f.end)).tolist():
                t = max(float(edge_t[b]), f.start)
                rows.log(t, f.target, "WARNING", f"clocks throttled to {mhz} MHz: power cap {cap:.0f} W")
            if f.end < run.duration:
                rows.log(stop, f.target, "INFO", f"clocks restored to {_GPU_CLOCK_MHZ} MHz")


def _crash_logs(run: Run, rows: _LogRows) -> None:
    """A CUDA error and a restart per crashed batch, and the reload when it ends inside the run."""
    crashed = np.flatnonzero(run.b_failed & (run.b_end < run.duration))
    for k in crashed.tolist():
        mi = f"ModelInference_{int(run.b_gpu[k])}"
        t_crash = float(run.b_end[k])
        rows.log(t_crash, mi, "ERROR", f"CUDA error: an illegal memory access was encountered "
                                       f"(batch {k}, {int(run.b_size[k])} requests failed)")
        rows.log(t_crash, mi, "WARNING", "worker process exited with code 134, restarting")
        if run.b_restart_end[k] < run.duration:
            rows.log(float(run.b_restart_end[k]), mi, "INFO",
                     f"model loaded, ready after {run.b_restart_end[k] - t_crash:.2f} s")


def _request_logs(run: Run, sample: int, seed: int, rows: _LogRows) -> None:
    """Per sampled request (one in ``sample``), info or error lines with its trace and span ids."""
    sel = np.arange(0, run.r_send.shape[0], sample)
    sel = sel[run.r_done[sel] < run.duration]
    for r in sel.tolist():
        trace = f"{seed & 0xFFFFFFFF:08x}{r:024x}"
        w, g = int(run.r_worker[r]), int(run.r_gpu[r])
        rows.log(float(run.r_enqueue[r]), "Router", "INFO", f"request {trace} routed to Queue_{w}", trace,
                 f"{r:012x}{3:04x}")
        if run.r_failed[r]:
            rows.log(float(run.r_exec_end[r]), f"ModelInference_{g}", "ERROR",
                     f"request {trace} failed: inference worker crashed", trace, f"{r:012x}{7:04x}")
        else:
            rows.log(float(run.r_exec_end[r]), f"ModelInference_{g}", "INFO",
                     f"request {trace} done in {(run.r_exec_end[r] - run.r_dequeue[r]) * _MS:.1f} ms",
                     trace, f"{r:012x}{7:04x}")


def _bin_weights(bins: _Bins, t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b, ok = bins.index(t)
    return b[ok], v[ok]


def _binned_quantile(bins: _Bins, t: np.ndarray, v: np.ndarray, q: float) -> np.ndarray:
    b, ok = bins.index(t)
    frame = pl.DataFrame({"b": b[ok], "v": v[ok]}).group_by("b").agg(pl.col("v").quantile(q, "nearest"))
    out = np.zeros(bins.n)
    out[frame.get_column("b").to_numpy()] = frame.get_column("v").to_numpy()
    return out
