"""The four signals of ``Method.MULTIMODAL``, each a per-entity table: traces, errors, resources, logs.

* **traces**: every local time and caller-side gap (:func:`rcakit.detect.trace_observations`) is judged
  against the reference window per (entity, entry operation) or (caller, callee, operation), pooled per
  entity, then over every hop, when a key has fewer than ``min_count`` reference observations. Centre m =
  median, scale s = max(1.4826 MAD, 10 % of m, 1 ms); an observation is slow when x > m + threshold * s.
  The signal is the entity's added latency: the sum of (x - m) over its slow observations.
* **errors**: the rise, per minute, of the spans that fail first (:func:`rcakit.detect.failing_spans`),
  counted only when so many failures are unlikely at the reference rate (Poisson tail below
  ``MultimodalConfig.error_alpha``).
* **resources**: an entity's own CPU and memory metrics whose peak lies more than ``threshold`` robust z
  above the baseline; what the peak adds, as a share of the system's usage of that metric.
* **logs**: lines per minute of drain3 templates the reference never showed, plus the rise of error lines.

The reference for spans and logs is :func:`rcakit.detect.reference_window`; a signal without data is
skipped and a note says why.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from rcakit.attribution._data import frames_of, grid_freq
from rcakit.attribution._scores import robust_stats
from rcakit.attribution.config import AttributionConfig
from rcakit.attribution.placement import REL_SCALE
from rcakit.detect.segments import failing_spans, trace_observations
from rcakit.telemetry import Incident
from rcakit.telemetry.window import TimeWindow

if TYPE_CHECKING:
    from rcakit.attribution._run import IncidentLike
    from rcakit.detect.logs import LogAnalysis

__all__ = ["log_signal", "observed_minutes", "reference_window", "resource_metric", "resource_signal",
           "trace_signal"]

_MAD_TO_SD = 1.4826
_MIN_SCALE_S = 1e-3


def resource_metric(metric: str) -> bool:
    """True for an entity's own CPU or memory metric (not a host-level ``node_*`` / ``host_*`` one)."""
    name = metric.lower()
    if name.startswith(("node_", "host_", "node.", "host.")):
        return False
    return "cpu" in name or "mem" in name


def _count_in(frame: pl.DataFrame, column: str, window: TimeWindow) -> int:
    if frame.height == 0:
        return 0
    return frame.filter(pl.col(column).is_between(window.start, window.end, closed="left")).height


def reference_window(incident: Incident, modality: str) -> TimeWindow:
    """The window spans or logs are compared with: the rule of :mod:`rcakit.detect` (the baseline window,
    or the declared fault-free recording ``Incident.reference_window`` when the baseline holds only stray
    rows), so that the explorer, the report and this ranking judge against the same minutes."""
    from rcakit.detect import Modality
    from rcakit.detect import reference_window as detect_reference

    return detect_reference(incident, (Modality(modality),))


def _judge(obs: pl.DataFrame, ref: pl.DataFrame, threshold: float, min_count: int) -> pl.DataFrame:
    """Incident observations with the reference centre ``m``, scale ``s`` and ``slow`` (unjudged rows dropped)."""
    def stats(keys: list[str], suffix: str) -> pl.DataFrame:
        med = pl.col("x").median()
        return ref.group_by(keys).agg(pl.len().alias("n" + suffix), med.alias("m" + suffix),
                                      ((pl.col("x") - med).abs().median() * _MAD_TO_SD).alias("s" + suffix))

    fine = stats(["kind", "key1", "key2"], "_k")
    pooled = stats(["kind", "credit"], "_e")
    hops = stats(["kind"], "_g").filter(pl.col("kind") == "gap")
    joined = (obs.join(fine, on=["kind", "key1", "key2"], how="left").join(pooled, on=["kind", "credit"], how="left")
              .join(hops, on="kind", how="left"))
    use_key = pl.col("n_k").fill_null(0) >= min_count
    use_entity = pl.col("n_e").fill_null(0) >= min_count
    use_hop = pl.col("n_g").fill_null(0) >= min_count
    joined = joined.with_columns(
        pl.when(use_key).then(pl.col("m_k")).when(use_entity).then(pl.col("m_e")).when(use_hop).then(pl.col("m_g"))
        .otherwise(None).alias("m"),
        pl.when(use_key).then(pl.col("s_k")).when(use_entity).then(pl.col("s_e")).when(use_hop).then(pl.col("s_g"))
        .otherwise(None).alias("s"),
        pl.when(use_key).then(pl.lit("operation")).when(use_entity).then(pl.lit("entity"))
        .when(use_hop).then(pl.lit("any hop")).otherwise(None).alias("judged_by"),
    ).filter(pl.col("m").is_not_null())
    joined = joined.with_columns(
        pl.max_horizontal(pl.col("s"), REL_SCALE * pl.col("m"), pl.lit(_MIN_SCALE_S)).alias("s"))
    return joined.with_columns((pl.col("x") > pl.col("m") + threshold * pl.col("s")).alias("slow"),
                               (pl.col("x") - pl.col("m")).alias("excess"))


