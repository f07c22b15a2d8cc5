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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.telemetry.datasets._common import (
    as_dir,
    cached,
    canonical_logs,
    canonical_metrics,
    canonical_spans,
    epoch_ns_to_time,
    epoch_seconds_to_time,
    require_files,
    tmax,
    tmin,
)
from rcakit.telemetry.incident import GroundTruth, Incident
from rcakit.telemetry.loaders._pool import run_parallel
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow, to_utc

__all__ = [
    "NEZHA_ALARM",
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
FRONTEND = "frontend"
_HINT = ("Pass the Nezha folder that contains rca_data/<day>/ with <day>-fault_list.json, metric/, log/ and "
         "trace/ (and optionally construct_data/)")
_LEVEL = r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE|CRITICAL)\b"
_MINUTE_FILE = re.compile(r"^(\d\d)_(\d\d)_(log|trace)\.csv(\.gz)?$")
INCIDENT_MINUTES = 3


# -- names ------------------------------------------------------------------------------------------------
def nezha_service(pod: str) -> str:
    """The service of a pod: drop the last two '-' tokens (ReplicaSet hash and pod suffix)."""
    parts = pod.split("-")
    return "-".join(parts[:-2]) if len(parts) > 2 else pod


def _service_expr(column: str) -> pl.Expr:
    return pl.col(column).str.replace(r"-[^-]+-[^-]+$", "")


def nezha_metric_name(header: str) -> str:
    """``CpuUsageRate(%)`` -> ``cpu_usage_rate``, ``PodClientLatencyP90(s)`` -> ``pod_client_latency_p90``."""
    base = re.sub(r"\([^)]*\)", "", header).strip()
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base)
    snake = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", snake)
    return re.sub(r"[^0-9A-Za-z]+", "_", snake).strip("_").lower()


def _unit(header: str) -> str:
    match = re.search(r"\(([^)]*)\)", header)
    return re.sub(r"[^0-9A-Za-z]+", "", match.group(1)).lower() if match else ""


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


