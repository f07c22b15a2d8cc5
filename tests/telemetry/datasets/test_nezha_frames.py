"""Nezha's CSV files read into canonical frames (rcakit.telemetry.datasets._nezha_frames), on small files
written here, and the windows and names of the incidents (rcakit.telemetry.datasets.nezha)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from rcakit.errors import DataError
from rcakit.telemetry.datasets import nezha
from rcakit.telemetry.datasets._nezha_frames import _metric_names as metric_names
from rcakit.telemetry.datasets._nezha_frames import read_logs, read_metrics, read_spans
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow

T0 = 1_674_993_600  # 2023-01-29T12:00:00Z
POD = "ts-order-service-866bd68c97-dzqgd"


def _csv(path: Path, frame: pl.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return path


def _actions(report: LoadReport) -> list[str]:
    return [c.action for c in report.coercions]


def test_metric_names_get_a_unit_suffix_only_when_two_headers_would_collide() -> None:
    assert metric_names(["CpuUsageRate(%)", "MemoryUsage(Mi)"]) == {"CpuUsageRate(%)": "cpu_usage_rate",
                                                                     "MemoryUsage(Mi)": "memory_usage"}
    assert metric_names(["Latency(s)", "Latency(ms)"]) == {"Latency(s)": "latency_s", "Latency(ms)": "latency_ms"}
    with pytest.raises(DataError, match="both become metric"):
        metric_names(["Latency", "latency"])


def test_pod_and_frontend_metrics_become_long_rows_of_services(tmp_path: Path) -> None:
    day = tmp_path / "day"
    _csv(day / "metric" / f"{POD}_metric.csv", pl.DataFrame({
        "Time": ["a", "b"], "TimeStamp": [str(T0), str(T0 + 60)], "PodName": [POD, POD],
        "CpuUsageRate(%)": ["10.5", "oops"]}))
    _csv(day / "metric" / "front_service.csv", pl.DataFrame({
        "TimeStamp": [str(T0)], "SuccessRate(%)": ["99.0"], "LatencyP90(s)": ["0.25"]}))
    report = LoadReport()
    metrics, headers = read_metrics(day, report)
    rows = {(e, m): v for e, m, v in metrics.select("entity", "metric", "value").iter_rows()
            if v is not None}
    assert rows == {("ts-order-service", "cpu_usage_rate"): 10.5, ("frontend", "success_rate"): 99.0,
                    ("frontend", "latency_p90"): 0.25}
    assert metrics.get_column("time").min() == datetime.fromtimestamp(T0, UTC)
    assert set(metrics.get_column("pod").drop_nulls()) == {POD}
    assert headers["cpu_usage_rate"] == "CpuUsageRate(%)" and headers["frontend:latency_p90"] == "LatencyP90(s)"
    assert "set non-numbers to null" in _actions(report)


def test_an_empty_metric_folder_is_a_layout_error(tmp_path: Path) -> None:
    (tmp_path / "day" / "metric").mkdir(parents=True)
    with pytest.raises(DataError, match=r"no <pod>_metric\.csv"):
        read_metrics(tmp_path / "day", LoadReport())


def test_log_lines_are_unwrapped_their_times_repaired_and_levels_read(tmp_path: Path) -> None:
    ns = T0 * 10**9
    path = _csv(tmp_path / "12_00_log.csv", pl.DataFrame({
        "TimeUnixNano": [str(ns), "-6795364578871345152", str(ns + 2 * 10**9)],
        "PodName": [POD, POD, POD],
        "Log": [json.dumps({"log": "12:00:00 WARNING slow query\n", "time": "2023-01-29T12:00:00Z"}),
                json.dumps({"log": "12:00:01 ERROR boom\n", "time": "2023-01-29T12:00:01.5Z"}),
                "plain SEVERE line"],
        "TraceID": ["t1", "t2", ""]}))
    report = LoadReport()
    logs = read_logs([path], report, "rca")
    assert logs.get_column("message").to_list() == ["12:00:00 WARNING slow query", "12:00:01 ERROR boom",
                                                    "plain SEVERE line"]
    assert logs.get_column("level").to_list() == ["WARN", "ERROR", "ERROR"]
    assert logs.get_column("time").to_list()[1] == datetime(2023, 1, 29, 12, 0, 1, 500000, tzinfo=UTC)
    assert set(logs.get_column("entity")) == {"ts-order-service"} and set(logs.get_column("phase")) == {"rca"}
    actions = _actions(report)
    assert any("TimeUnixNano is not a plausible epoch" in a for a in actions)
    assert "kept log lines that are not JSON-wrapped as they are" in actions


def test_spans_take_their_duration_from_start_and_end_and_judge_upstreams_unit(tmp_path: Path) -> None:
    ns = T0 * 10**9
    path = _csv(tmp_path / "12_00_trace.csv", pl.DataFrame({
        "TraceID": ["t", "t"], "SpanID": ["a", "b"], "ParentID": ["root", "a"], "PodName": [POD, POD],
        "OperationName": ["GET", "SQL"], "StartTimeUnixNano": [str(ns), str(ns + 10**6)],
        "EndTimeUnixNano": [str(ns + 5 * 10**6), str(ns + 3 * 10**6)], "Duration": ["5", "2"]}))  # in ms
    report = LoadReport()
    spans, unit = read_spans([path], report, "rca")
    assert unit == "ms"
    # (epoch nanoseconds are read through Float64: exact to a few hundred nanoseconds)
    assert spans.get_column("duration").to_list() == pytest.approx([0.005, 0.002], abs=1e-6)
    assert spans.get_column("parent_id").to_list() == [None, "a"]
    assert spans.get_column("duration_us").to_list() == [5, 2]
    assert any("not microseconds" in a for a in _actions(report))


def test_a_span_ending_before_it_starts_names_the_column_and_row(tmp_path: Path) -> None:
    path = _csv(tmp_path / "12_00_trace.csv", pl.DataFrame({
        "TraceID": ["t"], "SpanID": ["a"], "ParentID": ["root"], "PodName": [POD],
        "StartTimeUnixNano": [str(T0 * 10**9 + 10**6)], "EndTimeUnixNano": [str(T0 * 10**9)]}))
    with pytest.raises(DataError, match="ends before it starts") as info:
        read_spans([path], LoadReport(), "rca")
    assert info.value.column == "EndTimeUnixNano" and info.value.row == 0


def test_no_files_give_empty_canonical_tables() -> None:
    spans, unit = read_spans([], LoadReport(), "rca")
    assert spans.height == 0 and unit is None and "duration" in spans.columns
    assert read_logs([], LoadReport(), "rca").columns[:4] == ["time", "entity", "level", "message"]


MINUTE = datetime(2023, 1, 29, 12, 0, tzinfo=UTC)


def test_the_baseline_starts_after_the_previous_faults_window_and_says_when_it_cannot() -> None:
    data = TimeWindow(MINUTE - timedelta(hours=5), MINUTE + timedelta(hours=5))
    full, overlaps = nezha._baseline(MINUTE, None, data, 30)
    assert full == TimeWindow(MINUTE - timedelta(minutes=30), MINUTE) and not overlaps
    after, overlaps = nezha._baseline(MINUTE, MINUTE - timedelta(minutes=10), data, 30)
    assert after.start == MINUTE - timedelta(minutes=10) and not overlaps
    clash, overlaps = nezha._baseline(MINUTE, MINUTE + timedelta(minutes=1), data, 30)
    assert clash.start == MINUTE - timedelta(minutes=30) and overlaps
    late_data = TimeWindow(MINUTE - timedelta(minutes=5), MINUTE + timedelta(hours=1))
    assert nezha._baseline(MINUTE, None, late_data, 30)[0].start == late_data.start


def test_two_faults_in_one_minute_on_one_service_get_distinct_names() -> None:
    names: set[str] = set()
    assert [nezha._unique_name("nezha-x", names) for _ in range(3)] == ["nezha-x", "nezha-x-2", "nezha-x-3"]
    assert names == {"nezha-x", "nezha-x-2", "nezha-x-3"}