def _error_signal(inc_spans: pl.DataFrame, ref_spans: pl.DataFrame, inc_win: TimeWindow,
                  ref_win: TimeWindow, alpha: float | None) -> pl.DataFrame | None:
    """Per entity: deepest failing spans per minute in the incident, in the reference, and the rise.

    The rise counts (``error_raw``) only when the incident's count would be unlikely at the reference rate:
    Poisson upper tail below ``alpha`` (None: every rise counts), the reference rate taken as (count + 0.5) /
    minutes so that a clean reference is no proof of a zero rate. One stray failing span is no signal, however few
    other entities fail.
    """
    from scipy.stats import poisson

    inc_fail, ref_fail = failing_spans(inc_spans), failing_spans(ref_spans)
    if inc_fail.height == 0:
        return None
    inc_min = max(inc_win.duration.total_seconds() / 60.0, 1e-9)
    ref_min = max(observed_minutes(ref_spans, ref_win, "start"), 1e-9)
    inc_count = inc_fail.group_by("entity").agg(pl.len().alias("inc_n"))
    ref_count = ref_fail.group_by("entity").agg(pl.len().alias("ref_n"))
    table = (inc_count.join(ref_count, on="entity", how="left")
             .with_columns(pl.col("ref_n").fill_null(0))
             .with_columns((pl.col("inc_n") / inc_min).alias("error_spans_per_min"),
                           (pl.col("ref_n") / ref_min).alias("error_spans_ref_per_min")))
    expected = (table.get_column("ref_n").to_numpy() + 0.5) * inc_min / ref_min
    tail = poisson.sf(table.get_column("inc_n").to_numpy() - 1, expected)
    rise = (table.get_column("error_spans_per_min") - table.get_column("error_spans_ref_per_min")).clip(lower_bound=0.0)
    unlikely = tail < alpha if alpha is not None else np.ones(len(tail), dtype=bool)
    return table.with_columns(pl.Series("error_p", tail, dtype=pl.Float64),
                              pl.Series("error_raw", np.where(unlikely, rise.to_numpy(), 0.0), dtype=pl.Float64),
                              ).drop("inc_n", "ref_n")


def _load_change(inc_obs: pl.DataFrame, ref_obs: pl.DataFrame, inc_min: float, ref_min: float) -> pl.DataFrame:
    """Per entity: its segments (calls it served) per minute in the incident over the reference
    (``trace_load_ratio``) and the Poisson z of the difference of the two rates (``trace_load_z``)."""
    def counts(obs: pl.DataFrame, name: str) -> pl.DataFrame:
        return obs.filter(pl.col("kind") == "local").group_by("credit").agg(pl.len().cast(pl.Float64).alias(name))

    inc_min, ref_min = max(inc_min, 1e-9), max(ref_min, 1e-9)
    both = counts(inc_obs, "_n1").join(counts(ref_obs, "_n0"), on="credit", how="full", coalesce=True).fill_null(0.0)
    r1, r0 = pl.col("_n1") / inc_min, pl.col("_n0") / ref_min
    var = pl.col("_n1") / inc_min**2 + pl.col("_n0") / ref_min**2
    return both.select(pl.col("credit").alias("entity"),
                       pl.when(pl.col("_n0") > 0).then(r1 / r0).otherwise(None).alias("trace_load_ratio"),
                       pl.when(var > 0).then((r1 - r0) / var.sqrt()).otherwise(0.0).alias("trace_load_z"))


def _with_silent_callees(incident: Incident, spans: pl.DataFrame, notes: list[str]) -> pl.DataFrame:
    """Spans with a virtual span for each call to a component seen only by its callers (rcakit.detect.callees)."""
    from rcakit.detect.callees import with_uninstrumented_callees

    known = set(incident.telemetry.entities())
    for edge in incident.call_graph:
        known.update(edge)
    spans, counts = with_uninstrumented_callees(spans, known)
    if counts:
        notes.append("seen only by their callers (no spans of their own), credited with their calls' time: "
                     + ", ".join(f"{name} ({n} calls)" for name, n in sorted(counts.items())))
    return spans


