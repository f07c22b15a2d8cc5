"""The ingest bench (rcakit.bench.ingest): its generated corpus, both readers counting the same rows in every
format, medians over interleaved runs, and the table rows."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import rcakit.bench.ingest as ingest
from rcakit.telemetry import Telemetry


def test_generated_spans_are_seeded_trees_in_export_order() -> None:
    spans = ingest.generate_spans(95, seed=3, per_trace=10)
    assert spans.equals(ingest.generate_spans(95, seed=3, per_trace=10))
    assert not spans.equals(ingest.generate_spans(95, seed=4, per_trace=10))
    assert spans.height == 95 and spans.get_column("trace_id").n_unique() == 10
    roots = spans.filter(pl.col("parent_id").is_null())
    assert roots.height == 10
    assert set(spans.get_column("parent_id").drop_nulls()) <= set(spans.get_column("span_id"))
    assert (spans.get_column("end") > spans.get_column("start")).all()
    assert not spans.get_column("start").is_sorted()   # a collector's export is not in time order
    Telemetry(spans=spans)                              # canonical as it is


def test_generated_logs_are_in_time_order_with_ids() -> None:
    logs = ingest.generate_logs(200, seed=1)
    assert logs.columns == ["time", "entity", "level", "message", "trace_id", "span_id"]
    assert logs.get_column("time").is_sorted()
    assert logs.get_column("trace_id").str.len_chars().unique().to_list() == [32]
    assert logs.get_column("span_id").str.len_chars().unique().to_list() == [16]
    Telemetry(logs=logs)


@pytest.mark.parametrize("fmt", ["parquet", "csv.gz"])
def test_both_readers_count_the_same_rows(tmp_path: Path, fmt: str) -> None:
    spans, logs = ingest.generate_spans(120, seed=0), ingest.generate_logs(80, seed=1)
    spec = {"format": fmt, "spans": str(ingest._write(spans, tmp_path, "spans", fmt)),
            "logs": str(ingest._write(logs, tmp_path, "logs", fmt))}
    assert ingest._case_rcakit(spec) == ingest._case_pandas(spec) == ingest._case_pandas({**spec, "times": True}) \
        == 200


def test_the_csv_corpus_keeps_epoch_span_times_and_iso_log_times(tmp_path: Path) -> None:
    spans_path = ingest._write(ingest.generate_spans(10), tmp_path, "s", "csv.gz")
    logs_path = ingest._write(ingest.generate_logs(10), tmp_path, "l", "csv.gz")
    assert pl.read_csv(spans_path).get_column("start").dtype == pl.Int64
    assert pl.read_csv(logs_path).get_column("time").str.ends_with("Z").all()
    with pytest.raises(ValueError, match="unknown format"):
        ingest._write(ingest.generate_logs(1), tmp_path, "x", "xlsx")


def test_both_readers_count_the_same_otlp_records(tmp_path: Path) -> None:
    path = ingest._otlp_sample(tmp_path, 100, seed=0)
    spec = {"format": "otlp", "otlp": str(path)}
    assert ingest._case_rcakit(spec) == ingest._case_pandas(spec) > 200


def test_interleaved_runs_take_turns_give_medians_and_stop_a_failing_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    seconds = {"a": iter([3.0, 1.0, 2.0]), "b": iter([5.0])}

    def once(spec: dict[str, Any], timeout: float, env: dict[str, str] | None) -> dict[str, Any]:
        calls.append(spec["name"])
        if spec["name"] == "c":
            return {"error": "exit 1"}
        return {"rows": 10, "seconds": next(seconds[spec["name"]]), "cpu": 0.5,
                "peak_mb": 100.0 + len(calls)}

    monkeypatch.setattr(ingest, "_once", once)
    seconds["b"] = iter([5.0, 4.0, 6.0])
    a, b, c = ingest._run_interleaved([({"name": "a"}, None), ({"name": "b"}, None), ({"name": "c"}, None)],
                                      repeat=3, timeout=1.0)
    assert calls == ["a", "b", "c", "a", "b", "a", "b"]   # turns; the failing spec is not run again
    assert a["seconds"] == 2.0 and b["seconds"] == 5.0 and a["runs"] == 3
    assert a["peak_mb"] == 106.0                           # the worst run's memory
    assert c == {"error": "exit 1"}


def test_rows_round_times_and_say_failures() -> None:
    row = ingest._row("spans + logs", "parquet", "1 M", "rcakit",
                      {"rows": 2_000_000, "seconds": 0.12345, "cpu": 2.3456, "peak_mb": 512.4, "runs": 3})
    assert row["rows"] == "2,000,000" and row["wall s"] == 0.123 and row["CPU s"] == 2.35
    assert row["rows/s"] == "16,200,891" and row["peak MB"] == 512 and row["note"] == "median of 3"
    failed = ingest._row("spans + logs", "parquet", "1 M", "pandas", {"error": "Killed" * 50})
    assert failed["note"].startswith("failed: Killed") and len(failed["note"]) == len("failed: ") + 120
    assert failed["wall s"] == ""


def test_variants_add_the_sequential_allocator_and_times_baselines() -> None:
    args = argparse.Namespace(sequential=True, malloc_conf="dirty_decay_ms:0")
    files = {"format": "csv.gz", "spans": "s", "logs": "l"}
    variants = ingest._variants(args, ["rcakit", "pandas"], "csv.gz", files)
    assert [name for name, _, _ in variants] == ["rcakit", "rcakit workers=1", "rcakit (allocator: dirty_decay_ms:0)",
                                                 "pandas", "pandas + times"]
    assert variants[1][1]["workers"] == 1 and variants[2][2] == {"_RJEM_MALLOC_CONF": "dirty_decay_ms:0"}
    assert variants[4][1]["times"] is True
    plain = ingest._variants(argparse.Namespace(sequential=False, malloc_conf=None), ["rcakit", "pandas"],
                             "parquet", files)
    assert [name for name, _, _ in plain] == ["rcakit", "pandas"]
