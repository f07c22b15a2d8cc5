"""Fault type of a root-cause entity (TAMO's T3 idea) from which of its metrics moved, by what they mean.

A rule-based first version on metric names: each metric of the entity is put in a family by its name
(cpu, memory, network delay, error or exception, configuration); the family whose metrics are most
anomalous against the baseline decides, except that a saturated resource (cpu, memory) or a changed
configuration wins (see :func:`classify_fault`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rcakit.attribution._data import frames_of
from rcakit.attribution._scores import robust_stats
from rcakit.errors import DataError
from rcakit.telemetry import Incident

__all__ = ["FAMILIES", "FaultGuess", "classify_fault", "metric_family"]

# family -> (fault type reported, name patterns); checked in this order when naming a metric's family.
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "configuration": ("configuration", (r"config", r"batch", r"param", r"replica", r"limit", r"version")),
    "error": ("error", (r"error", r"exception", r"fail", r"5\d\d", r"success", r"availability", r"status",
                        r"crash", r"restart")),
    "cpu": ("cpu_contention", (r"cpu", r"syscall", r"load", r"throttl")),
    "memory": ("memory", (r"mem", r"rss", r"heap", r"\bgc\b", r"oom", r"swap")),
    "network": ("network_delay", (r"network", r"net_", r"latency", r"delay", r"rtt", r"duration", r"tcp",
                                  r"p9\d", r"p50", r"response")),
}


def metric_family(metric: str) -> str | None:
    """The family of a metric name (``"CPU"`` -> ``"cpu"``, ``"latency_p90"`` -> ``"network"``), or None."""
    name = metric.lower()
    for family, (_, patterns) in FAMILIES.items():
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

    def to_dict(self) -> dict[str, Any]:
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

    The family with the strongest anomaly wins, except that a cpu or memory anomaly of ``saturation``
    robust z or more wins anyway (contention slows every call, so latency can move even more), and a
    configuration change wins whenever it moved.
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
        base, inc = base[nodes], inc.reindex(columns=nodes)
    center, scale = robust_stats(base)
    z = ((inc - center) / scale).abs().replace([float("inf")], 0.0)
    strength = z.quantile(0.75).fillna(0.0) if len(z.index) > 3 else z.max().fillna(0.0)
    evidence: dict[str, float] = {}
    for node, value in strength.items():
        family = metric_family(str(node).split(":", 1)[-1])
        if family is not None:
            evidence[family] = max(evidence.get(family, 0.0), float(value))
    top = sorted(((str(n), float(v)) for n, v in strength.items()), key=lambda t: -t[1])[:5]
    strongest = max(evidence.values(), default=0.0)
    if strongest <= threshold:
        return FaultGuess(entity, "unknown", 0.0, evidence, top)
    ranked = sorted(evidence.items(), key=lambda kv: -kv[1])
    choice = ranked[0][0]
    if evidence.get("configuration", 0.0) > threshold:
        choice = "configuration"  # a changed setting is a discrete event: it explains what follows
    else:
        saturated = [f for f in ("cpu", "memory") if evidence.get(f, 0.0) >= saturation]
        if saturated:
            choice = max(saturated, key=lambda f: evidence[f])
    runner_up = next((v for f, v in ranked if f != choice), 0.0)
    confidence = float(evidence[choice] / (evidence[choice] + runner_up + 1e-9))
    return FaultGuess(entity, FAMILIES[choice][0], confidence, evidence, top)
