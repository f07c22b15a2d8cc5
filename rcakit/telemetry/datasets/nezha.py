"""Nezha (Yu et al., ESEC/FSE 2023): metrics, logs and traces of TrainTicket (or OnlineBoutique) fault days.

Layout (CSV files plain as upstream or gzipped as in ../shared/datasets)::

    <root>/rca_data/<day>/<day>-fault_list.json          hour -> [{inject_time, inject_timestamp, inject_pod, inject_type}]
    <root>/rca_data/<day>/metric/<pod>_metric.csv         one row per minute per pod, whole day
    <root>/rca_data/<day>/metric/front_service.csv        frontend success rate and latency percentiles
    <root>/rca_data/<day>/log/HH_MM_log.csv               one-minute log files (the Log column is JSON-wrapped)
    <root>/rca_data/<day>/trace/HH_MM_trace.csv           one-minute span files
    <root>/construct_data/<day>/{log,trace}/HH_MM_*.csv   a fault-free reference minute (optional)
    <root>/construct_data/root_cause_ts.json              inner-service labels (optional)

Every day present is read into ONE Telemetry shared by that day's Incidents. The entity of every row is
the service: the pod name without its last two '-' tokens (``ts-contacts-service-866bd68c97-dzqgd`` ->
``ts-contacts-service``); the pod is kept in the extra column ``pod``. Metric names come from the CSV
headers in snake case without the unit (``CpuUsageRate(%)`` -> ``cpu_usage_rate``; the mapping is in
``meta["metric_headers"]``); the frontend file becomes the entity ``frontend``.

Span ``Duration`` upstream is in microseconds (``EndTimeUnixNano - StartTimeUnixNano`` is 1000 times
it, truncated); rcakit's ``duration`` is computed from start and end in seconds and the upstream value
is kept as ``duration_us``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import polars as pl

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.telemetry.datasets._common import as_dir, cached, require_files, tmax, tmin
from rcakit.telemetry.datasets._nezha_frames import (
    FRONTEND,
    csv_files,
    nezha_metric_name,
    nezha_service,
    read_logs,
    read_metrics,
    read_spans,
)
from rcakit.telemetry.datasets._nezha_frames import LAYOUT_HINT as _HINT
from rcakit.telemetry.incident import GroundTruth, Incident
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow, to_utc

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = [
    "NEZHA_ALARM",
    "NezhaDayInfo",
    "load_nezha",
    "load_nezha_day",
    "nezha_days",
    "nezha_faults",
    "nezha_metric_name",
    "nezha_service",
]

#: The alarm of every Nezha incident: the frontend's 90th-percentile latency. Users of TrainTicket see
#: slow pages first; P90 reacts to a delay of a fraction of requests (most faults hit one service
#: behind some endpoints) while being steadier minute to minute than P95/P99.
NEZHA_ALARM = "frontend:latency_p90"
_MINUTE_FILE = re.compile(r"^(\d\d)_(\d\d)_(log|trace)\.csv(\.gz)?$")
INCIDENT_MINUTES = 3


class NezhaDayInfo(TypedDict):
    """Facts about one day's files, beside its Telemetry (:func:`load_nezha_day`)."""

    metric_headers: dict[str, str]  # metric name (or frontend:name) -> the CSV header it came from
    span_duration_unit: str | None  # the unit upstream's span Duration turned out to be in
    reference_window: TimeWindow | None  # the fault-free reference minute(s) of construct_data
    reference_files: list[str]
    metric_names: set[tuple[str, str]]  # (entity, metric) pairs present
    minute_files: list[str]  # HH_MM of the one-minute log and trace files


# -- layout -----------------------------------------------------------------------------------------------
def _root(path: str | os.PathLike[str]) -> Path:
    folder = as_dir(path, "Nezha", "rca_data/<day>/")
    if (folder / "rca_data").is_dir():
        return folder
    if folder.name == "rca_data":
        return folder.parent
    require_files(folder, ["rca_data/"], "Nezha", _HINT)
    raise DatasetLayoutError("not a Nezha folder", source=str(folder), hint=_HINT)  # pragma: no cover


