"""The vectorised core of :mod:`rcakit.sim.families`: service signals per time step, traces and logs.

Every quantity is a numpy array over the time steps; one pass computes request rates from the entry
down the calls (callers before callees), one pass latencies and errors from the leaves up (callees,
the services behind a balancer and a queue's consumer before whoever depends on them). Traces reuse
the per-step means (one span tree template per family, sampled per trace); logs are counted per step
from the same signals. All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import networkx as nx
import numpy as np
import polars as pl

from rcakit.telemetry import LOG_SCHEMA, SPAN_SCHEMA

__all__ = ["Call", "Injection", "Service", "State", "Topo", "build_logs", "build_spans", "signals"]

_RTO_MS = 200.0       # TCP retransmission timeout a lost segment costs
_BASE_RTT_MS = 0.5    # a hop inside the data centre
_ENTRY_RTT_MS = 20.0  # clients on the internet
_HIGH_WATER = 500.0   # queued messages before the broker throttles publishers
_MAX_QUEUE = 6000.0   # queued messages before the broker rejects publishes


@dataclass(frozen=True)
class Call:
    """One call of a stage: ``prob`` of requests make it, ``repeat`` times in sequence (N+1 queries);
    with ``fallback`` the caller absorbs its errors (a default answer) instead of failing."""

    callee: str
    prob: float = 1.0
    repeat: int = 1
    fallback: bool = False

    @property
    def critical(self) -> bool:
        return not self.fallback


@dataclass(frozen=True)
class Service:
    """An entity: ``kind`` service | datastore | broker | external (uninstrumented) | lb (uninstrumented).

    ``stages`` run in sequence, the calls of one stage in parallel (fan-out: the slowest counts).
    ``cpu_cost``/``disk_cost`` are utilisation per request/s; ``pool`` the worker (connection) pool;
    a broker names its ``consumer``, whose ``workers`` process messages concurrently; a balancer names
    its ``backends`` (round robin); ``load`` is background requests/s from outside the call tree.
    """

    name: str
    kind: str = "service"
    own_ms: float = 8.0
    cpu_cost: float = 0.006
    stages: tuple[tuple[Call, ...], ...] = ()
    pool: int = 64
    mem_mb: float = 400.0
    mem_limit_mb: float = 1024.0
    disk_cost: float = 0.0
    consumer: str = ""
    workers: int = 4
    backends: tuple[str, ...] = ()
    load: float = 0.0
    op: str = "handle"

    @property
    def instrumented(self) -> bool:
        return self.kind not in ("external", "lb")


@dataclass
class Topo:
    name: str
    entry: str
    services: dict[str, Service]

    def edges(self) -> list[tuple[str, str]]:
        """Caller -> callee entity pairs: calls, balancer -> backend, broker -> its consumer."""
        out: list[tuple[str, str]] = []
        for svc in self.services.values():
            out += [(svc.name, c.callee) for stage in svc.stages for c in stage]
            out += [(svc.name, b) for b in svc.backends]
            if svc.consumer:
                out.append((svc.name, svc.consumer))
        return list(dict.fromkeys(out))

    def order(self) -> list[str]:
        graph = nx.DiGraph(self.edges())
        graph.add_nodes_from(self.services)
        return list(nx.lexicographical_topological_sort(graph))

    def callers(self, name: str) -> list[str]:
        return [a for a, b in self.edges() if b == name]


@dataclass(frozen=True)
class Injection:
    """A fault placed on the step grid: ``kind`` on ``target`` (the link ``caller`` -> target for
    network faults), active from step ``start`` to the end, of strength ``size``."""

    kind: str
    target: str
    start: int
    size: float
    caller: str = ""


@dataclass
class State:
    """Noise-free per-step signals of every entity (and link), kept for metrics, traces and logs."""

    steps: int
    arrays: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    links: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    reasons: dict[str, list[tuple[str, np.ndarray]]] = field(default_factory=dict)

    def get(self, entity: str, name: str) -> np.ndarray:
        return self.arrays.get((entity, name), np.zeros(self.steps))

    def put(self, entity: str, name: str, values: np.ndarray) -> None:
        self.arrays[(entity, name)] = values


def _ar1(rng: np.random.Generator, n: int, sigma: float, phi: float = 0.7) -> np.ndarray:
    shocks = rng.normal(0.0, sigma * np.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    prev = rng.normal(0.0, sigma)
    for i in range(n):  # a short recursion (one value per time step)
        prev = phi * prev + shocks[i]
        out[i] = prev
    return out


def _active(inj: Injection, steps: int) -> np.ndarray:
    return (np.arange(steps) >= inj.start).astype(float)


def _exo(injections: list[Injection], kind: str, target: str, steps: int, caller: str = "") -> np.ndarray:
    """The summed strength over time of the injections of ``kind`` on ``target`` (0 elsewhere)."""
    out = np.zeros(steps)
    for inj in injections:
        if inj.kind == kind and inj.target == target and (not caller or inj.caller == caller):
            out += inj.size * _active(inj, steps)
    return out


def signals(topo: Topo, injections: list[Injection], *, steps: int, step_s: float, rate: float,
            season: np.ndarray, deploy: tuple[str, int] | None, rng: np.random.Generator) -> State:
    """Rates top-down, then resources, latencies and errors bottom-up; returns the noise-free State."""
    st = State(steps)
    order = topo.order()
    rates = {n: np.zeros(steps) for n in order}
    rates[topo.entry] += rate * season * np.exp(_ar1(rng, steps, 0.06))
    for n in order:
        svc = topo.services[n]
        if svc.load:
            rates[n] += svc.load * season * np.exp(_ar1(rng, steps, 0.08))
        for call in (c for stage in svc.stages for c in stage):
            loss = 1 - (1 - _exo(injections, "packet_loss", call.callee, steps, n)) ** 2
            rates[call.callee] += rates[n] * call.prob * call.repeat * (1 + loss**2)  # timeouts retried once
            st.links[(n, call.callee)] = (_BASE_RTT_MS + _exo(injections, "network_delay", call.callee, steps, n),
                                          loss)
        for b in svc.backends:
            rates[b] += rates[n] / len(svc.backends)
            loss = 1 - (1 - _exo(injections, "packet_loss", b, steps, n)) ** 2
            st.links[(n, b)] = (_BASE_RTT_MS + _exo(injections, "network_delay", b, steps, n), loss)
        if svc.consumer:
            rates[svc.consumer] += rates[n]
    for n in order:
        st.put(n, "request_rate", rates[n])
    for n in reversed(order):
        svc = topo.services[n]
        if svc.kind == "external":
            _external(st, svc, injections, rng)
        elif svc.kind == "lb":
            _balancer(st, svc)
        else:
            _instrumented(st, topo, svc, injections, step_s, deploy, rng)
    for svc in topo.services.values():
        if not svc.instrumented:
            _seen_by_callers(st, topo, svc.name)
    return st


def _seen_by_callers(st: State, topo: Topo, name: str) -> None:
    """What the callers of an uninstrumented entity record: call time including the network, failures."""
    lat, err, weight = np.zeros(st.steps), np.zeros(st.steps), np.zeros(st.steps)
    for caller in topo.callers(name):
        rtt, loss = st.links[(caller, name)]
        calls = st.get(caller, "request_rate") + 1e-9
        lat += calls * (rtt + loss * _RTO_MS + st.get(name, "latency"))
        err += calls * np.clip(st.get(name, "errors") + loss**3, 0, 1)
        weight += calls
    st.put(name, "seen_latency", lat / weight)
    st.put(name, "seen_errors", err / weight)


def _external(st: State, svc: Service, injections: list[Injection], rng: np.random.Generator) -> None:
    """An uninstrumented API: only its callers' view of it (``latency``, ``errors``) exists."""
    n = st.steps
    outage = np.clip(_exo(injections, "dependency_outage", svc.name, n), 0, 1)
    injected = _exo(injections, "error_injection", svc.name, n)
    own = svc.own_ms * np.exp(_ar1(rng, n, 0.06))
    # an outage: half the calls are refused at once, half hang until the caller's 1 s timeout
    st.put(svc.name, "latency", own * (1 - outage) + outage * (0.5 * 5.0 + 0.5 * 1000.0))
    base_err = 0.002 * np.exp(_ar1(rng, n, 0.2))
    st.put(svc.name, "errors", np.clip(base_err + injected + 0.95 * outage, 0, 0.99))
    st.reasons[svc.name] = [("503 Service Unavailable", injected + 0.95 * outage)]