def trace_signal(incident: Incident, cfg: AttributionConfig, notes: list[str]) -> tuple[
        pl.DataFrame | None, pl.DataFrame | None, TimeWindow | None]:
    spans = incident.telemetry.spans
    if spans.height == 0:
        notes.append("no spans: the trace signal (exclusive time, caller-side gaps) was skipped")
        return None, None, None
    spans = _with_silent_callees(incident, spans, notes)
    inc_win = incident.incident_window
    ref_win = reference_window(incident, "traces")
    in_inc = pl.col("start").is_between(inc_win.start, inc_win.end, closed="left")
    in_ref = pl.col("start").is_between(ref_win.start, ref_win.end, closed="left")
    inc_spans, ref_spans = spans.filter(in_inc), spans.filter(in_ref & ~in_inc)
    if inc_spans.height == 0:
        notes.append(f"no spans start in the incident window {inc_win}: the trace signal was skipped")
        return None, None, ref_win
    if ref_spans.height == 0:
        notes.append(f"no spans in the reference window {ref_win}: the trace signal was skipped (nothing to "
                     "compare exclusive times with)")
        return None, None, ref_win
    errors = _error_signal(inc_spans, ref_spans, inc_win, ref_win, cfg.multimodal.error_alpha)
    min_count = cfg.multimodal.min_count
    ref_obs = trace_observations(ref_spans)
    inc_obs = trace_observations(inc_spans)
    judged = _judge(inc_obs, ref_obs, cfg.threshold, min_count)
    if judged.height == 0:
        notes.append("no incident span had enough reference observations to be judged: trace signal skipped")
        return None, errors, ref_win
    ratio = (pl.col("x") / pl.max_horizontal(pl.col("m"), pl.lit(_MIN_SCALE_S)))
    table = judged.group_by("credit").agg(
        pl.col("excess").filter(pl.col("slow")).sum().alias("trace_added_s"),
        pl.col("slow").mean().alias("trace_slow_share"),
        pl.len().cast(pl.Int64).alias("trace_observations"),
        ratio.filter(pl.col("kind") == "local").median().alias("trace_self_ratio"),
        pl.col("slow").filter(pl.col("kind") == "local").mean().alias("trace_self_slow_share"),
        ratio.filter(pl.col("kind") == "gap").median().alias("trace_gap_ratio"),
        pl.col("slow").filter(pl.col("kind") == "gap").mean().alias("trace_gap_slow_share"),
        pl.col("excess").filter(pl.col("slow") & (pl.col("kind") == "local")).sum().alias("trace_self_added_s"),
        pl.col("excess").filter(pl.col("slow") & (pl.col("kind") == "gap")).sum().alias("trace_gap_added_s"),
    ).rename({"credit": "entity"})
    table = table.join(_load_change(inc_obs, ref_obs, inc_win.duration.total_seconds() / 60.0,
                                    observed_minutes(ref_spans, ref_win, "start")), on="entity", how="left")
    unjudged = inc_obs.height - judged.height
    if unjudged:
        notes.append(f"{unjudged} of {inc_obs.height} trace observations had fewer than {min_count} reference "
                     "observations of their operation or entity and were not judged")
    by = judged.group_by("judged_by").len().sort("judged_by")
    pooled_rows = {k: int(v) for k, v in by.iter_rows() if k != "operation"}
    if pooled_rows:
        notes.append("trace observations judged against a pooled reference (too few of their own operation): "
                     + ", ".join(f"{v} by {k}" for k, v in pooled_rows.items()))
    return table, errors, ref_win


