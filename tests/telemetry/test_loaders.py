"""Loaders: each format on small fixtures, OTLP round trips, mappings, load() dispatch, Nezha files."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from rcakit.errors import DataError, SchemaError
from rcakit.telemetry import Telemetry
from rcakit.telemetry.loaders import (
    load,
    read_csv,
    read_jaeger_json,
    read_otlp_json,
    read_parquet,
    read_prometheus_json,
    sniff_format,
    write_otlp_json,
)

T0 = datetime(2023, 1, 30, 12, 0, tzinfo=UTC)


def _telemetry(seed: int = 0) -> Telemetry:
    rng = np.random.default_rng(seed)
    n = 40
    metrics = pl.DataFrame({
        "time": [T0 + timedelta(seconds=15 * (i // 4)) for i in range(n)],
        "entity": ["cart", "cart", "db", "db"] * (n // 4),
        "metric": ["cpu", "latency", "cpu", "connections"] * (n // 4),
        "value": rng.normal(size=n).round(6).tolist(),
    }).with_columns(pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise(pl.col("value")).alias("value"))
    logs = pl.DataFrame({
        "time": [T0 + timedelta(milliseconds=250 * i) for i in range(10)],
        "entity": ["cart", "db"] * 5,
        "level": ["INFO", "ERROR"] * 5,
        "message": [f"line {i} ünïcode" for i in range(10)],
        "trace_id": ["t1"] * 5 + [None] * 5,
        "span_id": ["a", "b", None, None, None] + [None] * 5,
    })
    spans = pl.DataFrame({
        "trace_id": ["t1", "t1", "t1", "t2"],
        "span_id": ["a", "b", "c", "d"],
        "parent_id": [None, "a", "b", None],
        "entity": ["front", "cart", "db", "front"],
        "operation": ["GET /", "getCart", "SELECT", "GET /health"],
        "start": [T0, T0 + timedelta(milliseconds=1), T0 + timedelta(milliseconds=2), T0 + timedelta(seconds=1)],
        "end": [T0 + timedelta(milliseconds=90), T0 + timedelta(milliseconds=80), T0 + timedelta(milliseconds=30),
                T0 + timedelta(seconds=1, milliseconds=5)],
        "status": [None, "ERROR", "ERROR", None],
        "error": [False, True, True, False],
    })
    return Telemetry(metrics, logs, spans, source="fixture")


def _canonical(table: pl.DataFrame, columns: list[str], keys: list[str]) -> pl.DataFrame:
    return table.select(columns).sort(keys)


def _assert_same(a: Telemetry, b: Telemetry) -> None:
    from polars.testing import assert_frame_equal

    assert_frame_equal(_canonical(a.metrics, ["time", "entity", "metric", "value"], ["time", "entity", "metric"]),
                       _canonical(b.metrics, ["time", "entity", "metric", "value"], ["time", "entity", "metric"]))
    log_cols = ["time", "entity", "level", "message", "trace_id", "span_id"]
    assert_frame_equal(_canonical(a.logs, log_cols, ["time", "entity"]), _canonical(b.logs, log_cols, ["time", "entity"]))
    span_cols = ["trace_id", "span_id", "parent_id", "entity", "operation", "start", "end", "duration", "error", "status"]
    assert_frame_equal(_canonical(a.spans, span_cols, ["trace_id", "span_id"]),
                       _canonical(b.spans, span_cols, ["trace_id", "span_id"]))


# -- OTLP -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["export.jsonl", "export.json.gz"])
def test_otlp_round_trip_equals_the_input(tmp_path: Path, name: str) -> None:
    tel = _telemetry()
    path = write_otlp_json(tel, tmp_path / name)
    back = read_otlp_json(path)
    _assert_same(tel, back)
    assert back.report.find("without a value")[0].rows == 1, "the null metric value travels as a flagged point"
    assert load(path).metrics.height == tel.metrics.height


def test_otlp_round_trip_random_telemetry(tmp_path: Path) -> None:
    for seed in range(3):
        tel = _telemetry(seed)
        _assert_same(tel, read_otlp_json(write_otlp_json(tel, tmp_path / f"r{seed}.jsonl")))


def _otlp_document() -> dict:
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}},
                          {"key": "host.name", "value": {"stringValue": "node-1"}}]}
    t = "1675082291000000000"
    return {
        "resourceMetrics": [{"resource": res, "scopeMetrics": [{"scope": {"name": "x"}, "metrics": [
            {"name": "cpu.utilization", "gauge": {"dataPoints": [{"timeUnixNano": t, "asDouble": 0.25}]}},
            {"name": "requests", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                         "dataPoints": [{"timeUnixNano": t, "asInt": "42",
                                                         "attributes": [{"key": "code", "value": {"intValue": "500"}}]}]}},
            {"name": "latency", "histogram": {"dataPoints": [
                {"timeUnixNano": t, "count": "4", "sum": 2.0, "bucketCounts": ["1", "3"], "explicitBounds": [0.1]}]}},
        ]}]}],
        "resourceLogs": [{"resource": res, "scopeLogs": [{"logRecords": [
            {"timeUnixNano": t, "severityText": "warn", "body": {"stringValue": "slow query"},
             "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"},
            {"timeUnixNano": "0", "observedTimeUnixNano": t, "severityNumber": 17,
             "body": {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}},
        ]}]}],
        "resourceSpans": [{"resource": res, "scopeSpans": [{"spans": [
            {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b173", "parentSpanId": "",
             "name": "POST /checkout", "kind": 2, "startTimeUnixNano": t, "endTimeUnixNano": "1675082291500000000",
             "status": {"code": 2, "message": "payment failed"}},
            {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
             "parentSpanId": "eee19b7ec3c1b173", "name": "charge", "startTimeUnixNano": "1675082291100000000",
             "endTimeUnixNano": "1675082291400000000", "status": {}},
        ]}]}],
    }


def test_otlp_collector_document(tmp_path: Path) -> None:
    path = tmp_path / "otel.json"
    path.write_text(json.dumps(_otlp_document(), indent=2))
    tel = read_otlp_json(path)
    values = dict(zip(tel.metrics.get_column("metric"), tel.metrics.get_column("value"), strict=True))
    # a histogram gives its count and sum as exported, the mean and quantiles interpolated in its buckets
    assert values == {"cpu.utilization": 0.25, 'requests{code="500"}': 42.0, "latency.count": 4.0,
                      "latency.sum": 2.0, "latency.mean": 0.5, "latency.p50": 0.1, "latency.p95": 0.1,
                      "latency.p99": 0.1}
    assert tel.entities() == ["checkout"]
    assert tel.logs.get_column("level").to_list() == ["WARN", "ERROR"]
    assert tel.logs.get_column("message")[1] == '{"k": "v"}'
    assert tel.report.find("observedTimeUnixNano")[0].rows == 1
    spans = tel.spans.sort("start")
    assert spans.get_column("parent_id").to_list() == [None, "eee19b7ec3c1b173"]
    assert spans.get_column("error").to_list() == [True, False]
    assert spans.get_column("status")[0] == "payment failed"
    assert spans.get_column("duration").to_list() == pytest.approx([0.5, 0.3])


def test_otlp_json_lines_from_the_file_exporter(tmp_path: Path) -> None:
    doc = _otlp_document()
    lines = [json.dumps({k: v}) for k, v in doc.items()]
    path = tmp_path / "otel.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    assert sniff_format(path) == "otlp"
    tel = load(path)
    assert tel.modalities == ["metrics", "logs", "spans"]


# -- Jaeger and Prometheus ------------------------------------------------------------------------
def _jaeger() -> dict:
    return {"data": [{"traceID": "abc", "processes": {"p1": {"serviceName": "frontend"}, "p2": {"serviceName": "redis"}},
                      "spans": [
                          {"traceID": "abc", "spanID": "s1", "operationName": "HTTP GET /dispatch", "references": [],
                           "startTime": 1675082291000000, "duration": 700000, "processID": "p1",
                           "tags": [{"key": "http.status_code", "type": "int64", "value": 500}]},
                          {"traceID": "abc", "spanID": "s2", "operationName": "GetDriver",
                           "references": [{"refType": "CHILD_OF", "traceID": "abc", "spanID": "s1"}],
                           "startTime": 1675082291100000, "duration": 250000, "processID": "p2",
                           "tags": [{"key": "error", "type": "bool", "value": True}]},
                          {"traceID": "abc", "spanID": "s3", "operationName": "async",
                           "references": [{"refType": "FOLLOWS_FROM", "traceID": "abc", "spanID": "s1"}],
                           "startTime": 1675082291800000, "duration": 10, "processID": "p1", "tags": []},
                      ]}]}


def test_jaeger_spans(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(_jaeger()))
    assert sniff_format(path) == "jaeger"
    tel = read_jaeger_json(path)
    spans = tel.spans.sort("start")
    assert spans.get_column("entity").to_list() == ["frontend", "redis", "frontend"]
    assert spans.get_column("parent_id").to_list() == [None, "s1", "s1"]
    assert spans.get_column("error").to_list() == [False, True, False]
    assert spans.get_column("status")[0] == "500"
    assert spans.get_column("duration").to_list() == pytest.approx([0.7, 0.25, 1e-5])
    assert spans.get_column("start")[0] == datetime(2023, 1, 30, 12, 38, 11, tzinfo=UTC)
    assert tel.report.find("FOLLOWS_FROM")[0].rows == 1


def _prometheus(kind: str = "matrix") -> dict:
    if kind == "vector":
        result = [{"metric": {"__name__": "up", "job": "api", "instance": "10.0.0.1:9100"}, "value": [1675080000, "1"]}]
    else:
        result = [
            {"metric": {"__name__": "http_requests_total", "job": "api", "code": "500"},
             "values": [[1675080000, "3"], [1675080015.5, "4"]]},
            {"metric": {"__name__": "http_requests_total", "job": "api", "code": "200"},
             "values": [[1675080000, "30"]]},
            {"metric": {}, "values": [[1675080000, "0.5"]]},
        ]
    return {"status": "success", "data": {"resultType": kind, "result": result}}


def test_prometheus_matrix(tmp_path: Path) -> None:
    path = tmp_path / "range.json"
    path.write_text(json.dumps(_prometheus()))
    tel = read_prometheus_json(path)
    assert tel.nodes() == ['api:http_requests_total{code="200"}', 'api:http_requests_total{code="500"}',
                           "prometheus:value"]
    assert tel.series('api:http_requests_total{code="500"}').get_column("value").to_list() == [3.0, 4.0]
    assert tel.metrics.get_column("time").max() == datetime(2023, 1, 30, 12, 0, 15, 500000, tzinfo=UTC)
    assert tel.report.find("without job")[0].rows == 1
    assert tel.report.find("without '__name__'")[0].rows == 1


def test_prometheus_vector_and_entity_label(tmp_path: Path) -> None:
    path = tmp_path / "instant.json"
    path.write_text(json.dumps(_prometheus("vector")))
    assert sniff_format(path) == "prometheus"
    assert read_prometheus_json(path).nodes() == ['api:up{instance="10.0.0.1:9100"}']
    by_instance = read_prometheus_json(path, entity_label="instance")
    assert by_instance.entities() == ["10.0.0.1_9100"], "':' is not allowed in entity names (reported)"
    assert by_instance.report.find("':'")
    with pytest.raises(DataError) as info:
        read_prometheus_json(path, entity_label="pod")
    assert info.value.column == "pod" and "instant.json" in str(info.value)


# -- CSV and Parquet ------------------------------------------------------------------------------
def test_csv_and_parquet_with_a_column_mapping(tmp_path: Path) -> None:
    frame = pl.DataFrame({
        "TraceID": ["t1", "t1"], "SpanID": ["0012", "0013"], "ParentID": ["root", "0012"],
        "PodName": ["front-1", "cart-1"], "OperationName": ["GET /", "get"],
        "StartTimeUnixNano": [1675082291682000000, 1675082291692000000],
        "EndTimeUnixNano": [1675082291782000000, 1675082291702000000], "Duration": [100000, 10000],
    })
    mapping = {"trace_id": "TraceID", "span_id": "SpanID", "parent_id": "ParentID", "entity": "PodName",
               "operation": "OperationName", "start": "StartTimeUnixNano", "end": "EndTimeUnixNano"}
    frame.write_csv(tmp_path / "spans.csv")
    (tmp_path / "spans.csv.gz").write_bytes(gzip.compress((tmp_path / "spans.csv").read_bytes()))
    frame.write_parquet(tmp_path / "spans.parquet")
    results = [read_csv(tmp_path / "spans.csv", kind="spans", columns=mapping),
               read_csv(str(tmp_path / "spans.csv.gz"), kind="spans", columns=mapping),
               read_parquet(tmp_path / "spans.parquet", kind="spans", columns=mapping),
               load(tmp_path / "spans.parquet", kind="spans", columns=mapping)]
    for tel in results:
        spans = tel.spans
        assert spans.get_column("span_id").to_list() == ["0012", "0013"], "ids keep their leading zeros"
        assert spans.get_column("parent_id").to_list() == [None, "0012"]
        assert spans.get_column("duration").to_list() == pytest.approx([0.1, 0.01])
        assert "Duration" in spans.columns, "unmapped columns are kept"
        assert not tel.report.find("orphan")


def test_mapping_errors_name_the_column(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("ts,svc,name,v\n1675080000,a,cpu,1\n")
    with pytest.raises(SchemaError) as info:
        read_csv(path, columns={"time": "ts", "entity": "service"})
    assert info.value.column == "service" and "m.csv" in str(info.value)
    with pytest.raises(SchemaError):
        read_csv(path, columns={"timestamp": "ts"})
    tel = read_csv(path, columns={"entity": "svc", "value": "v"})
    assert tel.nodes() == ["a:cpu"]
    assert tel.report.find("used column 'ts' as 'time'")
    assert tel.report.find("used column 'name' as 'metric'")


def test_wide_tables(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("timestamp;cart:cpu;db:cpu;latency\n2023-01-30T12:00:00Z;1;2;3\n2023-01-30T12:01:00Z;4;5;6\n")
    tel = read_csv(path, layout="wide", columns={"time": "timestamp"}, entity="front")
    assert tel.nodes() == ["cart:cpu", "db:cpu", "front:latency"]
    assert tel.metrics.get_column("time").is_sorted()
    assert tel.series("db:cpu").get_column("value").to_list() == [2.0, 5.0]
    pl.read_csv(path, separator=";").write_parquet(tmp_path / "wide.parquet")
    assert read_parquet(tmp_path / "wide.parquet", layout="wide", columns={"time": "timestamp"},
                        entity="front").nodes() == tel.nodes()


def test_several_files_are_merged_and_errors_name_each_file(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"part{i}.csv").write_text(f"time,entity,metric,value\n{1675080000 + i},a,cpu,{i}\n")
    tel = read_csv(sorted(tmp_path.glob("part*.csv")))
    assert tel.metrics.get_column("value").to_list() == [0.0, 1.0, 2.0]
    (tmp_path / "part9.csv").write_text("time,entity,metric,value\n1675080009,,cpu,1\n")
    with pytest.raises(DataError) as info:
        read_csv(sorted(tmp_path.glob("part*.csv")))
    assert "part9.csv" in str(info.value) and info.value.row == 0


def test_error_row_is_the_file_row_even_after_sorting(tmp_path: Path) -> None:
    path = tmp_path / "unsorted.csv"
    path.write_text("time,entity,metric,value\n1675080060,a,cpu,1\n1675080000,a,cpu,2\n1675080030,,cpu,3\n")
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert info.value.row == 2 and info.value.column == "entity"


def test_parquet_read_in_time_order_keeps_file_rows_in_errors(tmp_path: Path) -> None:
    frame = pl.DataFrame({"ts": [1675080060, 1675080000, 1675080030, 1675080090],
                          "service": ["a", "a", "b", "b"], "metric": ["cpu"] * 4, "value": [1.0, 2.0, 3.0, 4.0]})
    frame.write_parquet(tmp_path / "ok.parquet")
    tel = read_parquet(tmp_path / "ok.parquet", columns={"time": "ts"})
    assert tel.metrics.get_column("value").to_list() == [2.0, 3.0, 1.0, 4.0]
    assert tel.report.find("sorted")[0].rows == 4
    assert tel.report.find("used column 'service' as 'entity'")
    frame.with_columns(pl.Series("service", ["a", "a", "", "b"])).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DataError) as info:
        read_parquet(tmp_path / "bad.parquet", columns={"time": "ts"})
    assert info.value.row == 2 and info.value.column == "entity"


def test_time_format(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("time;entity;metric;value\n30/01/2023 12:00:00;a;cpu;1,5\n30/01/2023 12:01:00;a;cpu;2\n")
    tel = read_csv(path, time_format="%d/%m/%Y %H:%M:%S")
    assert tel.metrics.get_column("time").to_list() == [T0, T0 + timedelta(minutes=1)]
    assert tel.report.find("naive")[0].rows == 2
    assert tel.report.find("non-numbers")[0].rows == 1, "'1,5' is not a number with a decimal point"
    with pytest.raises(DataError) as info:
        read_csv(path, time_format="%Y-%m-%d")
    assert info.value.row == 0 and info.value.column == "time"


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("time,entity\n")
    with pytest.raises(DataError) as info:
        read_parquet(path)
    assert "fake.parquet" in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(DataError) as info:
        load("/nonexistent/x.csv")
    assert "no such file" in str(info.value)


# -- a real day: Nezha's TrainTicket traces and logs ---------------------------------------------------
NEZHA_SPANS = {"trace_id": "TraceID", "span_id": "SpanID", "parent_id": "ParentID", "entity": "PodName",
               "operation": "OperationName", "start": "StartTimeUnixNano", "end": "EndTimeUnixNano"}
NEZHA_LOGS = {"time": "Timestamp", "entity": "PodName", "trace_id": "TraceID", "span_id": "SpanID", "message": "Log"}


def test_nezha_minute_through_the_generic_loader(nezha_dir: Path) -> None:
    day = nezha_dir / "rca_data" / "2023-01-30"
    spans = read_csv(day / "trace" / "12_38_trace.csv.gz", kind="spans", columns=NEZHA_SPANS)
    assert spans.spans.height == 4408  # the file's line count minus its header
    assert spans.spans.get_column("parent_id").null_count() > 0, "'root' parents are roots"
    assert all(name.startswith("ts-") for name in spans.entities())
    window = spans.time_range()
    assert window is not None and window.start.hour == 12
    logs = read_csv(day / "log" / "12_38_log.csv.gz", kind="logs", columns=NEZHA_LOGS)
    assert logs.logs.height == 2322
    assert logs.logs.get_column("message").str.contains('"log"').all()
    assert logs.logs.get_column("time").dt.year().unique().to_list() == [2023]