def _balancer(st: State, svc: Service) -> None:
    """A balancer name in front of replicas: its callers see the mean over the replicas (round robin)."""
    lat = np.zeros(st.steps)
    err = np.zeros(st.steps)
    for b in svc.backends:
        rtt, loss = st.links[(svc.name, b)]
        lat += (rtt + loss * _RTO_MS + st.get(b, "latency")) / len(svc.backends)
        err += (st.get(b, "error_rate") + loss**3) / len(svc.backends)
    st.put(svc.name, "latency", lat + 0.3)
    st.put(svc.name, "errors", np.clip(err, 0, 1))


def _calls(st: State, topo: Topo, svc: Service) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
    """Time spent in calls (stages in sequence, the slowest lane of a stage) and the failure they bring."""
    total = np.zeros(st.steps)
    ok = np.ones(st.steps)
    reasons: list[tuple[str, np.ndarray]] = []
    for stage in svc.stages:
        lanes = []
        for call in stage:
            callee = topo.services[call.callee]
            rtt, loss = st.links[(svc.name, call.callee)]
            lat = st.get(call.callee, "latency")
            err = st.get(call.callee, "errors" if not callee.instrumented else "error_rate")
            lanes.append(call.prob * call.repeat * (rtt + loss * _RTO_MS + lat))
            if call.critical:
                fail = np.clip(err + loss**3, 0, 1)
                ok *= (1 - fail) ** call.repeat
                verb = "timeout calling" if callee.kind == "external" else "upstream error from"
                reasons.append((f"{verb} {call.callee}", fail - 0.002))
        total += np.max(lanes, axis=0)
    return total, 1 - ok, reasons