def _fault_list(day_dir: Path) -> Path | None:
    exact = day_dir / f"{day_dir.name}-fault_list.json"
    if exact.is_file():
        return exact
    others = sorted(day_dir.glob("*fault_list.json"))
    return others[0] if others else None


def nezha_days(path: str | os.PathLike[str]) -> list[str]:
    """The fault days under ``rca_data/`` (folders with a fault list), sorted."""
    root = _root(path)
    rca = root / "rca_data"
    days = sorted(p.name for p in rca.iterdir() if p.is_dir() and _fault_list(p) is not None)
    if not days:
        raise DatasetLayoutError(
            f"rca_data/ holds no day folder with a <day>-fault_list.json; found "
            f"{', '.join(sorted(p.name for p in rca.iterdir())) or 'nothing'}",
            source=str(rca), hint=_HINT)
    return days


def _day_dir(root: Path, day: str) -> Path:
    folder = root / "rca_data" / day
    if not folder.is_dir():
        raise DatasetLayoutError(f"no day {day!r} under rca_data/; this copy has {', '.join(nezha_days(root))}",
                                 source=str(root / "rca_data"), hint="Pass day= one of those, or None for all")
    require_files(folder, ["metric/", "log/", "trace/"], "Nezha day", _HINT)
    if _fault_list(folder) is None:
        require_files(folder, [f"{day}-fault_list.json"], "Nezha day", _HINT)
    return folder


# -- labels -----------------------------------------------------------------------------------------------
def nezha_faults(path: str | os.PathLike[str], day: str) -> list[JSONObject]:
    """The injected faults of a day, in time order, each with its service added."""
    root = _root(path)
    fault_path = _fault_list(_day_dir(root, day))
    assert fault_path is not None
    try:
        data = json.loads(fault_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read the fault list: {exc}", source=str(fault_path),
                        hint="It should be JSON: hour -> [{inject_time, inject_timestamp, inject_pod, inject_type}]") from exc
    if not isinstance(data, dict):
        raise DataError("the fault list should map hours to lists of faults", source=str(fault_path),
                        hint="Expected {\"11\": [{inject_time, inject_timestamp, inject_pod, inject_type}], ...}")
    faults = []
    for hour, items in data.items():
        for index, item in enumerate(items or []):
            for key in ("inject_timestamp", "inject_pod", "inject_type"):
                if not isinstance(item, dict) or item.get(key) in (None, ""):
                    raise DataError(f"fault {index} of hour {hour} has no {key!r}", source=str(fault_path),
                                    column=key, hint="Every fault needs inject_timestamp, inject_pod and inject_type")
            try:
                stamp = int(float(item["inject_timestamp"]))
            except (TypeError, ValueError) as exc:
                raise DataError(f"cannot read inject_timestamp {item['inject_timestamp']!r} as epoch seconds",
                                source=str(fault_path), column="inject_timestamp") from exc
            at = to_utc(stamp)
            if item.get("inject_time"):
                # The minute files (HH_MM_log.csv) and upstream's own analysis follow inject_time; the epoch
                # inject_timestamp disagrees with it by a minute for some faults.
                try:
                    at = to_utc(str(item["inject_time"]))
                except DataError as exc:
                    raise DataError(f"cannot read inject_time {item['inject_time']!r}", source=str(fault_path),
                                    column="inject_time", hint="Expected 'YYYY-MM-DD HH:MM:SS' (UTC)") from exc
            faults.append({**item, "inject_timestamp": stamp, "inject_at": at,
                           "inject_time_minus_timestamp_s": int(at.timestamp()) - stamp,
                           "service": nezha_service(str(item["inject_pod"]))})
    faults.sort(key=lambda f: f["inject_at"])
    return faults


