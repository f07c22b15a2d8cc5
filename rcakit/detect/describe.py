"""Anomalies in words, as LocaleXpert's Algorithm 1 writes them, for the report and the LLM expert.

Plain text, not escaped (whoever puts it into HTML or a prompt escapes it there), and deterministic:
the same input gives the same sentences in the same order. Levels of detail: ``"incident"`` (one
sentence), ``"entity"`` (one line per entity), ``"series"`` (one sentence per anomalous series).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

import polars as pl

from rcakit.detect.config import Pattern, Status

if TYPE_CHECKING:
    from rcakit.detect.anomalies import Anomalies, Anomaly
    from rcakit.detect.logs import LogAnalysis
    from rcakit.detect.traces import TraceAnalysis

__all__ = ["LEVELS", "describe_anomalies", "describe_anomaly", "describe_logs", "describe_traces"]

LEVELS = ("incident", "entity", "series")

_PATTERN_PHRASE = {
    Pattern.SPIKE.value: "a spike",
    Pattern.DIP.value: "a dip",
    Pattern.LEVEL_SHIFT_UP.value: "a level shift up",
    Pattern.LEVEL_SHIFT_DOWN.value: "a level shift down",
    Pattern.GRADUAL_INCREASE.value: "a gradual increase",
    Pattern.GRADUAL_DECREASE.value: "a gradual decrease",
    Pattern.FLUCTUATION.value: "fluctuations",
    Pattern.NONE.value: "no clear pattern",
}


def _num(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.4g}"
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def _when(moment: datetime | None, *, same_day_as: datetime | None = None) -> str:
    if moment is None:
        return "an unknown time"
    if same_day_as is not None and moment.date() == same_day_as.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:.3g} h"


def describe_anomaly(a: Anomaly) -> str:
    """One sentence about one series: pattern, start, end, duration, peak, previous value, change, score."""
    subject = f"The {a.metric} metric of {a.entity}"
    if a.status not in (Status.SCORED.value, Status.CONSTANT_BASELINE.value):
        return f"{subject} was not scored: {a.status} ({a.baseline_points} baseline and {a.incident_points} incident points)."
    if not a.anomalous:
        return f"{subject} is normal (score {a.score:.2f})." if a.score is not None else f"{subject} is normal."
    moved = "an increase" if (a.peak or 0) >= (a.previous or 0) else "a decrease"
    change = f" ({a.change_pct:+.1f}%)" if a.change_pct is not None else ""
    baseline = ""
    if a.baseline_mean is not None:
        spread = f" ± {_num(a.baseline_std)}" if a.baseline_std is not None else ""
        baseline = f" The baseline was {_num(a.baseline_mean)}{spread}."
    constant = " Its baseline was constant, so the score is against a floor spread." \
        if a.status == Status.CONSTANT_BASELINE.value else ""
    return (
        f"{subject} is abnormal, displaying an anomaly pattern characterized by "
        f"{_PATTERN_PHRASE.get(a.pattern, a.pattern)}. This anomaly began on {_when(a.start)} and ended at "
        f"{_when(a.end, same_day_as=a.start)} (duration {_duration(a.duration_s)}), reaching a peak of "
        f"{_num(a.peak)} at {_when(a.peak_time, same_day_as=a.start)}, which is {moved} from the previous value of "
        f"{_num(a.previous)}{change}.{baseline}{constant} The anomaly score is {a.score:.2f}."
    )


def describe_anomalies(anomalies: Anomalies, *, level: str = "series", top: int | None = None) -> list[str]:
    """Sentences at one level of detail (see :data:`LEVELS`), highest scores first."""
    if level not in LEVELS:
        from rcakit.errors import DataError

        raise DataError(f"unknown level of detail {level!r}", hint=f"Use one of {', '.join(LEVELS)}")
    flagged = anomalies.anomalous()
    if level == "incident":
        ranking = anomalies.entity_ranking().filter(pl.col("anomalous_series") > 0)
        if flagged.height == 0:
            return [f"No series of {anomalies.incident_name} is anomalous by {anomalies.method} "
                    f"(threshold {anomalies.config.threshold:g}); {len(anomalies)} series checked."]
        lead = ", ".join(f"{r['entity']} ({r['score']:.1f})" for r in ranking.head(top or 3).iter_rows(named=True))
        return [f"{flagged.height} of {len(anomalies)} series on {ranking.height} entities are anomalous in "
                f"{anomalies.incident_name} by {anomalies.method}; the highest scores are at {lead}."]
    if level == "entity":
        lines = []
        ranking = anomalies.entity_ranking().filter(pl.col("anomalous_series") > 0)
        for r in ranking.head(top or ranking.height).iter_rows(named=True):
            mine = flagged.filter(pl.col("entity") == r["entity"]).head(3)
            parts = "; ".join(f"{m['metric']} {m['pattern']} ({m['direction']}, score {m['score']:.1f})"
                              for m in mine.iter_rows(named=True))
            start = cast("datetime | None", mine.get_column("start").min()) if mine.height else None
            lines.append(f"{r['entity']}: {r['anomalous_series']} of {r['scored_series']} series anomalous from "
                         f"{_when(start)}; top: {parts}.")
        return lines
    rows = flagged.head(top) if top else flagged
    return [describe_anomaly(anomalies[node]) for node in rows.get_column("node").to_list()]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def describe_traces(analysis: TraceAnalysis, *, top: int = 5) -> list[str]:
    """Slow traces (call path, slow services and their excess over the normal upper limit) and
    structural anomalies (call paths not seen in the baseline)."""
    out: list[str] = []
    for r in analysis.slow_traces.head(top).iter_rows(named=True):
        lines = [
            f"The trace call with trace ID {r['trace_id']} timed out. It started at {_when(r['start'])} and ended "
            f"at {_when(r['end'], same_day_as=r['start'])}, following the call path: {r['path']}. "
            f"Several services exhibited anomalies:"
            if len(r["slow_nodes"]) > 1 else
            f"The trace call with trace ID {r['trace_id']} timed out. It started at {_when(r['start'])} and ended "
            f"at {_when(r['end'], same_day_as=r['start'])}, following the call path: {r['path']}. "
            f"One service exhibited an anomaly:"
        ]
        for node in r["slow_nodes"]:
            lines.append(f"- {node['entity']}: Call time was {_ms(node['duration_s'])}, exceeding the normal upper "
                         f"limit ({_ms(node['upper_s'])}, {analysis.sigma:g} sigma over the baseline) by "
                         f"{_ms(node['excess_s'])}.")
        out.append("\n".join(lines))
    for r in analysis.structural_traces.head(top).iter_rows(named=True):
        paths = "; ".join(r["new_paths"][:3])
        out.append(
            f"There is a structural anomaly in the trace. The trace ID is {r['trace_id']}, with the trace call "
            f"starting at {_when(r['start'])} and ending at {_when(r['end'], same_day_as=r['start'])}. It follows "
            f"call paths not seen in the baseline: {paths}."
        )
    if analysis.missing_paths.height:
        gone = "; ".join(f"{p['path']} ({p['baseline_count']} spans)"
                         for p in analysis.missing_paths.head(3).iter_rows(named=True))
        out.append(f"{analysis.missing_paths.height} call paths of the baseline do not occur in the incident "
                   f"window, the most frequent being: {gone}.")
    out.extend(f"Note: {note}." for note in analysis.notes)
    return out


def describe_logs(analysis: LogAnalysis, *, top: int = 10) -> list[str]:
    """New and error templates with their counts and entities, then top TF-IDF keywords per entity."""
    out: list[str] = []
    flagged = analysis.templates.filter(pl.col("is_new") | (pl.col("is_error") & (pl.col("incident_count") > 0)))
    flagged = flagged.sort(["is_new", "incident_count", "template_id"], descending=[True, True, False])
    for r in flagged.head(top).iter_rows(named=True):
        kinds = " and ".join(k for k, flag in (("new", r["is_new"]), ("error", r["is_error"])) if flag)
        ents = ", ".join(r["entities"][:5]) + (f" and {len(r['entities']) - 5} more" if len(r["entities"]) > 5 else "")
        out.append(f"Log template {r['template_id']} ({kinds}) occurred {r['incident_count']} times in the incident "
                   f"window and {r['baseline_count']} times in the baseline, logged by {ents}: {r['template']}")
    keywords: dict[str, list[str]] = {}
    for r in analysis.keyword_tfidf.filter(pl.col("rank") <= 5).iter_rows(named=True):
        keywords.setdefault(r["entity"], []).append(r["keyword"])
    for entity in sorted(keywords):
        out.append(f"Top log keywords of {entity} in the incident window (TF-IDF): {', '.join(keywords[entity])}.")
    out.extend(f"Note: {note}." for note in analysis.notes)
    return out
