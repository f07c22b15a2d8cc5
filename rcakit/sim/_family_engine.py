"""The vectorised core of :mod:`rcakit.sim.families`: the system's entities and their signals per time step.

Every quantity is a numpy array over the time steps; one pass computes request rates from the entry
down the calls (callers before callees), one pass latencies and errors from the leaves up (callees,
the services behind a balancer and a queue's consumer before whoever depends on them). The traces and
logs drawn from these signals are :mod:`rcakit.sim._family_emit`'s. All randomness comes from the
``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

__all__ = ["RTO_MS", "Call", "Injection", "Service", "State", "Topo", "signals"]

RTO_MS = 200.0       # TCP retransmission timeout a lost segment costs
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
        lat += calls * (rtt + loss * RTO_MS + st.get(name, "latency"))
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
        lat += (rtt + loss * RTO_MS + st.get(b, "latency")) / len(svc.backends)
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
            lanes.append(call.prob * call.repeat * (rtt + loss * RTO_MS + lat))
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