def _csvs(folder: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` (``*_log.csv``) or their gzipped form, sorted by name."""
    found = {p.name.removesuffix(".gz"): p for p in folder.glob(pattern + ".gz")}
    found.update({p.name: p for p in folder.glob(pattern)})
    return [found[k] for k in sorted(found)]


# -- labels -----------------------------------------------------------------------------------------------
def nezha_faults(path: str | os.PathLike[str], day: str) -> list[dict[str, Any]]:
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


def _inner_labels(root: Path) -> dict[str, Any]:
    """Inner-service labels of every namespace (root_cause_ts.json, root_cause_hipster.json), merged."""
    labels: dict[str, Any] = {}
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


# -- readers ----------------------------------------------------------------------------------------------
def _read(path: Path, required: list[str]) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.NoDataError:
        return pl.DataFrame(schema={c: pl.String for c in required})
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the CSV file: {exc}", source=str(path),
                        hint="Check that the file is complete (not truncated) and comma-separated") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"missing column {missing[0]!r} (the file has {', '.join(frame.columns[:10])})",
                        source=str(path), column=missing[0], hint="Is this a Nezha file of the right kind?")
    return frame


def _ints(frame: pl.DataFrame, column: str, source: str) -> pl.Series:
    values = frame.get_column(column).str.strip_chars().cast(pl.Float64, strict=False)
    if values.is_null().any():
        row = int(values.is_null().arg_max() or 0)
        raise DataError(f"cannot read {frame.get_column(column)[row]!r} as a number", source=source,
                        column=column, row=row, hint="Times are epoch numbers in Nezha files")
    return values


def _metric_names(headers: list[str]) -> dict[str, str]:
    """header -> metric name; a unit suffix is added when two headers would share a name."""
    names = {h: nezha_metric_name(h) for h in headers}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    for header, name in list(names.items()):
        if counts[name] > 1 and _unit(header):
            names[header] = f"{name}_{_unit(header)}"
    seen: dict[str, str] = {}
    for header, name in names.items():
        if not name:
            raise DataError(f"cannot make a metric name from the header {header!r}", column=header)
        if name in seen:
            raise DataError(f"the headers {seen[name]!r} and {header!r} both become metric {name!r}", column=header,
                            hint="Rename one of them")
        seen[name] = header
    return names


def _read_many(paths: list[Path], required: list[str]) -> list[pl.DataFrame]:
    """Read many CSV files on the loaders' thread pool (polars releases the GIL while parsing; the
    first failing file raises its own error, and Ctrl-C does not wait for the reads still running)."""
    return run_parallel(lambda p: _read(p, required), paths)


def _read_metrics(day_dir: Path, report: LoadReport) -> tuple[pl.DataFrame, dict[str, str]]:
    metric_dir = day_dir / "metric"
    pod_files = _csvs(metric_dir, "*_metric.csv")
    front = _csvs(metric_dir, "front_service.csv")
    if not pod_files and not front:
        raise DatasetLayoutError(f"metric/ holds no <pod>_metric.csv and no front_service.csv; found "
                                 f"{', '.join(sorted(p.name for p in metric_dir.iterdir())[:8]) or 'nothing'}",
                                 source=str(metric_dir), hint=_HINT)
    headers: dict[str, str] = {}
    wides = []
    for path, raw in zip(pod_files, _read_many(pod_files, ["TimeStamp", "PodName"]), strict=True):
        value_cols = [c for c in raw.columns if c not in ("Time", "TimeStamp", "PodName")]
        names = _metric_names(value_cols)
        for header, name in names.items():
            if headers.setdefault(name, header) != header:
                raise DataError(f"metric {name!r} comes from header {header!r} here but {headers[name]!r} elsewhere",
                                source=str(path), column=header, hint="The pod metric files should share headers")
        stamp = _ints(raw, "TimeStamp", str(path))
        wides.append(raw.select(stamp.alias("ts"), pl.col("PodName").alias("pod"), pl.lit(None, dtype=pl.String)
                                .alias("entity"), *[pl.col(c).alias(names[c]) for c in value_cols]))
    for path, raw in zip(front, _read_many(front, ["TimeStamp"]), strict=True):
        value_cols = [c for c in raw.columns if c not in ("Time", "TimeStamp", "ServiceName", "PodName")]
        names = _metric_names(value_cols)
        for header, name in names.items():
            headers.setdefault(f"{FRONTEND}:{name}", header)
        stamp = _ints(raw, "TimeStamp", str(path))
        wides.append(raw.select(stamp.alias("ts"), pl.lit(None, dtype=pl.String).alias("pod"),
                                pl.lit(FRONTEND).alias("entity"), *[pl.col(c).alias(names[c]) for c in value_cols]))
    parts = []
    for wide in wides:
        parts.append(wide.unpivot(index=["ts", "pod", "entity"], variable_name="metric", value_name="text"))
    long = _numbers(pl.concat(parts, how="vertical"), str(metric_dir), report)
    metrics = long.with_columns(
        epoch_seconds_to_time(pl.col("ts")).alias("time"),
        pl.coalesce(pl.col("entity"), _service_expr("pod")).alias("entity"),
    ).select("time", "entity", "metric", "value", "pod")
    return canonical_metrics(metrics, source=str(metric_dir), report=report), headers


def _numbers(long: pl.DataFrame, source: str, report: LoadReport) -> pl.DataFrame:
    long = long.with_columns(pl.col("text").str.strip_chars().cast(pl.Float64, strict=False).alias("value"))
    bad = long.filter(pl.col("value").is_null() & pl.col("text").is_not_null() & (pl.col("text").str.strip_chars() != ""))
    if bad.height:
        counts = bad.group_by("pod", "metric", maintain_order=True).len()
        for pod, metric, count in counts.iter_rows():
            report.add(source, f"{pod or FRONTEND}/{metric}", "set non-numbers to null", int(count),
                       "text that is not a number")
    return long.drop("text")


def _read_logs(paths: list[Path], report: LoadReport, phase: str) -> pl.DataFrame:
    frames = []
    for path, raw in zip(paths, _read_many(paths, ["TimeUnixNano", "PodName", "Log"]), strict=True):
        if raw.height == 0:
            continue
        time, repaired = _log_times(raw)
        if repaired:
            report.add(str(path), "TimeUnixNano", "took the time from the log's own JSON 'time' (or Timestamp) where "
                       "TimeUnixNano is not a plausible epoch", repaired,
                       "upstream writes a garbage TimeUnixNano (e.g. -6795364578871345152) for some lines")
        unwrapped = pl.col("Log").str.json_path_match("$.log")
        frame = raw.select(
            time.alias("time"),
            _service_expr("PodName").alias("entity"),
            pl.coalesce(unwrapped, pl.col("Log")).str.strip_chars_end("\r\n").alias("message"),
            (pl.col("TraceID") if "TraceID" in raw.columns else pl.lit(None, dtype=pl.String)).alias("trace_id"),
            (pl.col("SpanID") if "SpanID" in raw.columns else pl.lit(None, dtype=pl.String)).alias("span_id"),
            pl.col("PodName").alias("pod"),
            (pl.col("Node") if "Node" in raw.columns else pl.lit(None, dtype=pl.String)).alias("host"),
            (pl.col("Container") if "Container" in raw.columns else pl.lit(None, dtype=pl.String)).alias("container"),
            unwrapped.is_null().alias("_raw"),
        )
        raw_count = int(frame.get_column("_raw").sum())
        if raw_count:
            report.add(str(path), "Log", "kept log lines that are not JSON-wrapped as they are", raw_count,
                       "no {\"log\": ...} wrapper to unwrap")
        frames.append(frame.drop("_raw"))
    if not frames:
        return pl.DataFrame(schema={"time": pl.Datetime("ns", "UTC"), "entity": pl.String, "level": pl.String,
                                    "message": pl.String, "trace_id": pl.String, "span_id": pl.String})
    logs = pl.concat(frames, how="vertical_relaxed")
    logs = logs.with_columns(
        pl.col("message").str.extract(_LEVEL, 1).replace({"WARNING": "WARN", "SEVERE": "ERROR",
                                                          "CRITICAL": "FATAL"}).alias("level"),
        pl.lit(phase).alias("phase"),
    )
    return canonical_logs(logs)


_NS_LOW, _NS_HIGH = 946_684_800 * 10**9, 4_102_444_800 * 10**9  # 2000-01-01 .. 2100-01-01


def _log_times(raw: pl.DataFrame) -> tuple[pl.Series, int]:
    """Log times from TimeUnixNano, repaired from the JSON 'time' or the Timestamp column where implausible."""
    ns = raw.get_column("TimeUnixNano").str.strip_chars().cast(pl.Int64, strict=False)
    plausible = ns.is_between(_NS_LOW, _NS_HIGH).fill_null(False)
    time = epoch_ns_to_time(pl.col("ns"))
    if bool(plausible.all()):
        return raw.select(ns.alias("ns")).select(time.alias("time")).to_series(), 0
    fallbacks = [
        pl.col("Log").str.json_path_match("$.time").str.replace(r"Z$", "")
        .str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f", time_unit="ns", strict=False).dt.replace_time_zone("UTC"),
    ]
    if "Timestamp" in raw.columns:
        fallbacks.append(pl.col("Timestamp").str.replace(r"Z$", "")
                         .str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f", time_unit="ns", strict=False)
                         .dt.replace_time_zone("UTC"))
    out = raw.with_columns(ns.alias("ns"), plausible.alias("ok")).select(
        pl.when(pl.col("ok")).then(time).otherwise(pl.coalesce(*fallbacks)).alias("time")
    ).to_series()
    if out.is_null().any():
        row = int(out.is_null().arg_max() or 0)
        raise DataError(f"no usable time: TimeUnixNano is {raw.get_column('TimeUnixNano')[row]!r} and neither the "
                        "log's JSON 'time' nor Timestamp can be read", column="TimeUnixNano", row=row,
                        hint="Fix or remove that log line")
    return out, int((~plausible).sum())


def _read_spans(paths: list[Path], report: LoadReport, phase: str) -> tuple[pl.DataFrame, str | None]:
    frames = []
    required = ["TraceID", "SpanID", "ParentID", "PodName", "StartTimeUnixNano", "EndTimeUnixNano"]
    for path, raw in zip(paths, _read_many(paths, required), strict=True):
        if raw.height == 0:
            continue
        start = _ints(raw, "StartTimeUnixNano", str(path)).cast(pl.Int64)
        end = _ints(raw, "EndTimeUnixNano", str(path)).cast(pl.Int64)
        backwards = end < start
        if backwards.any():
            raise DataError("a span ends before it starts", source=str(path), column="EndTimeUnixNano",
                            row=int(backwards.arg_max() or 0), hint="Start and end are epoch nanoseconds")
        frames.append(raw.select(
            pl.col("TraceID").alias("trace_id"),
            pl.col("SpanID").alias("span_id"),
            pl.when(pl.col("ParentID").str.strip_chars().is_in(["root", "", "0"])).then(None)
            .otherwise(pl.col("ParentID")).alias("parent_id"),
            _service_expr("PodName").alias("entity"),
            (pl.col("OperationName") if "OperationName" in raw.columns else pl.lit(None, dtype=pl.String))
            .alias("operation"),
            epoch_ns_to_time(start).alias("start"),
            epoch_ns_to_time(end).alias("end"),
            ((end - start) / 1e9).alias("duration"),
            pl.lit(False).alias("error"),
            pl.lit(None, dtype=pl.String).alias("status"),
            pl.col("PodName").alias("pod"),
            (pl.col("Duration").str.strip_chars().cast(pl.Int64, strict=False) if "Duration" in raw.columns
             else pl.lit(None, dtype=pl.Int64)).alias("duration_us"),
            pl.lit(phase).alias("phase"),
        ))
    if not frames:
        return pl.DataFrame(schema={"trace_id": pl.String, "span_id": pl.String, "parent_id": pl.String,
                                    "entity": pl.String, "operation": pl.String, "start": pl.Datetime("ns", "UTC"),
                                    "end": pl.Datetime("ns", "UTC"), "duration": pl.Float64,
                                    "error": pl.Boolean, "status": pl.String}), None
    spans = pl.concat(frames, how="vertical_relaxed")
    unit = _duration_unit(spans)
    if unit is not None and unit != "us":
        report.add(str(paths[0].parent), "Duration", f"upstream Duration looks like {unit}, not microseconds",
                   spans.height, "compared with EndTimeUnixNano - StartTimeUnixNano; duration is taken from start/end")
    return canonical_spans(spans), unit


def _duration_unit(spans: pl.DataFrame) -> str | None:
    """The unit of upstream ``Duration`` judged from the median ratio (end - start) / Duration."""
    usable = spans.filter(pl.col("duration_us") > 0)
    if usable.height == 0:
        return None
    ratio = usable.select((pl.col("duration") * 1e9 / pl.col("duration_us")).median()).item()
    for unit, factor in (("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)):
        if factor / 2 < ratio < factor * 2:
            return unit
    return f"unknown (ratio {ratio:.3g})"


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
        "metrics": _csvs(day_dir / "metric", "*.csv"),
        "logs": _csvs(day_dir / "log", "*_log.csv"),
        "spans": _csvs(day_dir / "trace", "*_trace.csv"),
        "ref_logs": [],
        "ref_spans": [],
    }
    ref_dir = root / "construct_data" / day
    if ref_dir.is_dir():
        rca_names = {p.name.removesuffix(".gz") for p in files["logs"] + files["spans"]}
        files["ref_logs"] = [p for p in _csvs(ref_dir / "log", "*_log.csv") if p.name.removesuffix(".gz") not in rca_names]
        files["ref_spans"] = [p for p in _csvs(ref_dir / "trace", "*_trace.csv")
                              if p.name.removesuffix(".gz") not in rca_names]
    return files


def load_nezha_day(path: str | os.PathLike[str], day: str) -> tuple[Telemetry, dict[str, Any]]:
    """The Telemetry of one Nezha day (metrics, logs, spans, reference minute) and facts about it.

    Cached per folder and day while the files are unchanged, so every Incident of the day (and a
    second call) shares the same frames.
    """
    root = _root(path)
    files = _day_files(root, day)
    every = [p for group in files.values() for p in group]
    return cached(("nezha-day", str(root.resolve()), day), every, lambda: _build_day(root, day, files))


def _build_day(root: Path, day: str, files: dict[str, list[Path]]) -> tuple[Telemetry, dict[str, Any]]:
    day_dir = root / "rca_data" / day
    report = LoadReport()
    metrics, headers = _read_metrics(day_dir, report)
    logs = _read_logs(files["logs"], report, "rca")
    spans, unit = _read_spans(files["spans"], report, "rca")
    reference = None
    if files["ref_logs"] or files["ref_spans"]:
        ref_logs = _read_logs(files["ref_logs"], report, "reference")
        ref_spans, _ = _read_spans(files["ref_spans"], report, "reference")
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
    info = {
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
        incidents.extend(_day_incidents(root, one_day, faults, telemetry, info, inner, baseline_minutes))
    return incidents


def _day_incidents(
    root: Path,
    day: str,
    faults: list[dict[str, Any]],
    telemetry: Telemetry,
    info: dict[str, Any],
    inner: dict[str, Any],
    baseline_minutes: int,
) -> list[Incident]:
    known = info["metric_names"]
    alarm = NEZHA_ALARM if tuple(NEZHA_ALARM.split(":", 1)) in known else None
    reference: TimeWindow | None = info["reference_window"]
    span = telemetry.time_range()
    # front_service.csv measures requests as they enter the system, i.e. at the services the traces start
    # in (root spans): the frontend "invokes" them, which links the alarm to the span call graph.
    entry = sorted(telemetry.spans.filter(pl.col("parent_id").is_null()).get_column("entity").unique().to_list()) \
        if telemetry.spans.height and alarm is not None else []
    call_graph = tuple((FRONTEND, service) for service in entry if service != FRONTEND)
    incidents = []
    names: set[str] = set()
    previous_end = None
    for fault in faults:
        inject = fault["inject_at"]
        minute = inject.replace(second=0, microsecond=0)
        window = TimeWindow(minute, minute + timedelta(minutes=INCIDENT_MINUTES))
        start = minute - timedelta(minutes=baseline_minutes)
        overlaps_previous = False
        if previous_end is not None and previous_end > start:
            if previous_end < minute:
                start = previous_end
            else:
                overlaps_previous = True
        if span is not None and start < span.start < minute:
            start = span.start
        baseline = TimeWindow(start, minute)
        previous_end = window.end

        service = fault["service"]
        fault_type = str(fault["inject_type"])
        labels = inner.get(service, {}) if isinstance(inner.get(service), dict) else {}
        label = labels.get(fault_type)
        rc_nodes: tuple[str, ...] = ()
        if isinstance(label, str) and "(" in label:
            metric = nezha_metric_name(label)
            if (service, metric) in known:
                rc_nodes = (f"{service}:{metric}",)
        base_name = f"nezha-{day}-{minute:%H%M}-{service}"
        name = base_name
        suffix = 2
        while name in names:
            name = f"{base_name}-{suffix}"
            suffix += 1
        names.add(name)
        upstream = TimeWindow(minute + timedelta(minutes=2), minute + timedelta(minutes=3))
        description = (
            f"Nezha {'TrainTicket' if service.startswith('ts-') else 'OnlineBoutique'} {day}: {fault_type} injected into pod {fault['inject_pod']} (service {service}) at "
            f"{inject:%H:%M:%S} UTC. Incident window = injection minute + {INCIDENT_MINUTES} min (the minutes with "
            f"logs and traces; upstream analyses {upstream.start:%H:%M}); baseline = {baseline} (metrics only"
            + (", overlapping the previous fault's window" if overlaps_previous else "")
            + "). Alarm = frontend P90 latency."
            + (f" Fault-free reference minute with logs and traces: {reference}." if reference else "")
        )
        incident = Incident(
            telemetry=telemetry,
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
            call_graph=call_graph,
        )
        # The alarm was checked against the day's node set above; Incident's own check would rescan the day.
        incident.alarm = alarm
        incidents.append(incident)
    return incidents
