"""Harder simulator families for tuning: four systems that are not model serving, eight fault kinds, noise.

>>> from rcakit.sim import family_incident, family_cases, TUNING_SEEDS
>>> incident = family_incident("webshop", "network_delay", seed=101)
>>> cases = family_cases(TUNING_SEEDS)   # (family, fault, seed) for every family x fault x seed

**Tune defaults on** :data:`TUNING_SEEDS` **only and report** :data:`SCORING_SEEDS` (disjoint), and keep
the real datasets for scoring: these systems are stylised, a default tuned on them is a prior, not a result.

Families (``size="S"``: 10-13 entities; ``"M"`` adds services or replicas, 12-17):

* ``webshop``: a call tree with fan-out. ``frontend`` calls ``auth``, then ``catalog``, ``recommendation``
  (with a fallback) and ``cart`` in parallel (the slowest counts), then ``checkout`` for 30 % of requests,
  which writes ``orders-db`` and calls the external ``payment-api``, then ``shipping`` and ``currency``.
* ``pipeline``: ``ingest-api`` publishes to ``orders-queue``; ``enricher`` consumes it (calls the external
  ``geo-api`` and ``customer-db``) and publishes to ``events-queue``, consumed by ``writer``. A consumer
  slower than the arrivals grows the backlog (``queue_length``); past 500 messages the broker throttles
  publishers (``ingest-api`` latency, up to 1 s), a full queue (6000) rejects them (errors).
* ``shared_db``: six services and a background ``reports`` job share ``main-db``, whose CPU and disk
  every query loads: a fault of the database reaches every caller, a heavy caller slows the others.
* ``replicated``: ``gateway`` calls ``search-lb``, a balancer name in front of ``search-0..2`` (round
  robin), ``profile`` and the external ``ads-api`` (with a fallback).

Nodes observed only through their callers: an external API (``payment-api``, ``geo-api``, ``tax-api``,
``ads-api``, ...) and a balancer name (``search-lb``) have no metrics, spans or logs of their own. Their
callers record the call: ``<callee>:latency`` (ms, including the network) and ``<callee>:errors`` (failed
fraction), and their traces hold the caller's client span with no server span below it (behind a balancer,
the replica's server span hangs directly under the caller's client span).

Metrics per instrumented entity, one row per ``step`` (60 s, or 30 s): ``latency`` (ms, mean; a caller's
includes its synchronous callees), ``request_rate`` (per s), ``error_rate`` (fraction), ``cpu`` (%),
``memory`` (MB), ``pool_utilization`` (% of the worker or connection pool busy), ``net_rtt`` (ms) and
``net_retransmits`` (per s) of its inbound connections, ``disk_io`` (% busy) for datastores and brokers;
brokers report ``enqueue_rate``, ``dequeue_rate`` and ``queue_length`` instead of a request rate.

Faults (:data:`FAULT_KINDS`), placed at the end of the baseline and lasting to the end; ``target`` names
the faulty entity (by default drawn with the seed from :func:`eligible_targets`, entities reached from the
entry, so that the alarm can move):

* ``cpu``: another process takes 45-60 % of the target's CPU; its own time grows as 1 / (1 - cpu).
* ``memory_leak``: memory ramps to the limit over the window; above 80 % GC pauses slow it, above 93 %
  OutOfMemoryErrors fail requests.
* ``disk``: a neighbour saturates the disk (+50-65 %) of a datastore or broker; queries slow down.
* ``network_delay``: 80-250 ms on one link, from one caller to the target: only that caller's calls
  are slower; the target's ``net_rtt`` (server-side RTT of its inbound connections) rises.
* ``packet_loss``: 8-20 % of segments lost on one link: 200 ms retransmission timeouts, timed-out calls
  retried once (the target's request rate rises) and some calls fail; ``net_retransmits`` rises.
* ``error_injection``: 20-50 % of the target's requests fail; critical callers fail too, callers with
  a fallback absorb them.
* ``config_change``: the target's worker pool shrinks to 1.05-1.3x the concurrency it needed: queueing
  for a worker, rejections when the pool is full (a ``config reloaded`` line is logged). Eligible: the
  entities that keep at least one worker busy on average (a smaller pool would not bite elsewhere).
* ``dependency_outage``: an external callee fails: 95 % errors, half of them after a 1 s timeout (an
  instrumented target is down: fast failures, no CPU).

For a network fault the root-cause entity is the callee side of the link (``meta["fault"]["caller"]``
names the caller) and its root-cause node ``net_rtt`` / ``net_retransmits`` (``latency`` for an
uninstrumented callee). The alarm is the entry's latency or error rate, whichever the fault moves more.

Noise (:data:`NOISE`; default :data:`DEFAULT_NOISE`), details in ``meta["noise_detail"]``:

* ``missing_scrapes``: 3 % of metric rows dropped at random, and one entity's metrics missing for 3-6
  consecutive steps (a scrape target down).
* ``clock_skew``: one host's clock is 20-90 s off: its metric, log and span timestamps are shifted.
* ``seasonality``: traffic follows a 2-4 hour wave of +-30 %, so load differs between the windows.
* ``unrelated_deploy``: another service is redeployed during the incident: a deploy log line, a CPU
  and latency blip for two steps, memory restarting lower and settling 8 % higher.
* ``no_network_metrics``: the hosts export no network-level metrics (``net_rtt``, ``net_retransmits``), as
  many do not: a network fault then shows only in its callers' latency and backlog, the traces and the logs.
  Not in the default noise (:data:`NETWORK_METRICS` names what it drops).

Truth: ``truth.graph`` is the causal graph between metric nodes (cause -> effect, edges carry ``why``)
of the equations the simulator uses, ``truth.fault_type`` the fault kind. ``Incident.call_graph`` lists
caller -> callee entity pairs (a broker -> its consumer, a balancer -> its replicas). Not modelled: the
backlog's throttling of load below a consumer (services below a consumer see the offered rate),
retry storms, autoscaling, health checks of the balancer, feedback of errors on traffic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import polars as pl

from rcakit.errors import DataError
from rcakit.sim._family_emit import build_logs, build_spans
from rcakit.sim._family_engine import Injection, State, Topo, signals
from rcakit.sim._family_systems import FAMILIES, check_choice, family_topology, metric_names
from rcakit.sim._family_truth import true_family_graph
from rcakit.telemetry import METRIC_SCHEMA, GroundTruth, Incident, Telemetry, TimeWindow
from rcakit.telemetry.window import to_utc

if TYPE_CHECKING:
    from rcakit._types import JSONObject, TimeLike

__all__ = [
    "DEFAULT_NOISE",
    "FAMILIES",
    "FAULT_KINDS",
    "NETWORK_FAULTS",
    "NETWORK_METRICS",
    "NOISE",
    "SCORING_SEEDS",
    "TUNING_SEEDS",
    "eligible_targets",
    "family_cases",
    "family_incident",
    "family_topology",
    "true_family_graph",
]

FAULT_KINDS = ("cpu", "memory_leak", "disk", "network_delay", "packet_loss", "error_injection",
               "config_change", "dependency_outage")
NOISE = ("missing_scrapes", "clock_skew", "seasonality", "unrelated_deploy", "no_network_metrics")
#: The faults on one link, from one caller to the target.
NETWORK_FAULTS = ("network_delay", "packet_loss")
DEFAULT_NOISE = ("missing_scrapes", "seasonality")
#: Seeds to tune defaults on; never report them. :data:`SCORING_SEEDS` are the ones to report.
TUNING_SEEDS = range(100, 110)
SCORING_SEEDS = range(200, 210)
DEFAULT_START = "2025-03-03T10:00:00Z"
_INSTRUMENTED = ("service", "datastore", "broker")
_ROOT_METRIC = {"cpu": "cpu", "memory_leak": "memory", "disk": "disk_io", "network_delay": "net_rtt",
                "packet_loss": "net_retransmits", "error_injection": "error_rate",
                "config_change": "pool_utilization", "dependency_outage": "error_rate"}
#: The metrics the ``no_network_metrics`` noise leaves out: those the network faults move first.
NETWORK_METRICS = tuple(_ROOT_METRIC[k] for k in NETWORK_FAULTS)


# -- where a fault can go -------------------------------------------------------------------------
def _link_callers(topo: Topo, name: str) -> list[str]:
    """Callers holding a connection to ``name`` (a broker's consumer pulls, so it has none)."""
    return [a for a in topo.callers(name) if topo.services[a].consumer != name]


def _error_reach(topo: Topo) -> list[str]:
    """Entities whose errors reach the entry through critical calls (and a balancer's replicas)."""
    seen, todo = [topo.entry], [topo.entry]
    while todo:
        svc = topo.services[todo.pop()]
        nxt = [c.callee for stage in svc.stages for c in stage if c.critical] + list(svc.backends)
        for name in nxt:
            if name not in seen:
                seen.append(name)
                todo.append(name)
    return [n for n in seen if topo.services[n].kind != "lb"]


def _reachable(topo: Topo) -> set[str]:
    graph = nx.DiGraph(topo.edges())
    return {topo.entry} | (nx.descendants(graph, topo.entry) if topo.entry in graph else set())


def _busy(topo: Topo) -> set[str]:
    """Entities whose baseline needs at least one worker on average (a smaller pool can bite)."""
    st = signals(topo, [], steps=20, step_s=60.0, rate=40.0, season=np.ones(20), deploy=None,
                 rng=np.random.default_rng(0))
    return {n for n, s in topo.services.items() if s.instrumented
            and float(np.median(st.get(n, "request_rate") * (st.get(n, "latency") - st.get(n, "wait_ms")))) >= 1000.0}


def eligible_targets(topo: Topo, fault: str) -> list[str]:
    """The entities a fault of this kind can be injected on (reached from the entry), in the family's order."""
    reach = _reachable(topo)
    svcs = [s for s in topo.services.values() if s.name in reach]
    if fault in ("cpu", "memory_leak"):
        return [s.name for s in svcs if s.kind in _INSTRUMENTED]
    if fault == "disk":
        return [s.name for s in svcs if s.disk_cost > 0]
    if fault == "config_change":
        busy = _busy(topo)
        return [s.name for s in svcs if s.kind in ("service", "datastore") and s.name in busy]
    if fault in NETWORK_FAULTS:
        return [s.name for s in svcs if _link_callers(topo, s.name)]
    if fault == "error_injection":
        return _error_reach(topo)
    return [s.name for s in svcs if s.kind == "external"]


def _place(topo: Topo, fault: str, target: str | None, start: int, incident_steps: int,
           rng: np.random.Generator) -> Injection:
    allowed = eligible_targets(topo, fault)
    if target is None:
        target = str(rng.choice(allowed))
    elif target not in topo.services:
        raise DataError(f"{target!r} is not an entity of the {topo.name} family",
                        hint=f"Entities: {', '.join(topo.services)}")
    elif target not in allowed and not (fault == "dependency_outage" and topo.services[target].instrumented):
        raise DataError(f"a {fault} fault cannot be injected on {target!r} in the {topo.name} family",
                        hint=f"Eligible targets: {', '.join(allowed)}")
    svc = topo.services[target]
    caller = str(rng.choice(_link_callers(topo, target))) if fault in NETWORK_FAULTS else ""
    size = {"cpu": rng.uniform(0.45, 0.6), "disk": rng.uniform(0.5, 0.65), "network_delay": rng.uniform(80, 250),
            "packet_loss": rng.uniform(0.08, 0.2), "error_injection": rng.uniform(0.2, 0.5),
            "config_change": rng.uniform(1.05, 1.3), "dependency_outage": 1.0,
            "memory_leak": (0.99 * svc.mem_limit_mb - svc.mem_mb) / (0.7 * incident_steps) * rng.uniform(0.8, 1.2),
            }[fault]
    return Injection(fault, target, start, float(size), caller)


def _root_nodes(topo: Topo, inj: Injection) -> tuple[str, ...]:
    if topo.services[inj.target].instrumented:
        return (f"{inj.target}:{_ROOT_METRIC[inj.kind]}",)
    if inj.kind == "dependency_outage":
        return (f"{inj.target}:errors", f"{inj.target}:latency")
    return (f"{inj.target}:errors",) if inj.kind == "error_injection" else (f"{inj.target}:latency",)


# -- metrics ------------------------------------------------------------------------------------
def _measure(metric: str, v: np.ndarray, calls: np.ndarray, step_s: float, rng: np.random.Generator) -> np.ndarray:
    """What a scrape reads: the step's mean with sampling noise of its kind."""
    if metric in ("request_rate", "enqueue_rate", "dequeue_rate", "net_retransmits"):
        rate: np.ndarray = rng.poisson(np.maximum(v, 0) * step_s) / step_s
        return rate
    if metric in ("error_rate", "errors"):
        n = np.maximum(1, np.round(calls * step_s)).astype(np.int64)
        return rng.binomial(n, np.clip(v, 0, 1)) / n
    if metric in ("cpu", "disk_io", "pool_utilization"):
        return np.clip(v + rng.normal(0, 0.5 if metric != "pool_utilization" else 0.2, v.shape), 0, 100)
    if metric == "queue_length":
        length: np.ndarray = rng.poisson(np.maximum(v, 0)).astype(float)
        return length
    if metric == "memory":
        return v * (1 + rng.normal(0, 0.004, v.shape))
    return v * np.exp(rng.normal(0, 0.04 if metric == "latency" else 0.03, v.shape))


def _metrics(topo: Topo, st: State, step_s: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, svc in topo.services.items():
        calls = st.get(name, "request_rate")
        for metric in metric_names(svc):
            source = {"latency": "seen_latency", "errors": "seen_errors"}.get(metric, metric) \
                if not svc.instrumented else metric
            out[f"{name}:{metric}"] = _measure(metric, st.get(name, source), calls, step_s, rng)
    return out


# -- noise ----------------------------------------------------------------------------------------
def _season(noise: Sequence[str], steps: int, step_s: float, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, float]]:
    if "seasonality" not in noise:
        return np.ones(steps), {}
    period = rng.uniform(120, 240)
    phase = rng.uniform(0, period)
    minutes = np.arange(steps) * step_s / 60.0
    return 1 + 0.3 * np.sin(2 * np.pi * (minutes + phase) / period), {"period_min": period, "phase_min": phase}


def _drop_scrapes(frame: pl.DataFrame, topo: Topo, steps: int, step_s: float, t0: datetime,
                  rng: np.random.Generator) -> tuple[pl.DataFrame, JSONObject]:
    entity = str(rng.choice([n for n, s in topo.services.items() if s.instrumented]))
    length = int(rng.integers(3, 7)) * max(1, round(60 / step_s))
    first = int(rng.integers(0, steps - length))
    gap = TimeWindow(t0 + timedelta(seconds=first * step_s), t0 + timedelta(seconds=(first + length) * step_s))
    keep = rng.random(frame.height) >= 0.03
    in_gap = ((frame["entity"] == entity) & (frame["time"] >= gap.start) & (frame["time"] < gap.end)).to_numpy()
    out = frame.filter(pl.Series(keep & ~in_gap))
    return out, {"entity": entity, "gap": gap.to_dict(), "dropped_rows": frame.height - out.height}


def _skew(frames: dict[str, pl.DataFrame], host: str, seconds: float) -> dict[str, pl.DataFrame]:
    shift = pl.duration(nanoseconds=round(seconds * 1e9), time_unit="ns")
    out = {}
    for kind, frame in frames.items():
        cols = ("start", "end") if kind == "spans" else ("time",)
        mine = pl.col("entity") == host
        out[kind] = frame.with_columns([pl.when(mine).then(pl.col(c) + shift).otherwise(pl.col(c)).alias(c)
                                        for c in cols])
        if kind != "spans":
            out[kind] = out[kind].sort("time", maintain_order=True)
    return out


# -- the incident ---------------------------------------------------------------------------------
def _alarm(topo: Topo, st: State, base: int) -> str:
    """The entry's latency or error rate, whichever moved more (robust z of the incident mean)."""
    best, score = f"{topo.entry}:latency", -np.inf
    for metric in ("latency", "error_rate"):
        v = st.get(topo.entry, metric)
        spread = max(float(np.std(v[:base])), 1e-3 * float(np.mean(v[:base])) + 1e-9)
        z = (float(np.mean(v[base:])) - float(np.mean(v[:base]))) / spread
        if z > score:
            best, score = f"{topo.entry}:{metric}", z
    return best


def _long_metrics(values: dict[str, np.ndarray], t0: datetime, step_s: float) -> pl.DataFrame:
    steps = next(iter(values.values())).shape[0]
    times = np.datetime64(t0.replace(tzinfo=None), "ns") + (np.arange(steps) * step_s * 1e9).astype("timedelta64[ns]")
    nodes = list(values)
    frame = pl.DataFrame({
        "time": np.tile(times, len(nodes)),
        "entity": np.repeat([n.split(":", 1)[0] for n in nodes], steps),
        "metric": np.repeat([n.split(":", 1)[1] for n in nodes], steps),
        "value": np.concatenate([values[n] for n in nodes]).astype(float),
    })
    return (frame.with_columns(pl.col("time").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"))
            .sort("time", maintain_order=True).select(list(METRIC_SCHEMA)))


def _events(topo: Topo, st: State, inj: Injection, deploy: tuple[str, int] | None) -> list[tuple[int, str, str, str]]:
    out = []
    if inj.kind == "config_change":
        pool = st.get(inj.target, "pool_size")
        out.append((inj.start, inj.target, "INFO",
                    f"config reloaded: worker pool size {pool[0]:.0f} -> {pool[-1]:.0f}"))
    if deploy is not None:
        out += [(deploy[1], deploy[0], "INFO", f"deploying {deploy[0]} version 2.{deploy[1]}.0 (rolling restart)"),
                (deploy[1], deploy[0], "INFO", f"started {deploy[0]} 2.{deploy[1]}.0 in 4.2 s")]
    return out


def family_incident(
    family: str,
    fault: str,
    *,
    seed: int,
    target: str | None = None,
    noise: Iterable[str] = DEFAULT_NOISE,
    size: str = "S",
    logs: bool = True,
    traces: bool = True,
    step: float = 60.0,
    baseline_minutes: int = 60,
    incident_minutes: int = 20,
    traces_per_step: int = 5,
    start: TimeLike = DEFAULT_START,
) -> Incident:
    """One incident of ``family`` with a ``fault`` (see the module docstring for both), with ground truth.

    The same arguments give the same telemetry. ``target`` names the faulty entity (drawn with the seed
    among the eligible ones when None); ``noise`` is a subset of :data:`NOISE`; ``step`` is 60 or 30 s;
    ``traces_per_step`` traces are sampled per step. The baseline window is the first
    ``baseline_minutes``, the incident window the ``incident_minutes`` after, when the fault is active.
    """
    check_choice(fault, FAULT_KINDS, "fault kind")
    noise = tuple(noise)
    for item in noise:
        check_choice(item, NOISE, "noise option")
    if step not in (30, 60, 30.0, 60.0):
        raise DataError(f"step must be 60 or 30 seconds, got {step!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}")
    topo = family_topology(family, size)
    streams = [np.random.default_rng([seed, FAMILIES.index(family), FAULT_KINDS.index(fault), k]) for k in range(6)]
    base = round(baseline_minutes * 60 / step)
    steps = base + round(incident_minutes * 60 / step)
    inj = _place(topo, fault, target, base, steps - base, streams[0])
    season, season_info = _season(noise, steps, step, streams[5])
    deploy = None
    if "unrelated_deploy" in noise:
        others = [n for n, s in topo.services.items() if s.kind == "service" and n not in (inj.target, topo.entry)]
        deploy = (str(streams[5].choice(others)), base + int(streams[5].integers(2, max(3, steps - base - 4))))
    st = signals(topo, [inj], steps=steps, step_s=step, rate=float(streams[0].uniform(30, 50)), season=season,
                 deploy=deploy, rng=streams[1])
    t0 = to_utc(start)
    frames = {"metrics": _long_metrics(_metrics(topo, st, step, streams[2]), t0, step)}
    if traces:
        frames["spans"] = build_spans(topo, st, start=t0, step_s=step, per_step=traces_per_step, seed=seed,
                                      rng=streams[3])
    if logs:
        frames["logs"] = build_logs(topo, st, start=t0, step_s=step, base_steps=base,
                                    events=_events(topo, st, inj, deploy), rng=streams[4])
    detail: JSONObject = {}
    if season_info:
        detail["seasonality"] = season_info
    if deploy is not None:
        detail["unrelated_deploy"] = {"entity": deploy[0], "time": (t0 + timedelta(seconds=deploy[1] * step)).isoformat()}
    if "no_network_metrics" in noise:
        frames["metrics"] = frames["metrics"].filter(~pl.col("metric").is_in(list(NETWORK_METRICS)))
        detail["no_network_metrics"] = {"dropped": list(NETWORK_METRICS)}
    if "missing_scrapes" in noise:
        frames["metrics"], detail["missing_scrapes"] = _drop_scrapes(frames["metrics"], topo, steps, step, t0, streams[5])
    if "clock_skew" in noise:
        host = str(streams[5].choice([n for n, s in topo.services.items() if s.instrumented and n != topo.entry]))
        seconds = float(streams[5].choice([-1, 1]) * streams[5].uniform(20, 90))
        frames = _skew(frames, host, seconds)
        detail["clock_skew"] = {"entity": host, "seconds": seconds}
    return _assemble(topo, st, inj, frames, t0, base, steps, step, seed=seed, family=family, size=size,
                     noise=noise, detail=detail)


def _assemble(topo: Topo, st: State, inj: Injection, frames: dict[str, pl.DataFrame], t0: datetime, base: int,
              steps: int, step: float, *, seed: int, family: str, size: str, noise: tuple[str, ...],
              detail: JSONObject) -> Incident:
    telemetry = Telemetry(frames["metrics"], frames.get("logs"), frames.get("spans"),
                          source=f"rcakit.sim.families {family} {inj.kind} seed={seed}", validated=True)
    where = f"{inj.target} (link from {inj.caller})" if inj.caller else inj.target
    truth = GroundTruth(root_cause_entities=(inj.target,), root_cause_nodes=_root_nodes(topo, inj),
                        fault_type=inj.kind, graph=true_family_graph(topo),
                        notes=f"{inj.kind} on {where}, strength {inj.size:.3g}")
    hidden = [n for n, s in topo.services.items() if not s.instrumented]
    return Incident(
        telemetry=telemetry,
        baseline_window=TimeWindow(t0, t0 + timedelta(seconds=base * step)),
        incident_window=TimeWindow(t0 + timedelta(seconds=base * step), t0 + timedelta(seconds=steps * step)),
        alarm=_alarm(topo, st, base),
        truth=truth,
        name=f"family-{family}-{inj.kind}-{inj.target}-seed{seed}",
        description=f"Simulated {family} ({size}, {len(topo.services)} entities): {truth.notes}; noise: "
                    f"{', '.join(noise) or 'none'}.",
        meta={"simulator": "rcakit.sim.families", "family": family, "fault": inj.kind, "noise": list(noise),
              "fault_detail": {"kind": inj.kind, "target": inj.target, "caller": inj.caller or None,
                               "size": inj.size, "start": (t0 + timedelta(seconds=inj.start * step)).isoformat()},
              "noise_detail": detail, "seed": seed, "size": size,
              "step_seconds": step, "entry": topo.entry, "uninstrumented": hidden,
              "entity_kinds": {n: s.kind for n, s in topo.services.items()}},
        call_graph=tuple(topo.edges()),
    )


def family_cases(seeds: Iterable[int], families: Iterable[str] = FAMILIES,
                 faults: Iterable[str] = FAULT_KINDS) -> list[tuple[str, str, int]]:
    """Every (family, fault, seed) to run: ``family_incident(family, fault, seed=seed)`` for each."""
    fams, kinds = tuple(families), tuple(faults)
    for name in fams:
        check_choice(name, FAMILIES, "family")
    for kind in kinds:
        check_choice(kind, FAULT_KINDS, "fault kind")
    return [(f, k, int(s)) for f in fams for k in kinds for s in seeds]