def _instrumented(st: State, topo: Topo, svc: Service, injections: list[Injection], step_s: float,
                  deploy: tuple[str, int] | None, rng: np.random.Generator) -> None:
    n, name = st.steps, svc.name
    rate = st.get(name, "request_rate")
    steps = np.arange(n)
    warm = np.zeros(n)
    if deploy is not None and deploy[0] == name:
        warm = ((steps >= deploy[1]) & (steps < deploy[1] + 2)).astype(float)
    cpu = np.clip(0.04 + rate * svc.cpu_cost + _exo(injections, "cpu", name, n) + 0.25 * warm
                  + _ar1(rng, n, 0.01), 0.01, 0.97)
    leak = _exo(injections, "memory_leak", name, n) * np.maximum(0.0, steps - _leak_start(injections, name, n))
    mem = svc.mem_mb * (1 + 0.04 * _ar1(rng, n, 1.0)) + leak
    if deploy is not None and deploy[0] == name:  # the new version starts small and needs 8 % more
        mem = np.where(steps >= deploy[1], mem * 1.08 - svc.mem_mb * 0.3 * np.exp(-(steps - deploy[1]) / 2.0), mem)
    mem = np.minimum(mem, svc.mem_limit_mb * 0.995)
    frac = mem / svc.mem_limit_mb
    factor = 1 / (1 - cpu)
    if svc.disk_cost:
        disk = np.clip(0.03 + rate * svc.disk_cost + _exo(injections, "disk", name, n) + _ar1(rng, n, 0.01),
                       0.01, 0.97)
        factor = 0.5 * factor + 0.5 / (1 - disk)
        st.put(name, "disk_io", 100 * disk)
    gc = 1 + 8 * np.maximum(0.0, frac - 0.8) ** 2 / 0.04
    own = svc.own_ms * factor * gc * np.exp(_ar1(rng, n, 0.05)) * (1 + 0.6 * warm)
    calls_ms, call_fail, reasons = _calls(st, topo, svc)
    service_ms = own + calls_ms
    if svc.kind == "broker":
        service_ms = service_ms + _queue(st, topo, svc, step_s, rng)
    pool = np.full(n, float(svc.pool))
    for inj in injections:  # the pool shrinks to `size` times the concurrency the baseline needed
        if inj.kind == "config_change" and inj.target == name:
            demand = float(np.median(rate[: max(inj.start, 1)] * service_ms[: max(inj.start, 1)])) / 1000.0
            pool = np.where(steps >= inj.start, np.minimum(pool, max(1.0, np.ceil(inj.size * demand))), pool)
    st.put(name, "pool_size", pool)
    rho = rate * service_ms / 1000.0 / pool
    busy = np.minimum(rho, 0.98)  # M/M/c queueing for a worker (Sakasegawa's approximation)
    wait = service_ms * busy ** (np.sqrt(2 * (pool + 1)) - 1) / (pool * (1 - busy))
    reject = np.clip(1 - 1 / np.maximum(rho, 1e-9), 0, 0.95)
    outage = np.clip(_exo(injections, "dependency_outage", name, n), 0, 1)
    injected = _exo(injections, "error_injection", name, n)
    oom = 0.5 * np.clip((frac - 0.93) / 0.06, 0, 1)
    own_err = np.clip(0.001 * np.exp(_ar1(rng, n, 0.2)) + injected, 0, 0.99)
    parts = [("NullPointerException in handler", injected), ("OutOfMemoryError: Java heap space", oom),
             ("rejected: worker pool exhausted", reject), ("connection refused", 0.95 * outage)]
    if svc.kind == "broker":
        qrej = st.get(name, "rejected")
        parts.append(("publish rejected: queue full", qrej))
        own_err = 1 - (1 - own_err) * (1 - qrej)
    err = 1 - (1 - own_err) * (1 - oom) * (1 - reject) * (1 - call_fail)
    err = err * (1 - outage) + 0.95 * outage
    lat = np.minimum(service_ms + wait, 30_000.0) * (1 - outage) + 2.0 * outage
    st.reasons[name] = parts + reasons
    cpu = cpu * (1 - 0.9 * outage)
    for metric, values in (("cpu", 100 * cpu), ("memory", mem), ("latency", lat), ("error_rate", err),
                           ("own_ms", own * (1 - outage) + outage), ("wait_ms", wait * (1 - outage)),
                           ("own_error", 1 - (1 - own_err) * (1 - oom) * (1 - reject) * (1 - outage))):
        st.put(name, metric, values)
    if svc.kind != "broker":
        st.put(name, "pool_utilization", 100 * np.minimum(rho, 1.0))
    _network(st, topo, name, rate)


