"""``read_tables``: several tables read at once equal each table read alone; errors, reports and
interrupts behave as with one reader."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from rcakit._progress import Cancelled, CancelToken
from rcakit.bench.ingest import _write, generate_logs, generate_spans
from rcakit.errors import DataError, SchemaError
from rcakit.telemetry import Telemetry
from rcakit.telemetry.loaders import load, read_csv, read_parquet, read_tables
from rcakit.telemetry.loaders._pool import run_parallel

T0 = 1_675_080_000_000_000_000  # 2023-01-30T12:00:00Z in ns


def _metrics_csv(path: Path, seed: int, rows: int = 300) -> Path:
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame({
        "ts": pl.Series(T0 + rng.integers(0, 10**12, rows)).cast(pl.Datetime("ns", "UTC"))
        .dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"),
        "host": [f"svc-{i % 4}" for i in range(rows)],
        "metric": "cpu",
        "value": rng.random(rows),
    })
    frame.write_csv(path)
    return path


def _same(a: Telemetry, b: Telemetry) -> None:
    for kind in ("metrics", "logs", "spans"):
        left, right = getattr(a, kind), getattr(b, kind)
        assert left.columns == right.columns, kind
        assert left.equals(right), kind
    assert list(a.report) == list(b.report)


@pytest.fixture
def export(tmp_path: Path) -> dict[str, Path]:
    spans = generate_spans(4_000, seed=11)
    logs = generate_logs(3_000, seed=12)
    return {
        "spans": _write(spans, tmp_path, "spans", "parquet"),
        "spans_csv": _write(spans, tmp_path, "spans", "csv.gz"),
        "logs": _write(logs, tmp_path, "logs", "csv.gz"),
        "metrics": _metrics_csv(tmp_path / "metrics.csv", seed=13),
    }


@pytest.mark.parametrize("workers", [None, 1])
def test_merged_telemetry_equals_each_table_read_alone(export: dict[str, Path], workers: int | None) -> None:
    columns = {"metrics": {"time": "ts", "entity": "host"}}
    tel = read_tables(spans=export["spans"], logs=export["logs"], metrics=export["metrics"], columns=columns,
                      workers=workers)
    spans = read_parquet(export["spans"], kind="spans")
    logs = read_csv(export["logs"], kind="logs")
    metrics = read_csv(export["metrics"], kind="metrics", columns=columns["metrics"])
    assert tel.spans.equals(spans.spans) and tel.logs.equals(logs.logs) and tel.metrics.equals(metrics.metrics)
    assert (tel.spans.height, tel.logs.height, tel.metrics.height) == (4_000, 3_000, 300)
    # One report: every table's coercions, spans first, then logs, then metrics.
    assert list(tel.report) == [*spans.report, *logs.report, *metrics.report]
    # Spans keep the export's order (traces together); the report says nothing about them.
    assert tel.spans.get_column("span_id").equals(pl.read_parquet(export["spans"]).get_column("span_id"))
    assert not [c for c in tel.report if c.source == str(export["spans"])]


def test_concurrency_does_not_change_the_result(tmp_path: Path) -> None:
    # Several files per table, in two formats, read with 1, 2 and 8 threads.
    spans = generate_spans(6_000, seed=21)
    logs = generate_logs(6_000, seed=22)
    span_files = [_write(spans.slice(i * 2_000, 2_000), tmp_path, f"spans-{i}", fmt)
                  for i, fmt in enumerate(("parquet", "parquet", "csv.gz"))]
    log_files = [_write(logs.slice(i * 2_000, 2_000), tmp_path, f"logs-{i}", "csv.gz") for i in range(3)]
    results = [read_tables(spans=span_files, logs=log_files, workers=w) for w in (1, 2, 8)]
    for other in results[1:]:
        _same(results[0], other)
    # ... and equal to reading every file by itself and merging.
    alone = [load(p, kind="spans") for p in span_files] + [load(p, kind="logs") for p in log_files]
    merged = alone[0].merge(*alone[1:])
    assert results[0].spans.equals(merged.spans) and results[0].logs.equals(merged.logs)
    assert results[0].spans.height == 6_000 and results[0].logs.height == 6_000
    assert results[0].spans.get_column("span_id").equals(spans.get_column("span_id")), "files in the given order"
    assert results[0].logs.get_column("time").is_sorted()


def test_many_csv_files_read_in_parallel_equal_the_sequential_read(tmp_path: Path) -> None:
    logs = generate_logs(5_000, seed=31)
    files = [_write(logs.slice(i * 500, 500), tmp_path, f"log-{i:02d}", "csv.gz") for i in range(10)]
    one = read_csv(files, kind="logs", workers=1)
    many = read_csv(files, kind="logs", workers=4)
    _same(one, many)
    assert many.logs.get_column("time").to_list() == logs.get_column("time").to_list()


def test_a_bad_table_raises_its_own_error_naming_its_file(export: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad-logs.csv"
    bad.write_text("time,entity,message\n2023-01-30T12:00:00Z,a,ok\nnot a time,b,broken\n")
    with pytest.raises(DataError) as info:
        read_tables(spans=export["spans"], logs=bad)
    assert type(info.value) is DataError, "the reader's own error, not a thread-pool wrapper"
    assert info.value.source == str(bad) and info.value.column == "time" and info.value.row == 1
    missing = tmp_path / "no-entity.csv"
    missing.write_text("time,message\n2023-01-30T12:00:00Z,ok\n")
    with pytest.raises(SchemaError) as schema:
        read_tables(spans=export["spans"], logs=export["logs"], metrics=missing)
    assert schema.value.source == str(missing)


def test_a_bad_file_among_many_is_named_with_its_own_row(tmp_path: Path) -> None:
    logs = generate_logs(2_000, seed=41)
    files = [_write(logs.slice(i * 500, 500), tmp_path, f"log-{i}", "csv.gz") for i in range(3)]
    bad = tmp_path / "log-3.csv"
    bad.write_text("time,entity,level,message,trace_id,span_id\n"
                   "2023-11-15T00:00:00Z,a,INFO,ok,t,s\n2023-11-15T00:00:01Z,a,INFO,ok,t,s\nyesterday,a,INFO,x,t,s\n")
    with pytest.raises(DataError) as info:
        read_tables(logs=[*files, bad], workers=4)
    assert info.value.source == str(bad) and info.value.row == 2


def test_options_reach_each_tables_reader(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("when;host;metric;value\n30/01/2023 12:00:05;a;cpu;1\n30/01/2023 12:00:00;b;cpu;2\n")
    tel = read_tables(metrics=path, columns={"metrics": {"time": "when", "entity": "host"}},
                      options={"metrics": {"separator": ";", "time_format": "%d/%m/%Y %H:%M:%S"}})
    assert tel.metrics.get_column("entity").to_list() == ["b", "a"]
    assert tel.report.find("naive") and not tel.report.find("sniffed")
    with pytest.raises(ValueError, match="table kinds"):
        read_tables(metrics=path, columns={"metric": {"time": "when"}})
    with pytest.raises(ValueError, match="no logs files"):
        read_tables(metrics=path, options={"logs": {"separator": ";"}})
    with pytest.raises(TypeError, match="kind"):
        read_tables(metrics=path, options={"metrics": {"kind": "logs"}})
    with pytest.raises(DataError, match="no files given"):
        read_tables()


def test_a_self_describing_json_file_adds_its_tables(tmp_path: Path) -> None:
    from rcakit.telemetry.loaders import write_otlp_json

    spans = generate_spans(200, seed=51)
    logs = generate_logs(100, seed=52)
    otlp = write_otlp_json(Telemetry(None, logs, None, source="logs"), tmp_path / "logs.jsonl")
    parquet = _write(spans, tmp_path, "spans", "parquet")
    tel = read_tables(spans=parquet, logs=otlp)
    assert tel.spans.equals(read_parquet(parquet, kind="spans").spans)
    assert tel.logs.equals(load(otlp).logs) and tel.logs.height == 100


def test_run_parallel_raises_the_tasks_own_error_and_skips_the_rest() -> None:
    ran: list[int] = []

    def work(i: int) -> int:
        if i == 0:
            raise KeyError("task zero")
        time.sleep(0.05)
        ran.append(i)
        return i

    with pytest.raises(KeyError, match="task zero"):
        run_parallel(work, range(40), workers=2)
    time.sleep(0.2)
    assert len(ran) < 10, "tasks not started when the error came are cancelled"
    assert run_parallel(lambda i: i * i, range(20), workers=3) == [i * i for i in range(20)]


def test_interrupt_does_not_wait_for_running_reads() -> None:
    release = threading.Event()
    started: list[int] = []

    def slow(i: int) -> int:
        started.append(i)
        release.wait(10)
        return i

    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_parallel(slow, range(8), workers=2)
        waited = time.perf_counter() - t0
    finally:
        release.set()
        timer.cancel()
    assert waited < 3, f"Ctrl-C waited {waited:.1f} s for the running reads"
    time.sleep(0.2)
    assert len(started) == 2, "tasks not started at the interrupt never run"


def test_cancel_token_stops_the_wait() -> None:
    release = threading.Event()
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(Cancelled):
            run_parallel(lambda i: release.wait(10), range(4), workers=2, cancel=token)
    finally:
        release.set()
    assert time.perf_counter() - t0 < 3


def test_large_tables_are_read_one_after_the_other(export: dict[str, Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import rcakit.telemetry.loaders.tables as tables

    logs = _write(generate_logs(3_000, seed=61), tmp_path, "logs", "parquet")
    spans_at: list[tuple[float, float]] = []
    threads: list[str] = []
    real = tables._read_group

    def timed(task):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = real(task)
        time.sleep(0.05)  # long enough that two reads at once would overlap
        spans_at.append((t0, time.perf_counter()))
        threads.append(threading.current_thread().name)
        return out

    monkeypatch.setattr(tables, "_read_group", timed)
    # workers=1: in turn, in the calling thread.
    tel = read_tables(spans=export["spans"], logs=logs, workers=1)
    (_, a1), (b0, _) = sorted(spans_at)
    assert a1 <= b0 and threads == [threading.current_thread().name] * 2
    spans_at.clear()
    monkeypatch.setattr(tables, "_LARGE_TABLE_BYTES", 0)
    _same(tel, read_tables(spans=export["spans"], logs=logs))
    (_, a1), (b0, _) = sorted(spans_at)
    assert a1 <= b0, "two large tables were read at the same time"
    _same(tel, read_tables(spans=export["spans"], logs=logs, workers=1))
    # Asked for threads, they are read at the same time.
    spans_at.clear()
    read_tables(spans=export["spans"], logs=logs, workers=2)
    (_, a1), (b0, _) = sorted(spans_at)
    assert b0 < a1
