"""Fault type of a root-cause entity (TAMO's T3 idea) from which of its metrics moved, by what they mean.

A rule-based classifier on metric names: each metric of the entity is put in a family by its name
(configuration, error, GPU, workload, cpu, memory, disk, packet loss, network delay; see :data:`FAMILIES`); the family
whose metrics are most anomalous against the baseline decides, except for two kinds of evidence that
explain what follows them and so win (see :func:`classify_fault`): a changed setting (a configuration
metric such as a max batch size that was constant in the baseline) and a saturated cpu or memory.
A workload metric counts only when it went up (more incoming work).

The GPU family (``gpu_throttle``): metrics named for GPUs, power, clocks or throttling
(``GPU_0:power``, ``gpu_clock_mhz``), and utilization, temperature or memory metrics of an entity
whose name says it is a GPU (``GPU_0:utilization``), as the simulator's GpuThrottle produces.

The thresholds (z 3 for "moved", 100 for "saturated") were set by reasoning and on Nezha's faults; the
GPU, workload and settings rules from the metric names the model-serving simulator documents; the disk and
packet-loss families, errors yielding to a resource that rose with them, latency as a delay's evidence
only when nothing that names a cause moved, and a pool that filled alone as a lowered limit, from the
misses on the simulator families' tuning seeds. Where
each is scored, and on which sets it was tuned, is in the README (``python -m rcakit.bench localize``).
Labels of other vocabularies map to these with :func:`canonical_fault_type` (``network_slowdown`` ->
``network_delay``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from rcakit.attribution._data import frames_of
from rcakit.attribution._scores import robust_stats
from rcakit.errors import DataError
from rcakit.telemetry import Incident

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["FAMILIES", "FAULT_TYPE_ALIASES", "FaultGuess", "canonical_fault_type", "classify_fault",
           "metric_family"]

# family -> (fault type reported, name patterns); checked in this order when naming a metric's family.
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "configuration": ("configuration", (r"config", r"max_batch", r"batch_size", r"param", r"replica",
                                        r"limit", r"version", r"setting")),
    "error": ("error", (r"error", r"exception", r"fail", r"5\d\d", r"success", r"availability", r"status",
                        r"crash", r"restart")),
    "gpu": ("gpu_throttle", (r"gpu", r"power", r"watt", r"clock", r"nvml", r"\bsm_")),
    "workload": ("workload_spike", (r"request_rate", r"requests", r"workload", r"qps", r"\brps\b", r"arrival",
                                    r"incoming", r"traffic")),
    "cpu": ("cpu_contention", (r"cpu", r"syscall", r"load", r"throttl")),
    "memory": ("memory", (r"mem", r"rss", r"heap", r"\bgc\b", r"oom", r"swap")),
    "disk": ("disk", (r"disk", r"iops", r"_io\b", r"\bio_", r"filesystem", r"\bfs_", r"\bblk")),
    "packet_loss": ("packet_loss", (r"retransmi", r"packet_?loss", r"pkt_?loss", r"packets?_dropped")),
    "network": ("network_delay", (r"network", r"net_", r"\brtt\b", r"_rtt\b", r"tcp")),
    # a pool of workers, threads or connections filling up: a cause only when no more work and no slower
    # resource filled it (then fewer slots did: a lowered limit); see classify_fault
    "pool": ("configuration", (r"pool", r"in_?use", r"saturat", r"busy_(workers|threads)",
                               r"active_(workers|threads|connections)", r"(workers|threads|connections)_(busy|active)")),
    # a slower response is what every fault looks like from outside: evidence of a delay only when no
    # family that names a cause moved (see classify_fault)
    "latency": ("network_delay", (r"latency", r"delay", r"duration", r"p9\d", r"p50", r"response")),
}
#: Families that count only when their metrics rose: more incoming work, more use of a resource, a slower or
#: lossier path (a pod waiting on the network uses *less* cpu).
_RISING = ("workload", "cpu", "memory", "disk", "packet_loss", "network", "pool", "latency")
#: Families of a resource or a path that, when exhausted or degraded, make requests fail: errors that move with
#: one of them are its effect.
_EXHAUSTIBLE = ("cpu", "memory", "disk", "packet_loss", "network", "gpu")
#: Families whose rise fills a pool: more work, or a resource or path that got slower (each request holds its
#: slot longer). A pool that filled while none of them rose lost slots.
_FILLS_POOLS = ("workload", *_EXHAUSTIBLE)
# metrics of an entity named like a GPU that belong to the GPU family whatever their name
_GPU_ENTITY = re.compile(r"gpu", re.IGNORECASE)
_GPU_METRICS = (r"util", r"throttl", r"temp", r"mem", r"busy", r"occupancy")

#: Fault-type labels of other vocabularies (the simulator, Nezha, common names) -> the classifier's.
FAULT_TYPE_ALIASES: dict[str, str] = {
    "network_slowdown": "network_delay", "network_delay": "network_delay", "net_delay": "network_delay",
    "batch_size_misconfig": "configuration", "misconfiguration": "configuration", "config": "configuration",
    "config_change": "configuration", "configuration_change": "configuration",
    "error_burst": "error", "exception": "error", "return": "error", "errors": "error",
    "gpu_throttle": "gpu_throttle", "gpu_throttling": "gpu_throttle",
    "workload_spike": "workload_spike", "load_spike": "workload_spike",
    "cpu_contention": "cpu_contention", "cpu_consumed": "cpu_contention", "cpu": "cpu_contention",
    "memory": "memory", "memory_leak": "memory", "mem": "memory",
    "disk": "disk", "disk_io": "disk", "io": "disk",
    "packet_loss": "packet_loss", "packet_drop": "packet_loss",
    "error_injection": "error", "dependency_outage": "error", "outage": "error",
}


def canonical_fault_type(label: str | None) -> str | None:
    """A fault-type label in the classifier's words (``"network_slowdown"`` -> ``"network_delay"``); others as given."""
    if label is None:
        return None
    return FAULT_TYPE_ALIASES.get(str(label).lower(), str(label).lower())


