"""``simulate`` and ``make_incident``: telemetry and incidents from the model-serving simulator."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rcakit.errors import DataError
from rcakit.sim._emit import build_logs, build_metrics, build_spans
from rcakit.sim._engine import run
from rcakit.sim.faults import Fault
from rcakit.sim.topology import Topology
from rcakit.sim.truth import system_description, true_graph
from rcakit.telemetry import GroundTruth, Incident, Telemetry, TimeWindow
from rcakit.telemetry.window import parse_duration, to_utc

if TYPE_CHECKING:
    from rcakit._types import DurationLike, TimeLike

__all__ = ["DEFAULT_START", "make_incident", "simulate", "write_otlp"]

DEFAULT_START = "2025-01-06T09:00:00Z"


def _seconds(value: DurationLike, what: str) -> float:
    try:
        return parse_duration(value).total_seconds()
    except (DataError, TypeError) as exc:
        raise DataError(f"{what}: {exc}", hint="Give seconds or a duration such as '30min'") from exc


def _check(topology: Topology, faults: Sequence[Fault], rate: float, seed: int) -> None:
    if not isinstance(topology, Topology):
        raise TypeError(f"topology must be a rcakit.sim.Topology (Topology.small() ...), got {type(topology).__name__}")
    if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
        raise DataError(f"rate must be a positive number of requests per second, got {rate!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}")
    for fault in faults:
        if not isinstance(fault, Fault):
            raise TypeError(f"faults must be rcakit.sim Fault objects, got {type(fault).__name__}")
        fault.validate(topology)


def simulate(
    topology: Topology,
    *,
    duration: DurationLike = "1h",
    rate: float | None = None,
    faults: Iterable[Fault] = (),
    seed: int = 0,
    step: DurationLike = "10s",
    trace_sample: int | None = 20,
    logs: bool = True,
    hide: Iterable[str] = ("power",),
    start: TimeLike = DEFAULT_START,
    otlp: str | Path | None = None,
) -> Telemetry:
    """Simulate the model-serving system and return its metrics, logs and traces.

    ``duration`` and ``step`` are seconds or duration strings; ``rate`` is requests per second
    (default :meth:`Topology.default_rate`); fault times are seconds from ``start``. Metrics are on a
    regular grid of ``step``. One request in ``trace_sample`` is traced (head sampling by request
    number; ``None`` or 0 for no traces), and only traced requests write per-request log lines.
    ``hide`` drops metrics (``"power"``) or nodes (``"GPU_0:power"``) to stand for unobserved ones.
    The same arguments and ``seed`` give the same telemetry. ``otlp`` also writes it as OTLP/JSON
    Lines to that path (see :func:`write_otlp`).
    """
    faults = tuple(faults)
    if not isinstance(topology, Topology):
        raise TypeError(f"topology must be a rcakit.sim.Topology (Topology.small() ...), got {type(topology).__name__}")
    rate = topology.default_rate() if rate is None else rate
    _check(topology, faults, rate, seed)
    total = _seconds(duration, "duration")
    step_s = _seconds(step, "step")
    if step_s > total:
        raise DataError(f"step {step_s:g} s is longer than the duration {total:g} s", hint="Use a shorter step")
    if trace_sample is not None and (not isinstance(trace_sample, int) or trace_sample < 0):
        raise DataError(f"trace_sample must be a positive integer (trace 1 request in N) or None, got {trace_sample!r}")
    t0 = to_utc(start)
    result = run(topology, duration=total, rate=float(rate), faults=faults, seed=seed)
    noise = np.random.Generator(np.random.PCG64([seed, 1]))
    hidden = tuple(hide)
    metrics = build_metrics(result, list(faults), start=t0, step=step_s, hide=hidden, rng=noise)
    spans = build_spans(result, start=t0, sample=trace_sample or 0, seed=seed)
    log_frame = (build_logs(result, list(faults), None, start=t0, step=step_s, sample=trace_sample or 0, seed=seed)
                 if logs else None)
    telemetry = Telemetry(metrics, log_frame, spans, source=f"rcakit.sim {topology.name} seed={seed}", validated=True)
    if otlp is not None:
        write_otlp(telemetry, otlp)
    return telemetry


def make_incident(
    topology: Topology,
    fault: Fault | Sequence[Fault],
    *,
    seed: int = 0,
    baseline: DurationLike = "30min",
    after: DurationLike = 0,
    rate: float | None = None,
    step: DurationLike = "10s",
    trace_sample: int | None = None,
    logs: bool = True,
    hide: Iterable[str] = ("power",),
    start: TimeLike = DEFAULT_START,
    name: str | None = None,
    alarm: str = "Client:latency",
) -> Incident:
    """One incident with ground truth: ``baseline`` of normal operation, then ``fault``, then ``after``.

    The fault's own ``start`` is ignored; it is placed right after the baseline window, and the
    incident window is the fault window. The alarm is ``Client:latency`` unless ``alarm`` names
    another node (``Client:error_rate`` suits an error burst that spare GPUs absorb); the truth holds the fault's
    root-cause nodes and entity, its type, and the true graph (with hidden nodes, marked
    ``observed=False``); ``system`` holds the Atlas-format description.

    ``fault`` may be a list of faults injected at the same time (several simultaneous root causes):
    all start right after the baseline, the incident window runs until the longest ends, and the
    truth holds every fault's entity and nodes (``fault_type`` joins their types with ``+``).
    """
    faults = [fault] if isinstance(fault, Fault) else list(fault)
    if not faults:
        raise DataError("make_incident needs at least one fault", hint="Pass a Fault or a list of Faults")
    for one in faults:
        if not isinstance(one, Fault):
            raise TypeError(f"fault must be a rcakit.sim Fault or a list of them, got {type(one).__name__}")
    base_s = _seconds(baseline, "baseline")
    after_s = 0.0 if after in (0, None) else _seconds(after, "after")
    placed_all = [_replace_start(one, base_s) for one in faults]
    placed = max(placed_all, key=lambda f: f.end)
    total = base_s + placed.duration + after_s
    hidden = tuple(hide)
    telemetry = simulate(topology, duration=total, rate=rate, faults=tuple(placed_all), seed=seed, step=step,
                         trace_sample=trace_sample, logs=logs, hide=hidden, start=start)
    t0 = to_utc(start)
    graph = true_graph(topology)
    hidden_nodes = sorted(n for n in graph.nodes if any(h == n or h == n.split(":", 1)[1] for h in hidden))
    for node in hidden_nodes:
        graph.nodes[node]["observed"] = False
    causes = tuple(dict.fromkeys(c for one in placed_all for c in one.root_cause_nodes(topology)))
    unobserved = [c for c in causes if c in hidden_nodes]
    notes = "; ".join(one.describe() for one in placed_all)
    if unobserved:
        notes += f"; the root-cause node {', '.join(unobserved)} is not observed (hidden)"
    fault_type = "+".join(one.fault_type for one in placed_all)
    truth = GroundTruth(root_cause_entities=tuple(dict.fromkeys(one.target for one in placed_all)),
                        root_cause_nodes=causes, fault_type=fault_type, graph=graph, notes=notes)
    actual_rate = topology.default_rate() if rate is None else rate
    return Incident(
        telemetry=telemetry,
        baseline_window=TimeWindow(t0, t0 + timedelta(seconds=base_s)),
        incident_window=TimeWindow(t0 + timedelta(seconds=base_s), t0 + timedelta(seconds=placed.end)),
        alarm=alarm,
        truth=truth,
        name=name or f"sim-{topology.name}-{fault_type}",
        description=f"Simulated model serving ({topology.name}: {topology.workers} worker(s) x "
                    f"{topology.gpus_per_worker} GPU(s), {actual_rate:g} requests/s): {notes}.",
        system=system_description(topology, hidden=hidden),
        meta={"simulator": "rcakit.sim", "topology": topology.name, "workers": topology.workers,
              "gpus_per_worker": topology.gpus_per_worker, "rate": actual_rate, "seed": seed,
              "step": _seconds(step, "step"), "trace_sample": trace_sample, "hidden_nodes": hidden_nodes,
              "fault": placed_all[0].to_dict() if len(placed_all) == 1 else [f.to_dict() for f in placed_all]},
    )


def _replace_start(fault: Fault, start: float) -> Fault:
    import copy

    placed = copy.copy(fault)
    object.__setattr__(placed, "start", float(start))
    return placed


def write_otlp(telemetry: Telemetry, path: str | Path) -> Path:
    """Write the telemetry as OTLP/JSON Lines with ``rcakit.telemetry.loaders.write_otlp_json``.

    ``rcakit.telemetry.loaders.read_otlp_json`` (or ``load``) reads the file back to the same tables.
    """
    from rcakit.telemetry.loaders import write_otlp_json

    return write_otlp_json(telemetry, path)
