"""``Method.MULTIMODAL``: a graph-free service ranking from where time and trouble arise, not where they are seen.

Each service's behaviour in the incident window is compared with a fault-free reference (Nezha, Eadro,
TAMO) through four signals (:mod:`rcakit.attribution._signals`): trace exclusive time and the gaps its
callers wait for it (:mod:`rcakit.detect.segments`), the spans that fail first, its new share of the
system's CPU and memory, and new or error log templates. Where the incident states which resource a
service runs on, the service's slower self time may move to that resource
(:mod:`rcakit.attribution.placement`).

Each signal becomes a share, 0..1, of what all entities show (the latency added, the rise in first-failing
spans, the system's resource usage, the new and extra error log lines); a signal no entity shows adds
nothing. Then

    score(e) = 1.0 * trace_share(e) + 1.0 * error_share(e) + 1.0 * resource_share(e) + 0.5 * log_share(e)

(``MultimodalConfig.weights``). Shares make seconds, CPU units and line counts comparable without a scale
per dataset, and reward a signal that concentrates on one entity, which is what a root cause looks like.
Logs weigh half: routine error lines are common and template novelty is a weaker location cue than time.
An incident with only some modalities is ranked on what it has, and the notes say what was skipped.
How it scores, and on which sets its choices were made, is in the README and ``python -m rcakit.bench
localize``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, cast

import pandas as pd
import polars as pl

from rcakit.attribution._run import Request
from rcakit.attribution._signals import log_signal, resource_signal, trace_signal
from rcakit.attribution.config import DEFAULT_MULTIMODAL_WEIGHTS, AttributionConfig, Method
from rcakit.attribution.placement import placement_evidence, placement_transfer
from rcakit.attribution.registry import register
from rcakit.attribution.result import Attribution, RankedCause
from rcakit.telemetry import Incident
from rcakit.telemetry.window import TimeWindow

if TYPE_CHECKING:
    from rcakit._types import JSONObject, PolarsSchema
    from rcakit.attribution._run import IncidentLike
    from rcakit.detect.logs import LogAnalysis

__all__ = ["DEFAULT_WEIGHTS", "ERROR_NODE", "LOG_NODE", "TRACE_NODE", "WAITS_SHARE", "EntityRow", "MultimodalScores",
           "multimodal_causes", "multimodal_scores", "run_multimodal", "waits_on"]

#: Weights of the per-signal shares in the entity score.
DEFAULT_WEIGHTS = DEFAULT_MULTIMODAL_WEIGHTS
_SIGNALS = tuple(DEFAULT_MULTIMODAL_WEIGHTS)
TRACE_NODE = "trace.self_time"
LOG_NODE = "log.new_or_error"
ERROR_NODE = "trace.errors"
_EMPTY: dict[str, PolarsSchema] = {
    "trace": dict.fromkeys(["trace_added_s", "trace_slow_share", "trace_observations", "trace_self_ratio",
                            "trace_self_slow_share", "trace_gap_ratio", "trace_gap_slow_share",
                            "trace_self_added_s", "trace_gap_added_s", "trace_load_ratio", "trace_load_z"],
                           pl.Float64),
    "error": dict.fromkeys(["error_spans_per_min", "error_spans_ref_per_min", "error_p", "error_raw"], pl.Float64),
    "resource": {"resource_metric": pl.String, "resource_z": pl.Float64, "resource_raw": pl.Float64,
                 "resource_rel": pl.Float64},
    "log": dict.fromkeys(["log_new_lines_per_min", "log_error_rise_per_min", "log_raw"], pl.Float64),
}


class EntityRow(TypedDict, total=False):
    """One row of :attr:`MultimodalScores.table` as ``iter_rows(named=True)`` reads it (a null cell is None);
    the placement columns exist only after :func:`rcakit.attribution.placement.placement_transfer`."""

    entity: str
    score: float
    top_signal: str
    trace_added_s: float | None
    trace_slow_share: float | None
    trace_observations: float | None
    trace_self_ratio: float | None
    trace_self_slow_share: float | None
    trace_gap_ratio: float | None
    trace_gap_slow_share: float | None
    trace_self_added_s: float | None
    trace_gap_added_s: float | None
    trace_load_ratio: float | None
    trace_load_z: float | None
    trace_credit_s: float | None
    trace_share: float | None
    error_spans_per_min: float | None
    error_spans_ref_per_min: float | None
    error_p: float | None
    error_raw: float | None
    error_share: float | None
    resource_metric: str | None
    resource_z: float | None
    resource_raw: float | None
    resource_rel: float | None
    resource_share: float | None
    log_new_lines_per_min: float | None
    log_error_rise_per_min: float | None
    log_raw: float | None
    log_share: float | None
    placement_metric: str | None
    placement_z: float | None
    placement_ratio: float | None
    placement_hosts: str | None
    placement_on: str | None


@dataclass
class MultimodalScores:
    """Per-entity signals, shares, scores and readable evidence of one incident.

    ``table`` (polars): entity, score, trace_added_s, trace_slow_share, trace_observations,
    trace_self_ratio, trace_gap_ratio, error_spans_per_min, resource_z, resource_metric,
    log_new_lines_per_min, log_error_rise_per_min, trace_share, error_share, resource_share, log_share,
    top_signal; for placement (see the module docstring): trace_load_ratio, trace_load_z (calls served per
    minute against the reference), trace_credit_s (added latency after crediting services' self time to the
    resources they run on; trace_share is its share), placement_metric, placement_z, placement_ratio (a
    resource's most moved metric), placement_hosts (a resource: the services whose time it took),
    placement_on (a service: the resources its time went to). ``evidence``: entity -> sentences.
    ``signals``: which signals ran. ``notes``: what was skipped and why. ``placement``: resource -> the
    services the incident says run on it.
    """

    table: pl.DataFrame
    evidence: dict[str, list[str]]
    signals: list[str]
    notes: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    reference: TimeWindow | None = None
    placement: dict[str, tuple[str, ...]] = field(default_factory=dict)
    waits_on: dict[str, str] = field(default_factory=dict)

    def ranking(self) -> list[tuple[str, float]]:
        return [(r["entity"], float(r["score"])) for r in self.table.iter_rows(named=True)]

    def node_of(self, entity: str) -> str:
        """``entity:signal`` naming the entity's strongest signal (a real metric node for resources)."""
        row = self.table.filter(pl.col("entity") == entity)
        if row.height == 0:
            return f"{entity}:{TRACE_NODE}"
        top = row.get_column("top_signal")[0]
        if top == "resource" and row.get_column("resource_metric")[0]:
            return f"{entity}:{row.get_column('resource_metric')[0]}"
        if top == "trace" and "placement_hosts" in row.columns and row.get_column("placement_hosts")[0]:
            return f"{entity}:{row.get_column('placement_metric')[0]}"
        return f"{entity}:{ {'log': LOG_NODE, 'error': ERROR_NODE}.get(str(top), TRACE_NODE)}"

    def to_frame(self) -> pd.DataFrame:
        return self.table.to_pandas()

    def __repr__(self) -> str:
        top = ", ".join(f"{e}={v:.3g}" for e, v in self.ranking()[:3])
        return f"MultimodalScores(signals={self.signals}, {self.table.height} entities: {top})"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for i, row in enumerate(self.table.head(10).iter_rows(named=True)):
            sentences = "<br>".join(esc(t) for t in self.evidence.get(row["entity"], []))
            rows.append(f"<tr><td>{i + 1}</td><td>{esc(row['entity'])}</td><td>{row['score']:.3g}</td>"
                        + "".join(f"<td>{float(row[f'{k}_share'] or 0):.2f}</td>" for k in _SIGNALS)
                        + f"<td style='text-align:left'>{sentences}</td></tr>")
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        weights = " + ".join(f"{w:g} &times; {esc(k)}" for k, w in self.weights.items())
        return (f"<div><b>Multimodal scores</b> (signals: {esc(', '.join(self.signals) or 'none')}; score = "
                f"{weights})<table><tr><th>#</th><th>entity</th><th>score</th>"
                + "".join(f"<th>{k}</th>" for k in _SIGNALS) + "<th>evidence</th></tr>"
                f"{''.join(rows)}</table>"
                f"{'<ul>' + notes + '</ul>' if notes else ''}</div>")

    def to_dict(self) -> JSONObject:
        return {"table": self.table.to_dicts(), "evidence": dict(self.evidence), "signals": list(self.signals),
                "notes": list(self.notes), "weights": dict(self.weights),
                "reference": self.reference.to_dict() if self.reference else None,
                "placement": {k: list(v) for k, v in self.placement.items()}}


def _share(frame: pl.DataFrame, column: str) -> pl.Expr:
    total = float(frame.get_column(column).fill_null(0.0).sum()) if column in frame.columns else 0.0
    if total <= 0 or not math.isfinite(total):
        return pl.lit(0.0)
    return pl.col(column).fill_null(0.0) / total


def multimodal_scores(incident: IncidentLike, config: AttributionConfig | None = None, *,
                      logs: LogAnalysis | None = None) -> MultimodalScores:
    """Per-entity multimodal scores of ``incident`` (an Incident, or a (baseline, incident) pair of frames).

    ``logs``: a finished :func:`rcakit.detect.analyze_logs` of the incident, to reuse instead of mining
    the logs again. See the module docstring for the signals and how they combine.
    """
    cfg = config or AttributionConfig()
    weights = dict(cfg.multimodal.weights)
    notes: list[str] = []
    trace = errors = log = None
    reference = None
    if isinstance(incident, Incident):
        trace, errors, reference = trace_signal(incident, cfg, notes)
        log = log_signal(incident, notes, logs)
    else:
        notes.append("a pair of frames has no spans or logs: ranked on the resource metrics alone")
    parts = {"trace": trace, "error": errors, "resource": resource_signal(incident, cfg, notes), "log": log}
    signals = [name for name, part in parts.items() if part is not None and part.height]
    table, hosts = placement_transfer(incident, _joined(incident, parts), cfg, notes)
    table = _scored(table, weights)
    if not signals:
        notes.append("no signal could be computed: every entity scores 0")
    elif signals == ["resource"]:
        notes.append("ranked on the resource metrics alone (no usable spans or logs)")
    minutes = incident.incident_window.duration.total_seconds() / 60.0 if isinstance(incident, Incident) else None
    rows = {row["entity"]: cast("EntityRow", row) for row in table.iter_rows(named=True)}
    runs_on: dict[str, list[str]] = {}
    for host, services in hosts.items():
        for service in services:
            runs_on.setdefault(service, []).append(host)
    evidence = {}
    for named in table.head(max(cfg.top_k, 1)).iter_rows(named=True):
        row = cast("EntityRow", named)
        placed = placement_evidence(row, rows, hosts, runs_on, cfg.threshold)
        own = [t for t in _evidence(row, minutes) if not (placed and t == "no signal moved for this entity")]
        # a resource that took its services' time says so first: that is why it ranks where it does
        evidence[row["entity"]] = placed + own if row.get("placement_hosts") else own + placed
    # the trace signal exists for an Incident only (the isinstance check names that for the type checker)
    waits = waits_on(incident, table) if "trace" in signals and isinstance(incident, Incident) else {}
    return MultimodalScores(table=table, evidence=evidence, signals=signals, notes=notes, weights=weights,
                            reference=reference, placement=hosts, waits_on=waits)


#: A caller waits on a callee when its own added latency is at most this share of the callee's.
WAITS_SHARE = 0.5


def waits_on(incident: Incident, table: pl.DataFrame) -> dict[str, str]:
    """Caller -> the service the traces find slowest (the most added latency of all), for every caller above it
    whose rise of latency is that service's doing: those callers were slower because they waited.

    A caller in the incident's traces (calling it directly or further down) waits on it when its own added
    latency is at most :data:`WAITS_SHARE` of it. A caller that emits no spans (a load balancer, a proxy, a
    gateway without tracing) is above it only in ``Incident.call_graph`` (a service map); its own time is
    unmeasured, so it waits on the slowest service only when that service holds more than
    :data:`WAITS_SHARE` of the latency added below the caller: one slow backend of three explains a
    balancer's rise, three backends slowed alike point at the balancer itself (or its network path).
    """
    import networkx as nx

    from rcakit.detect.traces import call_counts

    window = incident.incident_window
    spans = incident.telemetry.spans.filter(pl.col("start").is_between(window.start, window.end, closed="left"))
    added = {str(e): float(v or 0.0) for e, v in table.select("entity", "trace_added_s").iter_rows()}
    if spans.height == 0 or not added:
        return {}
    slowest = max(sorted(added), key=lambda e: added[e])
    calls = nx.DiGraph(call_counts(spans).select("caller", "callee").iter_rows())
    if added[slowest] <= 0 or slowest not in calls:
        return {}
    out = {caller: slowest for caller in sorted(nx.ancestors(calls, slowest))
           if added.get(caller, 0.0) <= WAITS_SHARE * added[slowest]}
    traced = set(spans.get_column("entity").unique().to_list())
    known = nx.DiGraph(list(incident.call_graph))
    known.add_edges_from(calls.edges)
    if slowest in known:
        for caller in sorted(nx.ancestors(known, slowest) - traced - set(out)):
            below = sum(added.get(e, 0.0) for e in nx.descendants(known, caller) & traced)
            if added[slowest] > WAITS_SHARE * below:
                out[caller] = slowest
    return out


def _joined(incident: IncidentLike, parts: dict[str, pl.DataFrame | None]) -> pl.DataFrame:
    """One row per entity (any signal's, and every entity of an Incident) with every signal's columns."""
    entities: set[str] = set()
    for part in parts.values():
        if part is not None and part.height:
            entities |= set(part.get_column("entity").to_list())
    if isinstance(incident, Incident):
        entities |= set(incident.telemetry.entities())
    table = pl.DataFrame({"entity": sorted(entities)}, schema={"entity": pl.String})
    for name, part in parts.items():
        if part is not None:
            table = table.join(part, on="entity", how="left")
        else:
            table = table.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in _EMPTY[name].items()])
    return table