def _inner_labels(root: Path) -> JSONObject:
    """Inner-service labels of every namespace (root_cause_ts.json, root_cause_hipster.json), merged."""
    labels: JSONObject = {}
    folder = root / "construct_data"
    for path in sorted(folder.glob("root_cause_*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read the inner-service labels: {exc}", source=str(path),
                            hint="It should be JSON: service -> fault type -> metric or log region") from exc
        if isinstance(data, dict):
            labels.update(data)
    return labels


# -- one day ----------------------------------------------------------------------------------------------
def _minute_of(day: str, path: Path) -> datetime | None:
    match = _MINUTE_FILE.match(path.name)
    if not match:
        return None
    try:
        return to_utc(f"{day}T{match.group(1)}:{match.group(2)}:00")
    except DataError:
        return None


def _day_files(root: Path, day: str) -> dict[str, list[Path]]:
    day_dir = _day_dir(root, day)
    files = {
        "metrics": csv_files(day_dir / "metric", "*.csv"),
        "logs": csv_files(day_dir / "log", "*_log.csv"),
        "spans": csv_files(day_dir / "trace", "*_trace.csv"),
        "ref_logs": [],
        "ref_spans": [],
    }
    ref_dir = root / "construct_data" / day
    if ref_dir.is_dir():
        rca_names = {p.name.removesuffix(".gz") for p in files["logs"] + files["spans"]}
        files["ref_logs"] = [p for p in csv_files(ref_dir / "log", "*_log.csv") if p.name.removesuffix(".gz") not in rca_names]
        files["ref_spans"] = [p for p in csv_files(ref_dir / "trace", "*_trace.csv")
                              if p.name.removesuffix(".gz") not in rca_names]
    return files


def load_nezha_day(path: str | os.PathLike[str], day: str) -> tuple[Telemetry, NezhaDayInfo]:
    """The Telemetry of one Nezha day (metrics, logs, spans, reference minute) and facts about it.

    Cached per folder and day while the files are unchanged, so every Incident of the day (and a
    second call) shares the same frames.
    """
    root = _root(path)
    files = _day_files(root, day)
    every = [p for group in files.values() for p in group]
    return cached(("nezha-day", str(root.resolve()), day), every, lambda: _build_day(root, day, files))


def _build_day(root: Path, day: str, files: dict[str, list[Path]]) -> tuple[Telemetry, NezhaDayInfo]:
    day_dir = root / "rca_data" / day
    report = LoadReport()
    metrics, headers = read_metrics(day_dir, report)
    logs = read_logs(files["logs"], report, "rca")
    spans, unit = read_spans(files["spans"], report, "rca")
    reference = None
    if files["ref_logs"] or files["ref_spans"]:
        ref_logs = read_logs(files["ref_logs"], report, "reference")
        ref_spans, _ = read_spans(files["ref_spans"], report, "reference")
        minutes = [m for m in (_minute_of(day, p) for p in files["ref_logs"] + files["ref_spans"]) if m]
        lows = [t for t in (tmin(ref_logs.get_column("time")) if ref_logs.height else None,
                            tmin(ref_spans.get_column("start")) if ref_spans.height else None, *minutes) if t]
        highs = [t for t in (tmax(ref_logs.get_column("time")) if ref_logs.height else None,
                             tmax(ref_spans.get_column("start")) if ref_spans.height else None) if t]
        highs += [m + timedelta(minutes=1) for m in minutes]
        if lows and highs:
            reference = TimeWindow(min(lows), max(highs) + timedelta(microseconds=1))
        if ref_logs.height:
            logs = pl.concat([logs, ref_logs], how="diagonal_relaxed").sort("time", maintain_order=True)
        if ref_spans.height:
            spans = pl.concat([spans, ref_spans], how="diagonal_relaxed").sort("start", maintain_order=True)
    telemetry = Telemetry(metrics, logs, spans, report=report, validated=True)
    info: NezhaDayInfo = {
        "metric_headers": headers,
        "span_duration_unit": unit,
        "reference_window": reference,
        "reference_files": [str(p) for p in files["ref_logs"] + files["ref_spans"]],
        "metric_names": set(metrics.select("entity", "metric").unique().iter_rows()),
        "minute_files": sorted({p.name.split("_log")[0].split("_trace")[0] for p in files["logs"] + files["spans"]}),
    }
    return telemetry, info


# -- incidents --------------------------------------------------------------------------------------------
def load_nezha(
    path: str | os.PathLike[str],
    *,
    day: str | list[str] | tuple[str, ...] | None = None,
    baseline_minutes: int = 30,
) -> list[Incident]:
    """One Incident per injected fault of every day (or of ``day``), sharing one Telemetry per day.

    Incident window: the injection minute to 3 minutes later (the minutes of the upstream log and
    trace files; upstream analyses the minute inject+2). Baseline window: up to ``baseline_minutes``
    before the injection minute, starting no earlier than the end of the previous fault's incident
    window (so one fault does not pollute the next one's baseline); it holds metrics only, since logs
    and traces exist just around faults: the fault-free reference minute with logs and traces
    (construct_data) is ``Incident.reference_window``. Alarm: ``frontend:latency_p90``
    (:data:`NEZHA_ALARM`). Truth: the injected pod's service, the fault type, and, when the
    inner-service label names a metric present in the data, that metric node.
    """
    if baseline_minutes < 1:
        raise DataError(f"baseline_minutes must be at least 1, got {baseline_minutes}")
    root = _root(path)
    days = nezha_days(root) if day is None else ([day] if isinstance(day, str) else list(day))
    inner = _inner_labels(root)
    incidents: list[Incident] = []
    for one_day in days:
        faults = nezha_faults(root, one_day)
        telemetry, info = load_nezha_day(root, one_day)
        incidents.extend(_day_incidents(one_day, faults, telemetry, info, inner, baseline_minutes))
    return incidents


@dataclass(frozen=True)
class _Day:
    """What every Incident of one day shares."""

    day: str
    telemetry: Telemetry
    info: NezhaDayInfo
    call_graph: tuple[tuple[str, str], ...]


def _day_incidents(
    day: str,
    faults: list[JSONObject],
    telemetry: Telemetry,
    info: NezhaDayInfo,
    inner: JSONObject,
    baseline_minutes: int,
) -> list[Incident]:
    known = info["metric_names"]
    alarm = NEZHA_ALARM if tuple(NEZHA_ALARM.split(":", 1)) in known else None
    span = telemetry.time_range()
    # front_service.csv measures requests as they enter the system, i.e. at the services the traces start
    # in (root spans): the frontend "invokes" them, which links the alarm to the span call graph.
    entry = sorted(telemetry.spans.filter(pl.col("parent_id").is_null()).get_column("entity").unique().to_list()) \
        if telemetry.spans.height and alarm is not None else []
    shared = _Day(day, telemetry, info, tuple((FRONTEND, service) for service in entry if service != FRONTEND))
    incidents = []
    names: set[str] = set()
    previous_end = None
    for fault in faults:
        minute = fault["inject_at"].replace(second=0, microsecond=0)
        window = TimeWindow(minute, minute + timedelta(minutes=INCIDENT_MINUTES))
        baseline, overlaps_previous = _baseline(minute, previous_end, span, baseline_minutes)
        previous_end = window.end
        name = _unique_name(f"nezha-{day}-{minute:%H%M}-{fault['service']}", names)
        incident = _incident(shared, fault, inner, name, window, baseline, overlaps_previous)
        # The alarm was checked against the day's node set above; Incident's own check would rescan the day.
        incident.alarm = alarm
        incidents.append(incident)
    return incidents


def _baseline(minute: datetime, previous_end: datetime | None, span: TimeWindow | None,
              baseline_minutes: int) -> tuple[TimeWindow, bool]:
    """Up to ``baseline_minutes`` before the injection minute, from the end of the previous fault's window
    on (the flag says when that window reaches past the injection minute) and not before the data."""
    start = minute - timedelta(minutes=baseline_minutes)
    overlaps_previous = False
    if previous_end is not None and previous_end > start:
        if previous_end < minute:
            start = previous_end
        else:
            overlaps_previous = True
    if span is not None and start < span.start < minute:
        start = span.start
    return TimeWindow(start, minute), overlaps_previous


def _unique_name(base_name: str, names: set[str]) -> str:
    """``base_name``, or with -2, -3 ... when two faults hit the same service in the same minute."""
    name = base_name
    suffix = 2
    while name in names:
        name = f"{base_name}-{suffix}"
        suffix += 1
    names.add(name)
    return name


def _incident(shared: _Day, fault: JSONObject, inner: JSONObject, name: str, window: TimeWindow,
              baseline: TimeWindow, overlaps_previous: bool) -> Incident:
    day, info = shared.day, shared.info
    reference = info["reference_window"]
    inject = fault["inject_at"]
    minute = inject.replace(second=0, microsecond=0)
    service = fault["service"]
    fault_type = str(fault["inject_type"])
    labels = inner.get(service, {}) if isinstance(inner.get(service), dict) else {}
    label = labels.get(fault_type)
    rc_nodes: tuple[str, ...] = ()
    if isinstance(label, str) and "(" in label:
        metric = nezha_metric_name(label)
        if (service, metric) in info["metric_names"]:
            rc_nodes = (f"{service}:{metric}",)
    upstream = TimeWindow(minute + timedelta(minutes=2), minute + timedelta(minutes=3))
    description = (
        f"Nezha {'TrainTicket' if service.startswith('ts-') else 'OnlineBoutique'} {day}: {fault_type} injected into pod {fault['inject_pod']} (service {service}) at "
        f"{inject:%H:%M:%S} UTC. Incident window = injection minute + {INCIDENT_MINUTES} min (the minutes with "
        f"logs and traces; upstream analyses {upstream.start:%H:%M}); baseline = {baseline} (metrics only"
        + (", overlapping the previous fault's window" if overlaps_previous else "")
        + "). Alarm = frontend P90 latency."
        + (f" Fault-free reference minute with logs and traces: {reference}." if reference else "")
    )
    return Incident(
        telemetry=shared.telemetry,
        baseline_window=baseline,
        incident_window=window,
        alarm=None,
        truth=GroundTruth(
            root_cause_entities=(service,),
            root_cause_nodes=rc_nodes,
            fault_type=fault_type,
            graph=None,
            notes=("Service-level label from the fault list; inner-service label "
                   f"{label!r} from construct_data/root_cause_ts.json" if label else
                   "Service-level label from the fault list"),
        ),
        name=name,
        description=description,
        meta={
            "dataset": "nezha",
            "day": day,
            "inject_time": fault.get("inject_time"),
            "inject_timestamp": fault["inject_timestamp"],
            "inject_time_minus_timestamp_s": fault["inject_time_minus_timestamp_s"],
            "inject_pod": fault["inject_pod"],
            "inject_type": fault_type,
            "inner_service_label": label,
            "inner_service_labels": labels,
            "upstream_abnormal_window": upstream.to_dict(),
            "reference_files": info["reference_files"],
            "baseline_overlaps_previous_fault": overlaps_previous,
            "metric_headers": info["metric_headers"],
            "span_duration_unit": info["span_duration_unit"],
            "alarm_choice": "frontend:latency_p90, the frontend's 90th-percentile latency per minute",
        },
        reference_window=reference,
        call_graph=shared.call_graph,
    )
