"""The benchmarks' shared helpers (rcakit.bench._common) and the ``python -m rcakit.bench`` entry point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from rcakit.bench import __main__ as bench_main
from rcakit.bench._common import available_benchmarks, markdown_table, median_time, peak_rss_mb, wide_metrics
from rcakit.telemetry import Telemetry


def test_median_time_calls_repeat_times_and_returns_the_last_result() -> None:
    calls: list[int] = []

    def work() -> int:
        calls.append(len(calls))
        return len(calls)

    seconds, result = median_time(work, repeat=5)
    assert len(calls) == 5
    assert result == 5
    assert 0.0 <= seconds < 1.0


def test_markdown_table_formats_floats_ints_and_missing_cells() -> None:
    rows = [{"name": "a", "score": 0.123456, "big": 12345.6, "n": 3},
            {"name": "b<c", "score": 1.0, "n": 10, "extra": "ignored"}]
    lines = markdown_table(rows).splitlines()
    assert lines[0] == "| name | score | big | n |"
    assert lines[1] == "|---|---|---|---|"
    assert lines[2] == "| a | 0.123 | 12,346 | 3 |"
    assert lines[3] == "| b<c | 1 |  | 10 |"   # a column a row lacks is an empty cell; columns come from row 1


def test_markdown_table_takes_the_columns_asked_in_their_order() -> None:
    table = markdown_table([{"a": 1, "b": 2}], columns=["b", "a", "c"])
    assert table.splitlines()[0] == "| b | a | c |"
    assert table.splitlines()[2] == "| 2 | 1 |  |"
    assert markdown_table([]) == "(no rows)"


def test_available_benchmarks_are_the_public_modules() -> None:
    names = available_benchmarks()
    assert {"localize", "ingest", "detect", "graph", "sim"} <= set(names)
    assert not [n for n in names if n.startswith("_")]
    assert names == sorted(names)


def test_the_entry_point_lists_benchmarks_and_refuses_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main.main([]) == 0
    assert "localize" in capsys.readouterr().out
    assert bench_main.main(["no-such-bench"]) == 2
    assert "unknown benchmark 'no-such-bench'" in capsys.readouterr().err


def test_peak_rss_is_a_plausible_number_of_megabytes() -> None:
    assert 10 < peak_rss_mb() < 1_000_000


def test_wide_metrics_has_one_column_per_node_and_averages_duplicates() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    t1 = t0 + timedelta(minutes=1)
    metrics = pl.DataFrame({"time": [t1, t0, t0, t0], "entity": ["db", "db", "db", "api"],
                            "metric": ["cpu", "cpu", "cpu", "latency"], "value": [5.0, 1.0, 3.0, 7.0]})
    wide = wide_metrics(Telemetry(metrics))
    assert wide.columns[0] == "time" and set(wide.columns[1:]) == {"db:cpu", "api:latency"}
    assert wide.get_column("time").is_sorted()
    assert wide.get_column("db:cpu").to_list() == [2.0, 5.0]
    assert wide.get_column("api:latency").to_list() == [7.0, None]