def _leak_start(injections: list[Injection], name: str, steps: int) -> int:
    return min((i.start for i in injections if i.kind == "memory_leak" and i.target == name), default=steps)


def _network(st: State, topo: Topo, name: str, rate: np.ndarray) -> None:
    """RTT and retransmits of the entity's inbound connections (server-side TCP info)."""
    callers = topo.callers(name)
    if not callers:
        st.put(name, "net_rtt", np.full(st.steps, _ENTRY_RTT_MS))
        st.put(name, "net_retransmits", np.full(st.steps, 0.3))
        return
    weighted = np.zeros(st.steps)
    weight = np.zeros(st.steps)
    retrans = np.full(st.steps, 0.3)
    for caller in callers:
        link = st.links.get((caller, name))
        if link is None:  # a consumer pulls from its broker: that connection is the consumer's own
            continue
        calls = st.get(caller, "request_rate") + 1e-9
        weighted += calls * link[0]
        weight += calls
        retrans += calls * 2 * (1 - np.sqrt(1 - link[1]))  # two segments per call, each lost with p
    st.put(name, "net_rtt", np.where(weight > 0, weighted / np.maximum(weight, 1e-12), _BASE_RTT_MS))
    st.put(name, "net_retransmits", retrans)


def _queue(st: State, topo: Topo, svc: Service, step_s: float, rng: np.random.Generator) -> np.ndarray:
    """Backlog of a bounded broker queue and the publish delay of its flow control (ms per step)."""
    consumer = topo.services[svc.consumer]
    arrive = st.get(svc.name, "request_rate")
    capacity = consumer.workers * 1000.0 / np.maximum(st.get(consumer.name, "latency"), 1e-3)
    backlog, rejected = np.zeros(st.steps), np.zeros(st.steps)
    level = 0.0
    for k in range(st.steps):  # Lindley's recursion with a bound: a full queue rejects the excess
        level += (arrive[k] - capacity[k]) * step_s
        if level > _MAX_QUEUE:
            rejected[k] = (level - _MAX_QUEUE) / max(arrive[k] * step_s, 1e-9)
        level = min(max(level, 0.0), _MAX_QUEUE)
        backlog[k] = level
    rho = np.minimum(arrive / capacity, 0.95)
    length = backlog + rho / (1 - rho) * np.exp(_ar1(rng, st.steps, 0.2))
    taken = arrive * (1 - rejected) - np.diff(backlog, prepend=0.0) / step_s
    st.put(svc.name, "queue_length", length)
    st.put(svc.name, "rejected", np.clip(rejected, 0, 0.99))
    st.put(svc.name, "enqueue_rate", arrive)
    st.put(svc.name, "dequeue_rate", np.maximum(taken, 0.0))
    st.put(svc.name, "queue_wait_s", length / np.maximum(capacity, 1e-3))
    return np.minimum(0.2 * np.maximum(length - _HIGH_WATER, 0.0), 1000.0)


