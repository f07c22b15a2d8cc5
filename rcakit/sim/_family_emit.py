"""The traces and logs of :mod:`rcakit.sim.families`, drawn from the per-step signals of
:mod:`rcakit.sim._family_engine`.

Traces reuse the per-step means: one span tree template per family (a server span per service, a
client span per call, lanes of a stage side by side), sampled per trace; logs are counted per step
from the same signals. All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl

from rcakit.sim._family_engine import RTO_MS, Call, Service, State, Topo
from rcakit.telemetry import LOG_SCHEMA, SPAN_SCHEMA

__all__ = ["build_logs", "build_spans"]


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
    pre[i] = rtt + lost * RTO_MS
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