def _scored(table: pl.DataFrame, weights: dict[str, float]) -> pl.DataFrame:
    """The table with each signal's share, the weighted score and the strongest signal, best first."""
    table = table.with_columns(
        _share(table, "trace_credit_s").alias("trace_share"),
        _share(table, "error_raw").alias("error_share"),
        pl.col("resource_raw").fill_null(0.0).alias("resource_share"),
        _share(table, "log_raw").alias("log_share"),
    )
    weighted = [(name, weights[name] * pl.col(f"{name}_share")) for name in _SIGNALS]
    best = pl.lit("trace")
    best_value = weighted[0][1]
    for name, value in weighted[1:]:
        best = pl.when(value > best_value).then(pl.lit(name)).otherwise(best)
        best_value = pl.max_horizontal(best_value, value)
    return table.with_columns(
        pl.sum_horizontal([value for _, value in weighted]).alias("score"),
        best.alias("top_signal"),
    ).sort(["score", "trace_credit_s", "entity"], descending=[True, True, False], nulls_last=True)


def _failures_counted(row: Mapping[str, Any]) -> bool:
    """Whether the failing spans that begin at this entity passed the failing-span test (its error signal counts)."""
    return (_num(row.get("error_raw")) or 0.0) > 0


def _num(value: float | None) -> float | None:
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _evidence(row: EntityRow, minutes: float | None) -> list[str]:
    """Readable sentences for one entity row."""
    out: list[str] = []
    entity = row["entity"]
    added = _num(row.get("trace_added_s"))
    if added is not None and row.get("trace_observations") and not added > 0:
        out.append(f"traces: none of its {row['trace_observations']} span observations is slower than the reference")
    elif added is not None and row.get("trace_observations"):
        over = f" over the {minutes:.0f}-minute window" if minutes else ""
        parts = []
        self_ratio, self_slow = _num(row.get("trace_self_ratio")), _num(row.get("trace_self_slow_share"))
        if self_ratio is not None:
            parts.append(f"self time of {entity} spans {self_ratio:.1f}x the reference"
                         + (f", {100 * self_slow:.0f} % of them slow" if self_slow is not None else ""))
        gap_ratio, gap_slow = _num(row.get("trace_gap_ratio")), _num(row.get("trace_gap_slow_share"))
        if gap_ratio is not None:
            parts.append(f"callers wait {gap_ratio:.1f}x the reference gap for it"
                         + (f", {100 * gap_slow:.0f} % of calls slow" if gap_slow is not None else ""))
        text = "; ".join(parts) if parts else f"{row['trace_observations']} trace observations"
        whose = (f"credited to {row['placement_on']}, the resource it runs on" if row.get("placement_on") else
                 f"{100 * float(row.get('trace_share') or 0.0):.0f} % of the incident's")
        out.append(f"{text}; {added:.1f} s of added latency{over} ({whose})")
    failing, failing_ref = _num(row.get("error_spans_per_min")), _num(row.get("error_spans_ref_per_min"))
    if failing:
        chance = _num(row.get("error_p"))
        counted = _failures_counted(row)
        out.append(f"{failing:.1f} spans/min fail here first (no failing span below them; "
                   f"{failing_ref or 0.0:.1f}/min in the reference)"
                   + ("" if counted or chance is None else
                      f"; as many could fail by chance at the reference rate (p = {chance:.2g}): not counted"))
    z, share = _num(row.get("resource_z")), _num(row.get("resource_raw"))
    if z is not None and row.get("resource_metric"):
        metric = row["resource_metric"]
        if share:
            rel = _num(row.get("resource_rel"))
            out.append(f"{metric} rose {'' if rel is None else f'{1 + rel:.1f}x '}(robust z {z:.0f} against the "
                       f"baseline), {100 * share:.0f} % of the system's {metric} newly used by it")
        else:
            out.append(f"no CPU or memory metric above the baseline (largest: {metric}, robust z {z:.1f})")
    new, rise = _num(row.get("log_new_lines_per_min")), _num(row.get("log_error_rise_per_min"))
    if new is not None and (new > 0 or (rise or 0) > 0):
        out.append(f"{new:.1f} lines/min of log templates absent from the reference, error lines up "
                   f"{rise or 0.0:.1f}/min")
    if not out:
        out.append("no signal moved for this entity")
    return out