# -- traces -------------------------------------------------------------------------------------
@dataclass
class _Tmpl:
    parent: int
    entity: str
    operation: str
    kind: str            # server | client | consumer
    peer: str = ""       # client: the callee; server: its own service
    prob: float = 1.0
    critical: bool = True
    group: tuple[int, int, int] = (-1, 0, 1)   # balancer: (client template, this backend, backends)
    lanes: list[list[list[int]]] = field(default_factory=list)   # server: stages -> lanes -> client spans


def _templates(topo: Topo) -> list[_Tmpl]:
    out: list[_Tmpl] = []

    def server(name: str, parent: int, kind: str = "server", group: tuple[int, int, int] = (-1, 0, 1)) -> None:
        svc = topo.services[name]
        me = len(out)
        out.append(_Tmpl(parent, name, svc.op, kind, name, group=group))
        for stage in svc.stages:
            lanes = []
            for call in stage:
                lane = []
                for _ in range(call.repeat):
                    lane.append(client(me, svc, call))
                lanes.append(lane)
            out[me].lanes.append(lanes)

    def client(parent: int, caller: Service, call: Call) -> int:
        callee = topo.services[call.callee]
        verb = {"datastore": "SQL", "broker": "publish", "external": "HTTPS POST"}.get(callee.kind, "HTTP POST")
        me = len(out)
        out.append(_Tmpl(parent, caller.name, f"{verb} {call.callee}", "client", call.callee, call.prob,
                         call.critical))
        if callee.kind in ("service", "datastore"):
            server(callee.name, me)
        for k, b in enumerate(callee.backends):
            server(b, me, group=(me, k, len(callee.backends)))
        if callee.consumer:
            server(callee.consumer, me, kind="consumer")
        return me

    server(topo.entry, -1)
    return out


