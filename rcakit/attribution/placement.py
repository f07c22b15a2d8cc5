"""Placement: the resource a service runs on takes the blame for the service's slower self time.

A resource entity that serves no spans (a GPU, a disk, a host) is invisible to the trace signal of
``Method.MULTIMODAL``, so a service slowed by it takes the blame. Where the incident states which service
runs on which resource (:func:`placement`: ``Incident.placement``, or the ``resources`` of each component
in the Atlas-format ``Incident.system``, or ``uses`` interactions; never guessed from names), the service's
slower *self time* (its local added latency, not the gaps its callers wait) moves to the resource when all
of these hold:

* the resource moved: the median of its incident rows lies more than ``threshold`` robust z from its
  baseline median, either way, on any of its metrics (a degraded resource stays degraded; a spike is not a
  degradation);
* the service's *typical* execution is slower: the median of its self times over their reference medians
  is at least 1 + ``threshold`` x 10 % (the relative jitter floor of the trace judge, ``threshold`` times
  over); a degraded resource slows every unit of work run on it, a few slow calls point to the service;
* the service's load did not rise (Poisson z of its calls per minute at most ``threshold``): a resource
  that moved because its service sent it more work is loaded, not the cause.

A service on several moved resources splits its self time among them by their robust z. The rule moves
trace seconds between entities; it adds no signal and no weight.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from rcakit.attribution._data import frames_of, grid_freq
from rcakit.attribution._scores import robust_stats
from rcakit.attribution.config import AttributionConfig
from rcakit.errors import DataError
from rcakit.telemetry import Incident

if TYPE_CHECKING:
    from rcakit._types import PolarsSchema
    from rcakit.attribution._run import IncidentLike
    from rcakit.attribution.multimodal import EntityRow

__all__ = ["PLACEMENT_COLUMNS", "placement", "placement_evidence", "placement_transfer", "typical_slowdown"]

#: The relative jitter floor every trace observation is judged with (10 % of its reference median).
REL_SCALE = 0.1

#: Columns the transfer adds to the multimodal table (null where placement says nothing).
PLACEMENT_COLUMNS: PolarsSchema = {"placement_metric": pl.String, "placement_z": pl.Float64,
                                     "placement_ratio": pl.Float64, "placement_hosts": pl.String,
                                     "placement_on": pl.String}


def _num(value: float | None) -> float | None:
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def placement(incident: Incident) -> dict[str, tuple[str, ...]]:
    """Resource entity -> the services that run on it, from what the incident states explicitly.

    Read from ``incident.placement`` (``{service: (resource, ...)}``), else from ``incident.system``:
    the Atlas trace file's ``resources`` per component (the shape :mod:`rcakit.sim` writes: ``{"trace":
    {"request.Client.ModelInference_2": {"resources": {"GPU_2": ...}}}}``) or an rcakit system model's
    ``uses`` interactions. Never guessed from names; empty when the incident says nothing.
    """
    hosts: dict[str, list[str]] = {}

    def add(service: object, resource: object) -> None:
        service, resource = str(service), str(resource)
        if service and resource and service != resource and service not in hosts.setdefault(resource, []):
            hosts[resource].append(service)

    given: dict[str, tuple[str, ...]] = getattr(incident, "placement", None) or {}
    if given:
        for service, resources in given.items():
            for resource in resources:
                add(service, resource)
        return {r: tuple(s) for r, s in hosts.items()}
    system = getattr(incident, "system", None)
    if not isinstance(system, dict):
        return {}
    trace = system.get("trace")
    if isinstance(trace, dict):
        for key, spec in trace.items():
            if isinstance(spec, dict) and isinstance(spec.get("resources"), dict):
                for resource in spec["resources"]:
                    add(str(key).split(".")[-1], resource)
    for inter in system.get("interactions") or ():
        if isinstance(inter, dict) and inter.get("kind") == "uses":
            add(inter.get("source"), inter.get("target"))
    return {r: tuple(s) for r, s in hosts.items()}


def _resource_change(incident: Incident, resources: list[str], cfg: AttributionConfig) -> pl.DataFrame | None:
    """Per resource entity: its metric that moved most against the baseline, by the *median* of the incident
    rows (a sustained change such as a lowered clock, not one spike): robust z (signed) and the ratio."""
    metrics = incident.telemetry.metrics
    if metrics.height == 0 or not resources:
        return None
    pairs = metrics.filter(pl.col("entity").is_in(resources)).select("entity", "metric").unique()
    nodes = sorted(f"{e}:{m}" for e, m in pairs.iter_rows())
    if not nodes:
        return None
    try:
        base, inc = frames_of(incident, nodes, freq=grid_freq(incident, cfg.freq), agg=cfg.agg)
    except DataError:  # too few baseline rows: nothing to judge a resource against
        return None
    center, scale = robust_stats(base)
    level = inc.median(axis=0, skipna=True)
    z = ((level - center) / scale).replace([np.inf, -np.inf], np.nan).fillna(0.0)
    rows = []
    for node in inc.columns:
        entity, _, metric = str(node).partition(":")
        c, v = float(center.get(node, np.nan)), float(level.get(node, np.nan))
        ratio = v / c if math.isfinite(v) and math.isfinite(c) and abs(c) > 1e-12 else None
        rows.append((entity, metric, float(z.get(node, 0.0)), ratio))
    frame = pl.DataFrame(rows, schema={"entity": pl.String, "placement_metric": pl.String, "placement_z": pl.Float64,
                                       "placement_ratio": pl.Float64}, orient="row")
    return (frame.sort(pl.col("placement_z").abs(), descending=True).group_by("entity", maintain_order=True)
            .first())


def typical_slowdown(threshold: float) -> float:
    """The median self-time ratio above which a service's *typical* execution is slower: ``threshold`` times the
    relative jitter floor (``REL_SCALE``, 10 %) every trace observation is judged with (1.3 at threshold 3)."""
    return 1.0 + threshold * REL_SCALE


def placement_transfer(incident: IncidentLike, table: pl.DataFrame, cfg: AttributionConfig,
                        notes: list[str]) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]]]:
    """Columns ``trace_credit_s`` (trace seconds after the transfer), ``placement_metric``/``_z``/``_ratio``
    (resources), ``placement_hosts`` (resource: the services whose time it took) and ``placement_on``
    (service: the resources its time went to)."""
    out = table.with_columns(pl.col("trace_added_s").fill_null(0.0).alias("trace_credit_s"),
                             *[pl.lit(None, dtype=t).alias(c) for c, t in PLACEMENT_COLUMNS.items()])
    if not isinstance(incident, Incident) or not cfg.multimodal.placement:
        return out, {}  # no placement without an Incident (frames carry no system description)
    hosts = placement(incident)
    if not hosts:
        return out, {}
    spans = incident.telemetry.spans
    traced = set(spans.get_column("entity").unique().to_list()) if spans.height else set()
    resources = sorted(r for r in hosts if r not in traced)
    change = _resource_change(incident, resources, cfg)
    if change is None or change.height == 0:
        notes.append("placement known but no metric of a resource entity: no resource took its services' time")
        return out, hosts
    out = out.drop("placement_metric", "placement_z", "placement_ratio").join(change, on="entity", how="left")
    moved = {e: (m, float(z)) for e, m, z, _ in change.iter_rows() if abs(float(z)) > cfg.threshold}
    self_s = {e: float(v or 0.0) for e, v in out.select("entity", "trace_self_added_s").iter_rows()}
    typical = typical_slowdown(cfg.threshold)
    explained = {e for e, ratio, load in out.select("entity", "trace_self_ratio", "trace_load_z").iter_rows()
                 if ratio is not None and ratio >= typical and (load or 0.0) <= cfg.threshold}
    served: dict[str, list[str]] = {}
    for resource in moved:
        for service in hosts[resource]:
            if self_s.get(service, 0.0) > 0 and service in explained:
                served.setdefault(service, []).append(resource)
    if not served:
        return out, hosts
    delta: dict[str, float] = {}
    on: dict[str, list[str]] = {}
    took: dict[str, list[str]] = {}
    for service, resources_of in served.items():
        weight = sum(abs(moved[r][1]) for r in resources_of)
        delta[service] = delta.get(service, 0.0) - self_s[service]
        on[service] = resources_of
        for resource in resources_of:
            delta[resource] = delta.get(resource, 0.0) + self_s[service] * abs(moved[resource][1]) / weight
            took.setdefault(resource, []).append(service)
    frame = pl.DataFrame({"entity": list(delta), "_delta": list(delta.values()),
                          "_hosts": [", ".join(took.get(e, [])) or None for e in delta],
                          "_on": [", ".join(on.get(e, [])) or None for e in delta]},
                         schema={"entity": pl.String, "_delta": pl.Float64, "_hosts": pl.String, "_on": pl.String})
    notes.append("placement: " + "; ".join(f"{', '.join(v)} -> {k}" for k, v in took.items())
                 + " (self time of a service credited to the resource it runs on, whose metrics moved)")
    return out.join(frame, on="entity", how="left").with_columns(
        (pl.col("trace_credit_s") + pl.col("_delta").fill_null(0.0)).clip(lower_bound=0.0).alias("trace_credit_s"),
        pl.col("_hosts").alias("placement_hosts"), pl.col("_on").alias("placement_on"),
    ).drop("_delta", "_hosts", "_on"), hosts


def _moved_text(row: EntityRow) -> str:
    """``GPU_2:utilization up 2.1x (robust z 20)`` for a resource row."""
    z, ratio = _num(row.get("placement_z")) or 0.0, _num(row.get("placement_ratio"))
    way = "up" if z > 0 else "down"
    size = ""
    if ratio is not None and ratio > 0:
        size = f" {max(ratio, 1 / ratio):.1f}x"
    return f"{row['entity']}:{row.get('placement_metric')} {way}{size} (robust z {abs(z):.0f} against the baseline)"


def placement_evidence(row: EntityRow, rows: dict[str, EntityRow], hosts: dict[str, tuple[str, ...]],
                        runs_on: dict[str, list[str]], threshold: float) -> list[str]:
    """What placement says about one entity: a resource that took its services' time, or a service whose time
    went to (or stayed away from) the resource it runs on."""
    out: list[str] = []
    entity = row["entity"]
    if row.get("placement_hosts"):
        parts = []
        for service in str(row["placement_hosts"]).split(", "):
            srow = rows.get(service, {})
            ratio, added = _num(srow.get("trace_self_ratio")), _num(srow.get("trace_self_added_s")) or 0.0
            rose = f" rose {ratio:.1f}x" if ratio is not None else " rose"
            parts.append(f"{service}, whose self time{rose} ({added:.1f} s added)")
        out.append(f"{_moved_text(row)}; hosts {', '.join(parts)}: that time is credited to {entity}, "
                   f"{100 * float(row.get('trace_share') or 0.0):.0f} % of the incident's added latency")
    elif entity in hosts and row.get("placement_metric"):
        out.append(f"{_moved_text(row)}; hosts {', '.join(hosts[entity])}"
                   + ("" if abs(_num(row.get("placement_z")) or 0.0) > threshold else
                      ": within its baseline, so it takes none of their time"))
    if row.get("placement_on"):
        out.append(f"runs on {row['placement_on']}, whose metrics moved: its slower self time is credited there")
    elif entity in runs_on and float(row.get("trace_share") or 0.0) >= 0.1:
        normal = [r for r in runs_on[entity] if abs(_num(rows.get(r, {}).get("placement_z")) or 0.0) <= threshold]
        load_z, load = _num(row.get("trace_load_z")) or 0.0, _num(row.get("trace_load_ratio"))
        ratio = _num(row.get("trace_self_ratio"))
        if normal:
            out.append(f"runs on {', '.join(normal)}, whose metrics stayed within the baseline: its slower self "
                       "time stays its own")
        elif load_z > threshold:
            out.append(f"runs on {', '.join(runs_on[entity])}, which moved, but it served "
                       f"{'more' if load is None else f'{load:.1f}x as many'} calls per minute as in the reference: "
                       "the resource is loaded, not the cause, and its slower self time stays its own")
        elif ratio is not None and ratio < typical_slowdown(threshold):
            out.append(f"runs on {', '.join(runs_on[entity])}, which moved, but its typical execution took only "
                       f"{ratio:.2f}x the reference (a degraded resource slows every execution; a few slow ones point "
                       "to the service): its slower self time stays its own")
    return out