def metric_family(metric: str, entity: str = "") -> str | None:
    """The family of a metric (``"CPU"`` -> ``"cpu"``, ``"latency_p90"`` -> ``"network"``), or None.

    ``entity`` lets a GPU's plain metrics count as GPU metrics (``metric_family("utilization", "GPU_0")``
    -> ``"gpu"``; without the entity, ``"utilization"`` has no family).
    """
    name = metric.lower()
    for family, (_, patterns) in FAMILIES.items():
        if family == "gpu" and _GPU_ENTITY.search(entity) and any(re.search(p, name) for p in _GPU_METRICS):
            return family
        if any(re.search(p, name) for p in patterns):
            return family
    return None


@dataclass
class FaultGuess:
    """The guessed fault type of one entity and the evidence: the strongest anomaly per family."""

    entity: str
    fault_type: str
    confidence: float
    evidence: dict[str, float] = field(default_factory=dict)
    top_metrics: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> JSONObject:
        return {"entity": self.entity, "fault_type": self.fault_type, "confidence": self.confidence,
                "evidence": dict(self.evidence), "top_metrics": [list(t) for t in self.top_metrics]}

    def __str__(self) -> str:
        return f"{self.fault_type} ({self.confidence:.0%})"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(f)}</td><td>{z:.2f}</td></tr>" for f, z in self.evidence.items())
        return (f"<b>{html.escape(self.entity)}</b>: {html.escape(self.fault_type)} "
                f"({self.confidence:.0%})<table>{rows}</table>")


