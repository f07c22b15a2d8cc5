"""The ingest benchmark's corpus and a tiny end-to-end run of ``python -m rcakit.bench ingest``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rcakit.bench.ingest import _write, generate_logs, generate_spans, main
from rcakit.telemetry.loaders import read_csv, read_parquet


def test_generated_spans_form_trees_and_load_without_coercions(tmp_path: Path) -> None:
    spans = generate_spans(2_000, seed=3)
    assert spans.height == 2_000
    assert spans.get_column("span_id").n_unique() == 2_000
    roots = spans.filter(pl.col("parent_id").is_null())
    assert roots.height == 200 and roots.get_column("trace_id").n_unique() == 200
    assert not spans.get_column("start").is_sorted(), "export order, not time order"
    tel = read_parquet(_write(spans, tmp_path, "spans", "parquet"), kind="spans")
    assert list(tel.report) == [], "clean spans load without a coercion; they keep the export's order"
    assert tel.spans.select(spans.columns).equals(spans)
    from_csv = read_csv(_write(spans, tmp_path, "spans", "csv.gz"), kind="spans")
    assert not from_csv.report.find("orphan") and not from_csv.report.find("repeats")
    assert from_csv.spans.get_column("duration").sum() == pytest.approx(tel.spans.get_column("duration").sum())


def test_generated_logs_round_trip_through_csv_gz(tmp_path: Path) -> None:
    logs = generate_logs(1_000, seed=4)
    tel = read_csv(_write(logs, tmp_path, "logs", "csv.gz"), kind="logs")
    assert tel.logs.height == 1_000
    assert tel.logs.get_column("time").to_list() == logs.get_column("time").to_list()
    assert not tel.report.find("naive") and not tel.report.find("sorted")


@pytest.mark.slow
def test_ingest_benchmark_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sizes", "0.002", "--repeat", "1", "--no-nezha", "--otlp-n", "300"]) == 0
    out = capsys.readouterr().out
    assert "| case |" in out
    for reader in ("rcakit", "pandas", "pandas + times"):
        assert f"| {reader} |" in out
    assert "failed" not in out
    assert "OTLP JSON sample" in out