def resource_signal(incident: IncidentLike, cfg: AttributionConfig, notes: list[str]) -> pl.DataFrame | None:
    if isinstance(incident, Incident):
        metrics = incident.telemetry.metrics
        if metrics.height == 0:
            notes.append("no metrics: the resource signal was skipped")
            return None
        pairs = metrics.select("entity", "metric").unique()
        nodes = sorted(f"{e}:{m}" for e, m in pairs.iter_rows() if resource_metric(str(m)))
        if not nodes:
            notes.append("no CPU or memory metric of an entity: the resource signal was skipped")
            return None
        freq = grid_freq(incident, cfg.freq)
        base, inc = frames_of(incident, nodes, freq=freq, agg=cfg.agg)
    else:
        base, inc = frames_of(incident, None)
        keep = [c for c in inc.columns if resource_metric(str(c).split(":", 1)[-1])]
        if not keep:
            notes.append("no CPU or memory column: the resource signal was skipped")
            return None
        base, inc = base[keep], inc[keep]
    center, scale = robust_stats(base)
    peak = inc.max(axis=0, skipna=True)
    z = ((peak - center) / scale).replace([np.inf, -np.inf], np.nan).fillna(0.0)
    added = (peak - center).where(z > cfg.threshold, 0.0).clip(lower=0.0).fillna(0.0)
    rows = []
    for node in inc.columns:
        entity, _, metric = str(node).partition(":")
        level = float(peak.get(node, np.nan))
        rows.append((entity, metric, float(z.get(node, 0.0)), float(added.get(node, 0.0)),
                     level if math.isfinite(level) else 0.0))
    if not rows:
        return None
    frame = pl.DataFrame(rows, schema={"entity": pl.String, "resource_metric": pl.String, "resource_z": pl.Float64,
                                       "added": pl.Float64, "level": pl.Float64}, orient="row")
    # The share of the system's usage of that metric (every entity's peak) that is new in this entity.
    frame = frame.with_columns(
        (pl.col("added") / pl.col("level").clip(lower_bound=0.0).sum().over("resource_metric")).fill_nan(0.0)
        .fill_null(0.0).alias("resource_raw"),
        (pl.col("added") / pl.max_horizontal(pl.col("level") - pl.col("added"), pl.lit(1e-12))).alias("resource_rel"),
    )
    return (frame.sort(["resource_raw", "resource_z"], descending=True).group_by("entity", maintain_order=True)
            .first().select("entity", "resource_metric", "resource_z", "resource_raw", "resource_rel"))


def log_signal(incident: Incident, notes: list[str], analysis: LogAnalysis | None = None) -> pl.DataFrame | None:
    """Per entity: new-template and extra error lines per minute; ``analysis`` is a finished
    :func:`rcakit.detect.analyze_logs` of the same windows, if the caller has one (mining twice is the slowest
    part of this signal)."""
    logs = incident.telemetry.logs
    if logs.height == 0:
        notes.append("no logs: the log signal was skipped")
        return None
    inc_win = incident.incident_window
    ref_win = reference_window(incident, "logs")
    if _count_in(logs, "time", inc_win) == 0:
        notes.append(f"no log lines in the incident window {inc_win}: the log signal was skipped")
        return None
    if _count_in(logs, "time", ref_win) == 0:
        notes.append(f"no log lines in the reference window {ref_win}: the log signal was skipped")
        return None
    if analysis is None:
        from rcakit.detect.logs import analyze_logs

        analysis = analyze_logs(incident, baseline_window=ref_win, incident_window=inc_win)
    flags = analysis.templates.select("template_id", "is_new", "is_error")
    lines = analysis.lines.join(flags, on="template_id", how="left")
    inc_min = max(inc_win.duration.total_seconds() / 60.0, 1e-9)
    ref_min = max(observed_minutes(logs, ref_win), 1e-9)
    return (lines.group_by("entity").agg(
        ((pl.col("window") == "incident") & pl.col("is_new")).sum().alias("_new"),
        ((pl.col("window") == "incident") & pl.col("is_error")).sum().alias("_err_inc"),
        ((pl.col("window") == "baseline") & pl.col("is_error")).sum().alias("_err_ref"),
    ).with_columns(
        (pl.col("_new") / inc_min).alias("log_new_lines_per_min"),
        (pl.col("_err_inc") / inc_min - pl.col("_err_ref") / ref_min).clip(lower_bound=0.0)
        .alias("log_error_rise_per_min"),
    ).with_columns((pl.col("log_new_lines_per_min") + pl.col("log_error_rise_per_min")).alias("log_raw"))
        .select("entity", "log_new_lines_per_min", "log_error_rise_per_min", "log_raw"))


def observed_minutes(frame: pl.DataFrame, window: TimeWindow, column: str = "time") -> float:
    """Minutes of ``window`` that hold data (a reference recorded for 68 s is 68 s, not the window's span)."""
    inside = frame.filter(pl.col(column).is_between(window.start, window.end, closed="left"))
    if inside.height < 2:
        return window.duration.total_seconds() / 60.0
    span_us = inside.select((pl.col(column).max() - pl.col(column).min()).dt.total_microseconds()).item()
    return max(float(span_us or 0) / 1e6, 1.0) / 60.0
