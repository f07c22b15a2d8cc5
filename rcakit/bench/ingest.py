"""``python -m rcakit.bench ingest``: how fast telemetry files load into the model, against pandas.

A corpus of N spans and N log lines (N = 0.1, 1 and 10 million by default) is generated on the fly
into a temporary folder (deleted afterwards) as Parquet and as gzipped CSV, the way such data is kept
at that scale: spans with epoch-nanosecond start and end (as Jaeger/Tempo and the Nezha dataset
export them), logs with RFC 3339 time strings. Each case loads spans and logs with
:func:`rcakit.telemetry.loaders.read_tables` (what a user calls for an export; by default it reads
the tables at the same time on a thread pool, tables over 128 MB in turn)
into one validated :class:`~rcakit.telemetry.Telemetry`; the
baseline reads the same files with plain ``pandas.read_parquet`` / ``pandas.read_csv`` (no
validation); for gzipped CSV a second baseline, ``pandas + times``, also converts the time columns
to UTC datetimes (``pandas.to_datetime``), as the model does (Parquet keeps timestamps, so
``read_parquet`` parses them already). The Nezha TrainTicket day (every trace and log ``.csv.gz``,
through ``read_csv`` with a column mapping) and an OTLP JSON sample (written by
``write_otlp_json``; baseline: ``json`` plus ``pandas.json_normalize``) are measured too.
``--sequential`` also measures the rcakit case reading the tables one after the other (``workers=1``).

Every case runs in its own child process, which first reads 100 spans and 100 log lines in both
formats with its own reader (imports, thread pools and first calls are paid once per session, not
per file; both readers alike), then reports its wall time, its CPU time (all threads) and its peak
resident memory (``VmHWM``), so that cases do not pollute each other. Wall and CPU times are medians
over ``--repeat`` runs (``--repeat-large``, default one, at 10 M); the readers of a case take turns
run by run, so that a change of the machine's load weighs on each alike. The machine's load average is printed: on a
shared machine wall time grows with the load while CPU time does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TypedDict

import numpy as np
import polars as pl

from rcakit.bench._common import Row, markdown_table

__all__ = ["generate_logs", "generate_spans", "main"]

_SERVICES = ("order", "user", "auth", "route", "travel", "price", "seat", "station", "train", "config", "contacts",
             "payment", "food", "assurance", "security", "notification", "preserve", "cancel", "rebook", "voucher")
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z in ns
_DAY_NS = 86_400_000_000_000


class _Spec(TypedDict, total=False):
    """One case as its child process receives it (as JSON)."""

    reader: str                   # rcakit | pandas
    format: str                   # parquet | csv.gz | nezha | otlp
    spans: str | list[str]
    logs: str | list[str]
    otlp: str
    workers: int                  # rcakit: tables read at the same time (1: one after the other)
    times: bool                   # pandas: also convert the time columns to UTC datetimes


class _Result(TypedDict, total=False):
    """What a child reports (``error`` when it failed), and over runs the medians and ``runs``."""

    rows: int
    seconds: float
    cpu: float
    peak_mb: float
    runs: int
    error: str


def _hex_ids(rng: np.random.Generator, n: int, nbytes: int) -> pl.Series:
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    out = np.empty((n, nbytes * 2), dtype=np.uint8)
    out[:, 0::2] = _HEX[raw >> 4]
    out[:, 1::2] = _HEX[raw & 15]
    return pl.Series(out.view(f"S{nbytes * 2}").ravel()).cast(pl.String)


def generate_spans(n: int, *, seed: int = 0, per_trace: int = 10) -> pl.DataFrame:
    """``n`` spans in traces of ``per_trace`` (a binary tree under one root), in export order.

    Traces start at random times over one day; a trace's spans are written together, so the table is
    not sorted by start time (as a collector's export is not).
    """
    rng = np.random.default_rng(seed)
    traces = -(-n // per_trace)
    trace_ids = _hex_ids(rng, traces, 16)
    span_ids = _hex_ids(rng, n, 8)
    index = np.arange(n)
    k = index % per_trace
    parent_index = np.where(k == 0, -1, index - k + (k - 1) // 2)
    services = pl.Series([f"ts-{s}-service" for s in _SERVICES])
    operations = pl.Series([f"/api/v1/{s}service/op{j}" for s in _SERVICES for j in range(10)])
    root_start = _T0 + np.sort(rng.integers(0, _DAY_NS, traces))
    start = root_start[index // per_trace] + k * rng.integers(0, 5_000_000, n)
    duration = rng.integers(100_000, 50_000_000, n)
    entity = rng.integers(0, len(_SERVICES), n)
    frame = pl.DataFrame({
        "trace_id": trace_ids.gather(index // per_trace),
        "span_id": span_ids,
        "parent_id": span_ids.gather(np.maximum(parent_index, 0)),
        "entity": services.gather(entity),
        "operation": operations.gather(entity * 10 + rng.integers(0, 10, n)),
        "start": pl.Series(start).cast(pl.Datetime("ns", "UTC")),
        "end": pl.Series(start + duration).cast(pl.Datetime("ns", "UTC")),
        "error": rng.random(n) < 0.01,
    })
    return frame.with_columns(
        pl.when(pl.Series(parent_index) < 0).then(None).otherwise(pl.col("parent_id")).alias("parent_id"))


def generate_logs(n: int, *, seed: int = 1) -> pl.DataFrame:
    """``n`` log lines over one day in time order, ~70 characters each, with trace and span ids."""
    rng = np.random.default_rng(seed)
    services = pl.Series([f"ts-{s}-service" for s in _SERVICES])
    templates = pl.Series(["GET /api/v1/orders completed for user ", "Query seats for train ",
                           "Payment accepted, order id ", "Cache miss for key ",
                           "Retrying call to upstream after timeout, attempt "])
    number = pl.Series(rng.integers(0, 10**9, n))
    frame = pl.DataFrame({
        "time": pl.Series(_T0 + np.sort(rng.integers(0, _DAY_NS, n))).cast(pl.Datetime("ns", "UTC")),
        "entity": services.gather(rng.integers(0, len(_SERVICES), n)),
        "level": pl.Series(["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]).gather(rng.integers(0, 6, n)),
        "template": templates.gather(rng.integers(0, len(templates), n)),
        "number": number,
        "trace_id": _hex_ids(rng, n, 16),
        "span_id": _hex_ids(rng, n, 8),
    })
    message = pl.concat_str([pl.col("template"), pl.col("number").cast(pl.String), pl.lit(" in "),
                             (pl.col("number") % 997).cast(pl.String), pl.lit(" ms")])
    return frame.select("time", "entity", "level", message.alias("message"), "trace_id", "span_id")


def _write(frame: pl.DataFrame, folder: Path, name: str, fmt: str) -> Path:
    if fmt == "parquet":
        path = folder / f"{name}.parquet"
        frame.write_parquet(path)
    elif fmt == "csv.gz":
        path = folder / f"{name}.csv.gz"
        out = frame
        if "start" in frame.columns:  # spans: epoch nanoseconds, as trace exports carry them
            out = frame.with_columns(pl.col("start").dt.epoch("ns"), pl.col("end").dt.epoch("ns"))
        else:  # logs: RFC 3339 strings
            out = frame.with_columns(pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"))
        out.write_csv(path, compression="gzip", compression_level=1)
    else:
        raise ValueError(f"unknown format {fmt!r}; use parquet or csv.gz")
    return path


# -- the cases, each run in a child process ------------------------------------------------------
NEZHA_SPANS = {"trace_id": "TraceID", "span_id": "SpanID", "parent_id": "ParentID", "entity": "PodName",
               "operation": "OperationName", "start": "StartTimeUnixNano", "end": "EndTimeUnixNano"}
NEZHA_LOGS = {"time": "Timestamp", "entity": "PodName", "trace_id": "TraceID", "span_id": "SpanID",
              "message": "Log"}


def _case_rcakit(spec: _Spec) -> int:
    from rcakit.telemetry.loaders import read_otlp_json, read_tables

    fmt = spec["format"]
    if fmt == "otlp":
        tel = read_otlp_json(spec["otlp"])
        return tel.metrics.height + tel.logs.height + tel.spans.height
    # What a user calls for an export: spans and logs read at the same time into one validated model.
    columns = {"spans": NEZHA_SPANS, "logs": NEZHA_LOGS} if fmt == "nezha" else None
    tel = read_tables(spans=spec["spans"], logs=spec["logs"], columns=columns, workers=spec.get("workers"))
    return tel.logs.height + tel.spans.height


def _case_pandas(spec: _Spec) -> int:
    import pandas as pd

    fmt = spec["format"]
    if fmt == "otlp":
        rows = 0
        with open(spec["otlp"], encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                doc = json.loads(line)
                for key, scopes_key, items_key in (("resourceSpans", "scopeSpans", "spans"),
                                                   ("resourceLogs", "scopeLogs", "logRecords"),
                                                   ("resourceMetrics", "scopeMetrics", "metrics")):
                    for resource_item in doc.get(key, []):
                        for scope in resource_item.get(scopes_key, []):
                            frame = pd.json_normalize(scope.get(items_key, []))
                            if items_key == "metrics":
                                frame = pd.json_normalize(scope[items_key], record_path=["gauge", "dataPoints"],
                                                          meta=["name"])
                            rows += len(frame)
        return rows
    paths = [*spec["spans"], *spec["logs"]] if isinstance(spec["spans"], list) else [spec["spans"], spec["logs"]]
    if fmt == "parquet":  # times are stored as timestamps: read_parquet gives them parsed
        return sum(len(pd.read_parquet(p)) for p in paths)
    if not spec.get("times"):
        return sum(len(pd.read_csv(p)) for p in paths)
    # What a user writes to get UTC times, as rcakit gives them: epoch columns converted, ISO strings parsed.
    rows = 0
    for p in paths:
        frame = pd.read_csv(p)
        for column in ("start", "end", "time", "Timestamp", "StartTimeUnixNano", "EndTimeUnixNano"):
            if column in frame.columns:
                values = frame[column]
                if pd.api.types.is_numeric_dtype(values):
                    frame[column] = pd.to_datetime(values, unit="ns", utc=True)
                else:
                    frame[column] = pd.to_datetime(values, utc=True, format="ISO8601")
        rows += len(frame)
    return rows


def _peak_mb(usage: resource.struct_rusage) -> float:
    """This process's peak resident memory. On Linux ``VmHWM``: ``ru_maxrss`` of a child started by
    fork and exec starts at the parent's size at the fork, which would charge the generator's memory
    to every case."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20


def _warm_up(reader: str) -> None:
    """Read 100 spans and 100 log lines, as Parquet and as gzipped CSV, with ``reader``.

    What a session pays once (imports, thread pools, first calls into compiled code) is not part of
    the measure, for either reader alike: each child does this with its own reader first.
    """
    with tempfile.TemporaryDirectory(prefix="rcakit-warm-") as tmp:
        folder = Path(tmp)
        spans, logs = generate_spans(100, seed=7), generate_logs(100, seed=8)
        files = [_write(frame, folder, name, fmt) for fmt in ("parquet", "csv.gz")
                 for frame, name in ((spans, "spans"), (logs, "logs"))]
        for fmt, (span_path, log_path) in (("parquet", files[:2]), ("csv.gz", files[2:])):
            spec: _Spec = {"format": fmt, "spans": str(span_path), "logs": str(log_path)}
            if reader == "rcakit":
                _case_rcakit(spec)
            else:
                _case_pandas({**spec, "times": True})


def _child(spec_json: str) -> None:
    spec: _Spec = json.loads(spec_json)
    # Imports, thread pools and first calls are not part of the measure (paid once per session, not
    # per file); both readers warm up the same way on the same tiny files.
    if spec["reader"] == "rcakit":
        import rcakit.telemetry.loaders  # noqa: F401
    else:
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    _warm_up(spec["reader"])
    t0 = time.perf_counter()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    rows = _case_rcakit(spec) if spec["reader"] == "rcakit" else _case_pandas(spec)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
    peak_mb = _peak_mb(usage)
    print(json.dumps({"rows": rows, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb}))


def _once(spec: _Spec, timeout: float, env: dict[str, str] | None) -> _Result:
    code = "import sys; from rcakit.bench.ingest import _child; _child(sys.argv[1])"
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit {proc.returncode}"}
    result: _Result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _run_interleaved(specs: list[tuple[_Spec, dict[str, str] | None]], repeat: int, timeout: float
                     ) -> list[_Result]:
    """Each spec ``repeat`` times, the specs taking turns (A B A B ...), so that a change of the
    machine's load during the measure weighs on every reader alike; medians per spec."""
    runs: list[list[_Result]] = [[] for _ in specs]
    failed: dict[int, _Result] = {}
    for _ in range(repeat):
        for i, (spec, env) in enumerate(specs):
            if i in failed:
                continue
            result = _once(spec, timeout, env)
            if "error" in result:
                failed[i] = result
            else:
                runs[i].append(result)
    out: list[_Result] = []
    for i, done in enumerate(runs):
        if i in failed:
            out.append(failed[i])
            continue
        out.append({
            "rows": done[-1]["rows"],
            "seconds": statistics.median(r["seconds"] for r in done),
            "cpu": statistics.median(r["cpu"] for r in done),
            "peak_mb": max(r["peak_mb"] for r in done),
            "runs": len(done),
        })
    return out


def _round(seconds: float) -> float:
    """Milliseconds below a second (the 0.1 M cases differ by a few), hundredths above."""
    return round(seconds, 3 if seconds < 1 else 2)


def _row(case: str, fmt: str, size: str, reader: str, result: _Result) -> Row:
    if "error" in result:
        return {"case": case, "format": fmt, "N": size, "reader": reader, "rows": "", "wall s": "", "CPU s": "",
                "rows/s": "", "peak MB": "", "note": "failed: " + result["error"][:120]}
    return {"case": case, "format": fmt, "N": size, "reader": reader, "rows": f"{result['rows']:,}",
            "wall s": _round(result["seconds"]), "CPU s": _round(result["cpu"]),
            "rows/s": f"{result['rows'] / max(result['seconds'], 1e-9):,.0f}", "peak MB": round(result["peak_mb"]),
            "note": f"median of {result['runs']}" if result["runs"] > 1 else "1 run"}


def _otlp_sample(folder: Path, n: int, seed: int) -> Path:
    from rcakit.telemetry import Telemetry
    from rcakit.telemetry.loaders import write_otlp_json

    rng = np.random.default_rng(seed)
    spans = generate_spans(n, seed=seed)
    logs = generate_logs(n, seed=seed + 1)
    steps = max(1, n // 100)
    metrics = pl.DataFrame({
        "time": pl.Series(_T0 + np.repeat(np.arange(steps) * 15_000_000_000, 20)).cast(pl.Datetime("ns", "UTC")),
        "entity": pl.Series([f"ts-{s}-service" for s in _SERVICES] * steps),
        "metric": "cpu",
        "value": rng.random(steps * 20),
    })
    tel = Telemetry(metrics, logs, spans, source="otlp-sample")
    return write_otlp_json(tel, folder / "otlp-sample.jsonl")


def _load_average() -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rcakit.bench ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.1,1,10", help="millions of spans (and as many log lines), comma-separated")
    parser.add_argument("--formats", default="parquet,csv.gz", help="parquet and/or csv.gz")
    parser.add_argument("--quick", action="store_true", help="sizes 0.1 and 1 only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case below 10 M (medians are quoted)")
    parser.add_argument("--repeat-large", type=int, default=1,
                        help="runs per case at 10 M and above (each pandas read moved 2-3x run to run there)")
    parser.add_argument("--otlp-n", type=int, default=100_000, help="spans (and log lines) in the OTLP sample")
    parser.add_argument("--no-nezha", action="store_true", help="skip the Nezha day")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    parser.add_argument("--sequential", action="store_true",
                        help="also run the rcakit cases on one thread (tables read one after the other)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tmp", default=None, help="folder for the generated corpus (default: system temp)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    parser.add_argument("--malloc-conf", default=None,
                        help="also run the rcakit cases with this polars allocator setting, e.g. "
                             "'dirty_decay_ms:0,muzzy_decay_ms:0' (sets _RJEM_MALLOC_CONF in the child)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = [0.1, 1.0] if args.quick else [float(s) for s in args.sizes.split(",") if s.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    readers = ["rcakit"] if args.no_pandas else ["rcakit", "pandas"]
    rows: list[Row] = []
    print(f"# ingest benchmark: {os.cpu_count()} CPUs, polars {pl.__version__}, load average at start "
          f"{_load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="rcakit-ingest-", dir=args.tmp) as tmp:
        folder = Path(tmp)
        for size in sizes:
            rows += _corpus_rows(args, folder, size, formats, readers)
        if not args.no_nezha:
            rows += _nezha_rows(args, readers)
        if args.otlp_n > 0:
            rows += _otlp_rows(args, folder, readers)
        shutil.rmtree(folder, ignore_errors=True)
    print(markdown_table(rows))
    print(f"\nload average at end {_load_average()} (1/5/15 min); wall time is shared-machine time, "
          "CPU time is the sum over threads")
    return 0


def _corpus_rows(args: argparse.Namespace, folder: Path, size: float, formats: list[str],
                 readers: list[str]) -> list[Row]:
    """Generate ``size`` million spans and log lines in each format and time every reader on them."""
    rows: list[Row] = []
    n = round(size * 1_000_000)
    label = f"{size:g} M"
    t0 = time.perf_counter()
    spans = generate_spans(n, seed=args.seed)
    logs = generate_logs(n, seed=args.seed + 1)
    files = {fmt: (_write(spans, folder, f"spans-{n}", fmt), _write(logs, folder, f"logs-{n}", fmt))
             for fmt in formats}
    del spans, logs
    print(f"generated {label} spans + {label} log lines in {time.perf_counter() - t0:.0f} s", file=sys.stderr,
          flush=True)
    repeat = max(1, args.repeat_large if n >= 10_000_000 else args.repeat)
    for fmt, (span_path, log_path) in files.items():
        variants = _variants(args, readers, fmt, {"format": fmt, "spans": str(span_path), "logs": str(log_path)})
        results = _run_interleaved([(spec, env) for _, spec, env in variants], repeat, args.timeout)
        for (name, _, _), result in zip(variants, results, strict=True):
            rows.append(_row("spans + logs", fmt, label, name, result))
            print(markdown_table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
        span_path.unlink()
        log_path.unlink()
    return rows


def _variants(args: argparse.Namespace, readers: list[str], fmt: str, files: _Spec,
              ) -> list[tuple[str, _Spec, dict[str, str] | None]]:
    """(name, child spec, child environment) of every reader measured on one pair of files."""
    variants: list[tuple[str, _Spec, dict[str, str] | None]] = []
    for reader in readers:
        spec: _Spec = {"reader": reader, **files}
        variants.append((reader, spec, None))
        if reader == "rcakit" and args.sequential:
            variants.append(("rcakit workers=1", {**spec, "workers": 1}, None))
        if reader == "rcakit" and args.malloc_conf:
            variants.append((f"rcakit (allocator: {args.malloc_conf})", spec,
                             {"_RJEM_MALLOC_CONF": args.malloc_conf}))
        if reader == "pandas" and fmt == "csv.gz":
            variants.append(("pandas + times", {**spec, "times": True}, None))
    return variants


def _nezha_rows(args: argparse.Namespace, readers: list[str]) -> list[Row]:
    """Every trace and log file of the Nezha day 2023-01-30, when the shared datasets are there."""
    from rcakit._paths import shared_datasets_dir

    root = shared_datasets_dir()
    day = root / "nezha-trainticket" / "rca_data" / "2023-01-30" if root else None
    if day is None or not day.is_dir():
        print("Nezha dataset not found (set RCAKIT_DATASETS); skipped", file=sys.stderr)
        return []
    spec: _Spec = {"format": "nezha", "spans": sorted(map(str, (day / "trace").glob("*.csv.gz"))),
                   "logs": sorted(map(str, (day / "log").glob("*.csv.gz")))}
    nezha: list[tuple[str, _Spec]] = [(reader, {**spec, "reader": reader}) for reader in readers]
    if args.sequential:
        nezha.insert(1, ("rcakit workers=1", {**spec, "reader": "rcakit", "workers": 1}))
    if "pandas" in readers:
        nezha.append(("pandas + times", {**spec, "reader": "pandas", "times": True}))
    results = _run_interleaved([(one, None) for _, one in nezha], max(1, args.repeat), args.timeout)
    return [_row("Nezha day (51+51 files)", "csv.gz", "-", name, result)
            for (name, _), result in zip(nezha, results, strict=True)]


def _otlp_rows(args: argparse.Namespace, folder: Path, readers: list[str]) -> list[Row]:
    path = _otlp_sample(folder, args.otlp_n, args.seed)
    size_mb = path.stat().st_size / 2**20
    results = _run_interleaved([({"reader": reader, "format": "otlp", "otlp": str(path)}, None)
                                for reader in readers], max(1, args.repeat), args.timeout)
    return [_row(f"OTLP JSON sample ({size_mb:.0f} MB)", "otlp json", f"{args.otlp_n / 1e6:g} M", reader, result)
            for reader, result in zip(readers, results, strict=True)]


if __name__ == "__main__":
    raise SystemExit(main())
