"""Nezha's CSV files read into rcakit's canonical frames: names, numbers, times and units.

Pod metric files (one wide row per minute) become long ``entity, metric, value`` rows named in snake
case (:func:`nezha_metric_name`), the frontend file becomes the entity ``frontend``; log lines are
unwrapped from upstream's JSON with their time repaired where ``TimeUnixNano`` is garbage; spans get
their duration from start and end (upstream's microsecond ``Duration`` is kept as ``duration_us``).
Every repair goes to the :class:`~rcakit.telemetry.report.LoadReport`. :mod:`rcakit.telemetry.datasets.nezha`
finds the files and builds the Incidents.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.telemetry.datasets._common import (
    canonical_logs,
    canonical_metrics,
    canonical_spans,
    epoch_ns_to_time,
    epoch_seconds_to_time,
)
from rcakit.telemetry.loaders._pool import run_parallel
from rcakit.telemetry.report import LoadReport

__all__ = [
    "FRONTEND",
    "LAYOUT_HINT",
    "csv_files",
    "nezha_metric_name",
    "nezha_service",
    "read_logs",
    "read_metrics",
    "read_spans",
]

FRONTEND = "frontend"
LAYOUT_HINT = ("Pass the Nezha folder that contains rca_data/<day>/ with <day>-fault_list.json, metric/, log/ and "
               "trace/ (and optionally construct_data/)")
_LEVEL = r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE|CRITICAL)\b"


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


def csv_files(folder: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` (``*_log.csv``) or their gzipped form, sorted by name."""
    found = {p.name.removesuffix(".gz"): p for p in folder.glob(pattern + ".gz")}
    found.update({p.name: p for p in folder.glob(pattern)})
    return [found[k] for k in sorted(found)]


# -- readers -----------------------------------------------------------------------------------------------
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


def read_metrics(day_dir: Path, report: LoadReport) -> tuple[pl.DataFrame, dict[str, str]]:
    metric_dir = day_dir / "metric"
    pod_files = csv_files(metric_dir, "*_metric.csv")
    front = csv_files(metric_dir, "front_service.csv")
    if not pod_files and not front:
        raise DatasetLayoutError(f"metric/ holds no <pod>_metric.csv and no front_service.csv; found "
                                 f"{', '.join(sorted(p.name for p in metric_dir.iterdir())[:8]) or 'nothing'}",
                                 source=str(metric_dir), hint=LAYOUT_HINT)
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


def read_logs(paths: list[Path], report: LoadReport, phase: str) -> pl.DataFrame:
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


def read_spans(paths: list[Path], report: LoadReport, phase: str) -> tuple[pl.DataFrame, str | None]:
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