def build_spans(topo: Topo, st: State, *, start: datetime, step_s: float, per_step: int, seed: int,
                rng: np.random.Generator) -> pl.DataFrame:
    """``per_step`` sampled traces per time step, one span per template the trace visits."""
    if per_step <= 0:
        return pl.DataFrame(schema=SPAN_SCHEMA)
    tm = _templates(topo)
    n = st.steps * per_step
    step_of = np.repeat(np.arange(st.steps), per_step)
    present = np.zeros((len(tm), n), dtype=bool)
    choice = rng.integers(0, 1 << 30, n)
    for i, t in enumerate(tm):
        up = present[t.parent] if t.parent >= 0 else np.ones(n, dtype=bool)
        if t.group[0] >= 0:
            up = up & (choice % t.group[2] == t.group[1])
        present[i] = up & (rng.random(n) < t.prob) if t.prob < 1 else up
    dur, err = np.zeros((len(tm), n)), np.zeros((len(tm), n), dtype=bool)
    pre = np.zeros((len(tm), n))
    for i in reversed(range(len(tm))):
        _duration(tm, i, topo, st, step_of, present, dur, err, pre, rng)
    begin = np.zeros((len(tm), n))
    begin[0] = step_of * step_s + rng.random(n) * step_s
    for i in range(len(tm)):
        _place(tm, i, topo, st, step_of, dur, pre, begin, rng)
    rows = [(k, i) for i in range(len(tm)) for k in np.flatnonzero(present[i]).tolist()]
    idx_k = np.array([r[0] for r in rows], dtype=np.int64)
    idx_t = np.array([r[1] for r in rows], dtype=np.int64)
    t0 = np.datetime64(start.replace(tzinfo=None), "ns")
    s_ns = t0 + (begin[idx_t, idx_k] * 1e9).astype("timedelta64[ns]")
    d = dur[idx_t, idx_k] / 1000.0
    e_ns = s_ns + (d * 1e9).astype("timedelta64[ns]")
    parents = [tm[i].parent for i in idx_t.tolist()]
    frame = pl.DataFrame({
        "trace_id": [f"{seed & 0xFFFFFFFF:08x}{k:024x}" for k in idx_k.tolist()],
        "span_id": [f"{k:010x}{i:06x}" for k, i in zip(idx_k.tolist(), idx_t.tolist(), strict=True)],
        "parent_id": [None if p < 0 else f"{k:010x}{p:06x}" for k, p in zip(idx_k.tolist(), parents, strict=True)],
        "entity": [tm[i].entity for i in idx_t.tolist()],
        "operation": [tm[i].operation for i in idx_t.tolist()],
        "start": s_ns, "end": e_ns, "duration": d,
        "error": err[idx_t, idx_k],
    }, schema_overrides={"parent_id": pl.String})
    frame = frame.with_columns(pl.col("start").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
                               pl.col("end").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
                               pl.when(pl.col("error")).then(pl.lit("ERROR")).otherwise(pl.lit("OK")).alias("status"))
    return frame.sort("start", "trace_id", "span_id").select(list(SPAN_SCHEMA))


def _duration(tm: list[_Tmpl], i: int, topo: Topo, st: State, step_of: np.ndarray, present: np.ndarray,
              dur: np.ndarray, err: np.ndarray, pre: np.ndarray, rng: np.random.Generator) -> None:
    """Milliseconds and error of template ``i`` for every trace, from its children (computed first)."""
    t, n = tm[i], step_of.shape[0]
    jitter = np.exp(rng.normal(-0.06, 0.35, n))
    if t.kind in ("server", "consumer"):
        own = st.get(t.peer, "own_ms")[step_of] * jitter
        wait = st.get(t.peer, "wait_ms")[step_of] * rng.exponential(1.0, n)
        pre[i] = own / 2 + wait
        body = pre[i] + own / 2
        failed = rng.random(n) < st.get(t.peer, "own_error")[step_of]
        for stage in t.lanes:
            lane_ms = [np.sum([dur[c] * present[c] for c in lane], axis=0) for lane in stage]
            body = body + np.max(lane_ms, axis=0)
            for lane in stage:
                for c in lane:
                    if tm[c].critical:
                        failed |= err[c] & present[c]
        dur[i], err[i] = body, failed
        return
    callee = topo.services[t.peer]
    rtt, loss = (a[step_of] for a in st.links[(t.entity, t.peer)])
    if callee.kind in ("broker", "external"):
        body = st.get(t.peer, "latency")[step_of] * jitter
        failed = rng.random(n) < st.get(t.peer, "errors" if callee.kind == "external" else "error_rate")[step_of]
    else:
        servers = [c for c in range(i + 1, len(tm)) if tm[c].parent == i and tm[c].kind == "server"]
        body = np.sum([dur[c] * present[c] for c in servers], axis=0)
        failed = np.any([err[c] & present[c] for c in servers], axis=0)
        if callee.kind == "lb":  # the hop behind the balancer, to the replica this trace went to
            hops = [st.links[(t.peer, tm[c].peer)] for c in servers]
            rtt = rtt + np.sum([h[0][step_of] * present[c] for h, c in zip(hops, servers)], axis=0)
            loss = 1 - (1 - loss) * (1 - np.sum([h[1][step_of] * present[c] for h, c in zip(hops, servers)], axis=0))
    lost = rng.random(n) < loss
    pre[i] = rtt + lost * _RTO_MS
    dur[i] = pre[i] + body
    err[i] = failed | (lost & (rng.random(n) < loss**2))