def classify_fault(incident: Incident | tuple[pd.DataFrame, pd.DataFrame], entity: str, *,
                   threshold: float = 3.0, saturation: float = 100.0) -> FaultGuess:
    """Guess the fault type of ``entity`` in ``incident`` (an Incident or a (baseline, incident) pair).

    Each metric's strength is its robust z against the baseline (the 75th percentile over the incident
    rows); a family's evidence is its strongest metric. The family with the strongest evidence wins,
    with two exceptions, checked in this order, for causes that explain what follows them:

    1. a **changed setting** wins whenever it moved by more than ``threshold``: a configuration metric
       counts only when it took at most three distinct values in the baseline (a setting such as
       ``max_batch_size``; a measured ``execution_batch_size`` is no setting and counts for nothing);
    2. a cpu or memory anomaly of ``saturation`` robust z or more wins (contention slows every call,
       so latency can move even more).

    3. errors yield to a resource or path family that moved too (cpu, memory, disk, packet loss, network,
       GPU): an exhausted resource makes requests fail, not the other way round; failing that, to a pool
       that filled alone (see 4: its requests were rejected).
    4. a pool of workers, threads or connections that filled (``pool_utilization``, ``connections_in_use``)
       yields to more work or a resource or path that rose with it (each request then holds its slot
       longer); a pool that filled alone lost slots, a lowered limit, reported as ``configuration``.

    Latency metrics (``latency``, ``p99``, ``duration``) move with every fault: they count as evidence of a
    delay (``network_delay``) only when no family that names a cause moved by more than ``threshold``.

    A workload, cpu, memory, disk, packet-loss, network or latency metric counts only when it went *up* (more
    incoming work, more use of a resource, a slower path; one that dropped is an effect of a slowdown). It does not win by rule: a version where any rise of the workload won scored
    9/17 on Nezha (network delays raise a pod's workload, retries) and was dropped.
    Returns ``"unknown"`` when no family moved by more than ``threshold``.
    """
    if isinstance(incident, Incident):
        nodes = [n for n in incident.telemetry.select(entities=[entity]).nodes()]
        if not nodes:
            raise DataError(f"entity {entity!r} has no metrics in incident {incident.name!r}",
                            hint="Classify an entity listed by Telemetry.entities()")
        base, inc = frames_of(incident, nodes)
    else:
        base, inc = incident
        nodes = [c for c in base.columns if str(c).split(":", 1)[0] == entity]
        if not nodes:
            raise DataError(f"entity {entity!r} has no column in the baseline frame",
                            hint="Columns are named entity:metric; pass an entity that has some")
        base, inc = base[nodes], inc.reindex(columns=nodes)
    center, scale = robust_stats(base)
    signed = ((inc - center) / scale).replace([float("inf"), float("-inf")], 0.0)
    z = signed.abs()
    many = len(z.index) > 3
    strength = z.quantile(0.75).fillna(0.0) if many else z.max().fillna(0.0)
    rise = signed.clip(lower=0.0)
    strength_up = rise.quantile(0.75).fillna(0.0) if many else rise.max().fillna(0.0)
    evidence: dict[str, float] = {}
    rose: dict[str, float] = {}  # each family's strongest rise (an exhausted resource rises)
    for node, value in strength.items():
        family = metric_family(str(node).split(":", 1)[-1], entity)
        if family == "configuration" and base[node].dropna().nunique() > 3:
            continue  # a measured quantity named like a setting: not a setting
        if family in _RISING:
            value = strength_up[node]  # only more work, more use, more delay point to these causes
        if family is not None:
            evidence[family] = max(evidence.get(family, 0.0), float(value))
            rose[family] = max(rose.get(family, 0.0), float(strength_up[node]))
    top = sorted(((str(n), float(v)) for n, v in strength.items()), key=lambda t: -t[1])[:5]
    strongest = max(evidence.values(), default=0.0)
    if strongest <= threshold:
        return FaultGuess(entity, "unknown", 0.0, evidence, top)
    causes = {f: v for f, v in evidence.items() if f != "latency"}
    if max(causes.values(), default=0.0) > threshold:
        evidence = causes  # latency moves with every fault; a family that names a cause decides
    ranked = sorted(evidence.items(), key=lambda kv: -kv[1])
    choice = ranked[0][0]
    saturated = [f for f in ("cpu", "memory") if evidence.get(f, 0.0) >= saturation]
    exhausted = {f: rose[f] for f in _EXHAUSTIBLE if rose.get(f, 0.0) > threshold}
    fillers = {f: rose[f] for f in _FILLS_POOLS if rose.get(f, 0.0) > threshold}
    if evidence.get("configuration", 0.0) > threshold:
        choice = "configuration"  # a changed setting is a discrete event: it explains what follows
    elif saturated:
        choice = max(saturated, key=lambda f: evidence[f])
    elif choice == "error" and exhausted:
        choice = max(exhausted, key=lambda f: exhausted[f])  # failures follow an exhausted resource
    elif choice == "error" and rose.get("pool", 0.0) > threshold and not fillers:
        choice = "pool"  # requests rejected by a pool that filled alone
    if choice == "pool" and fillers:
        choice = max(fillers, key=lambda f: fillers[f])  # more work or a slower resource filled the pool
    runner_up = next((v for f, v in ranked if f != choice), 0.0)
    confidence = float(evidence[choice] / (evidence[choice] + runner_up + 1e-9))
    return FaultGuess(entity, FAMILIES[choice][0], confidence, evidence, top)