def multimodal_causes(scores: MultimodalScores) -> list[tuple[str, float, float]]:
    """(node, score, anomaly) per entity, best first; anomaly is the robust z of the entity's resource metric
    when that is its strongest signal, else the share of its trace observations that were slow."""
    out = []
    for row in scores.table.iter_rows(named=True):
        if row["top_signal"] == "resource":
            anomaly = float(row.get("resource_z") or 0.0)
        elif row["top_signal"] == "trace" and row.get("placement_hosts"):
            anomaly = abs(float(row.get("placement_z") or 0.0))
        else:
            anomaly = float(row.get("trace_slow_share") or 0.0)
        out.append((scores.node_of(row["entity"]), float(row["score"]), anomaly))
    return out


@register(Method.MULTIMODAL)
def run_multimodal(req: Request) -> Attribution:
    """Entity-level ranking: one cause per entity naming its strongest signal, and its evidence in the notes."""
    req.token.raise_if_cancelled()
    scores = multimodal_scores(req.incident, req.cfg, logs=req.logs)
    req.token.raise_if_cancelled()
    causes = [RankedCause(node=node, score=score, anomaly=anomaly) for node, score, anomaly in
              multimodal_causes(scores)]
    notes = [f"signals used: {', '.join(scores.signals) or 'none'}; score = "
             + " + ".join(f"{w:g} * {k}_share" for k, w in scores.weights.items())]
    if scores.reference is not None:
        notes.append(f"reference window for traces and logs: {scores.reference}")
    notes.extend(scores.notes)
    for entity, sentences in scores.evidence.items():
        notes.append(f"evidence {entity}: " + "; ".join(sentences))
    credited = {str(row["entity"]): str(row["placement_on"]).split(",")[0].strip()
                for row in scores.table.iter_rows(named=True) if row.get("placement_on")}
    failing = {str(row["entity"]) for row in scores.table.iter_rows(named=True) if _failures_counted(row)}
    result = req.finish(Attribution(method=Method.MULTIMODAL.value, alarm=req.alarm, causes=causes, stage="final",
                                    final=True, elapsed=0.0, incident=req.name, notes=notes, credited_to=credited,
                                    waits_on=dict(scores.waits_on),
                                    fails_on={c: s for c, s in scores.waits_on.items() if c not in failing}))
    req.emit(result)
    return result