def _place(tm: list[_Tmpl], i: int, topo: Topo, st: State, step_of: np.ndarray, dur: np.ndarray,
           pre: np.ndarray, begin: np.ndarray, rng: np.random.Generator) -> None:
    """Start times of template ``i``'s children: lanes of a stage together, stages one after another."""
    t = tm[i]
    if t.kind == "client":
        for c in range(i + 1, len(tm)):
            if tm[c].parent == i and tm[c].kind == "server":
                begin[c] = begin[i] + pre[i] / 2000.0
            elif tm[c].parent == i:  # a consumer takes the message after its wait in the queue
                wait = st.get(t.peer, "queue_wait_s")[step_of]
                begin[c] = begin[i] + dur[i] / 1000.0 + wait * rng.uniform(0.5, 1.5, step_of.shape[0])
        return
    cursor = begin[i] + pre[i] / 1000.0
    for stage in t.lanes:
        longest = np.zeros_like(cursor)
        for lane in stage:
            at = cursor.copy()
            for c in lane:
                begin[c] = at
                at = at + dur[c] / 1000.0
            longest = np.maximum(longest, at - cursor)
        cursor = cursor + longest


# -- logs ---------------------------------------------------------------------------------------
def build_logs(topo: Topo, st: State, *, start: datetime, step_s: float, base_steps: int,
               events: list[tuple[int, str, str, str]], rng: np.random.Generator) -> pl.DataFrame:
    """Info lines per entity and step, warnings when it is slow, error lines when errors rise, events."""
    rows: list[tuple[float, str, str, str]] = []
    for name in topo.order():
        svc = topo.services[name]
        if not svc.instrumented:
            continue
        lat, rate = st.get(name, "latency"), st.get(name, "request_rate")
        typical = float(np.median(lat[:base_steps]))
        n_err = rng.poisson(st.get(name, "error_rate") * rate * step_s / 20.0)
        n_slow = rng.poisson(np.clip(2.0 * (lat / typical - 1.5), 0, 6))
        mem = st.get(name, "memory") / svc.mem_limit_mb
        reasons = st.reasons.get(name, [])
        for k in range(st.steps):
            at = k * step_s
            rows.append((at + 1.0, name, "INFO", f"served {rate[k] * step_s:.0f} requests, p50 {lat[k]:.0f} ms"))
            rows.append((at + 31.0, name, "INFO", "health check ok"))
            rows += [(at + rng.random() * step_s, name, "WARN", f"slow request: {svc.op} took {lat[k] * 2:.0f} ms")
                     for _ in range(int(n_slow[k]))]
            if mem[k] > 0.8:
                rows.append((at + 15.0, name, "WARN", f"GC pause {200 * mem[k]:.0f} ms, heap {100 * mem[k]:.0f}% used"))
            if st.get(name, "disk_io")[k] > 80:
                rows.append((at + 20.0, name, "WARN", "slow fsync: write took 300 ms"))
            why = max(reasons, key=lambda r: float(r[1][k]), default=("", np.zeros(1)))
            text = why[0] if why[0] and float(why[1][k]) > 0.01 else "request failed: client closed connection"
            rows += [(at + rng.random() * step_s, name, "ERROR", text) for _ in range(int(min(n_err[k], 12)))]
    rows += [(k * step_s + 5.0, entity, level, message) for k, entity, level, message in events]
    rows.sort(key=lambda r: (r[0], r[1]))
    t0 = np.datetime64(start.replace(tzinfo=None), "ns")
    times = t0 + (np.array([r[0] for r in rows]) * 1e9).astype("timedelta64[ns]")
    frame = pl.DataFrame({"time": times, "entity": [r[1] for r in rows], "level": [r[2] for r in rows],
                          "message": [r[3] for r in rows]})
    return frame.with_columns(pl.col("time").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
                              pl.lit(None, pl.String).alias("trace_id"),
                              pl.lit(None, pl.String).alias("span_id")).select(list(LOG_SCHEMA))
