"""OTLP written by the OpenTelemetry SDK (JSON lines and protobuf as the Collector's file exporter writes them,
Tempo's and Grafana's trace JSON) and the protocol's own examples, read back to what the SDK recorded."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from google.protobuf import json_format
from opentelemetry.trace import StatusCode

from rcakit.errors import DataError
from rcakit.telemetry.loaders import load, read_otlp_json, read_otlp_proto, sniff_format
from tests.telemetry.formats.otel_sdk import (
    LATENCIES,
    LATENCY_BOUNDS,
    QUEUE_SIZES,
    Recorded,
    record,
    write_json_lines,
    write_proto,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def sdk() -> Recorded:
    return record()


@pytest.fixture
def files(sdk: Recorded, tmp_path: Path) -> dict[str, Path]:
    return {"json": write_json_lines(sdk.requests, tmp_path / "otel-export.jsonl"),
            "proto": write_proto(sdk.requests, tmp_path / "otel-export.binpb")}


def _metric(tel, name: str) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    return tel.metrics.filter(pl.col("metric") == name).sort("time")


def _points(sdk: Recorded, name: str) -> list:  # type: ignore[type-arg]
    out = []
    for data in sdk.metrics:
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                out += [p for m in sm.metrics if m.name == name for p in m.data.data_points]
    return out


# -- traces ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["json", "proto"])
def test_spans_keep_what_the_sdk_recorded(sdk: Recorded, files: dict[str, Path], kind: str) -> None:
    tel = load(files[kind])
    spans = {row["span_id"]: row for row in tel.spans.iter_rows(named=True)}
    assert len(spans) == len(sdk.spans) == 3
    for span in sdk.spans:
        row = spans[format(span.context.span_id, "016x")]
        assert row["trace_id"] == format(span.context.trace_id, "032x")
        assert row["parent_id"] == (format(span.parent.span_id, "016x") if span.parent else None)
        assert row["entity"] == span.resource.attributes["service.name"]
        assert row["operation"] == span.name
        assert row["start"] == pl.Series([span.start_time]).cast(pl.Datetime("ns", "UTC"))[0]
        assert row["duration"] == pytest.approx((span.end_time - span.start_time) / 1e9)
        assert row["error"] == (span.status.status_code is StatusCode.ERROR)
        assert row["kind"] == span.kind.name
    charge = next(r for r in spans.values() if r["operation"] == "charge")
    assert charge["status"] == "card declined" and charge["entity"] == "payment"
    assert set(tel.entities()) == {"frontend", "payment"}, "service.name of each resource is the entity"
    assert not tel.report.find("orphan"), "every parent is in the export"


# -- logs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["json", "proto"])
def test_logs_keep_time_level_body_and_span(sdk: Recorded, files: dict[str, Path], kind: str) -> None:
    tel = load(files[kind], span_events=False)
    logs = tel.logs
    assert logs.height == len(sdk.logs) == 4
    expected = sorted(
        (r.log_record.timestamp, r.resource.attributes["service.name"], format(r.log_record.span_id, "016x"),
         format(r.log_record.trace_id, "032x")) for r in sdk.logs)
    got = sorted(zip(logs.get_column("time").dt.epoch("ns"), logs.get_column("entity"), logs.get_column("span_id"),
                     logs.get_column("trace_id"), strict=True))
    assert got == expected
    errors = logs.filter(pl.col("level") == "ERROR")
    assert errors.get_column("message").to_list() == ["frontend: card declined for order 42",
                                                      "payment: card declined for order 42"]
    structured = logs.filter(pl.col("level") == "INFO").get_column("message")
    assert [json.loads(m) for m in structured] == [{"event": "start", "service": "frontend"},
                                                   {"event": "start", "service": "payment"}]
    assert set(logs.get_column("span_id")) <= set(tel.spans.get_column("span_id")), "logs link to their spans"


@pytest.mark.parametrize("kind", ["json", "proto"])
def test_span_events_become_log_lines_of_their_span(sdk: Recorded, files: dict[str, Path], kind: str) -> None:
    tel = load(files[kind])
    charge = next(s for s in sdk.spans if s.name == "charge")
    client = next(s for s in sdk.spans if s.name == "POST payment/charge")
    events = tel.logs.filter(pl.col("span_id").is_in([format(charge.context.span_id, "016x"),
                                                      format(client.context.span_id, "016x")])
                             & ~pl.col("message").str.contains("order 42|start"))
    rows = {r["message"]: r for r in events.iter_rows(named=True)}
    assert set(rows) == {"ValueError: card declined", "retry attempt=2"}
    exception = rows["ValueError: card declined"]
    assert (exception["level"], exception["entity"]) == ("ERROR", "payment")
    assert exception["time"] == pl.Series([charge.events[0].timestamp]).cast(pl.Datetime("ns", "UTC"))[0]
    assert tel.report.find("events recorded on spans")[0].rows == 2
    assert tel.logs.height == len(sdk.logs) + 2


# -- metrics --------------------------------------------------------------------------------------
def test_gauge_and_sum_points_are_the_sdk_values(sdk: Recorded, files: dict[str, Path]) -> None:
    tel = load(files["json"])
    for name, metric in (("process.cpu.utilization", "process.cpu.utilization"),
                         ("http.server.requests", 'http.server.requests{http.route="/checkout"}')):
        rows = _metric(tel, metric)
        points = _points(sdk, name)
        assert rows.get_column("time").dt.epoch("ns").to_list() == [p.time_unix_nano for p in points]
        assert rows.get_column("value").to_list() == [float(p.value) for p in points]
        assert set(rows.get_column("entity")) == {"frontend"}
    assert _metric(tel, 'http.server.requests{http.route="/checkout"}').get_column("value").to_list() == [5.0, 20.0]


def test_histogram_rows_cover_each_interval(sdk: Recorded, files: dict[str, Path]) -> None:
    tel = load(files["json"])
    label = '{http.route="/checkout"}'
    count = _metric(tel, f"http.server.request.duration.count{label}").get_column("value").to_list()
    total = _metric(tel, f"http.server.request.duration.sum{label}").get_column("value").to_list()
    mean = _metric(tel, f"http.server.request.duration.mean{label}").get_column("value").to_list()
    assert count == [8.0, 16.0], ".count stays cumulative, as the SDK exported it"
    assert total == pytest.approx([sum(LATENCIES[0]), sum(LATENCIES[0]) + sum(LATENCIES[1])])
    # the mean of each interval is the mean of what was recorded in it, not since the start
    assert mean == pytest.approx([np.mean(LATENCIES[0]), np.mean(LATENCIES[1])])
    bounds = (0.0, *LATENCY_BOUNDS)
    for q, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        values = _metric(tel, f"http.server.request.duration.{name}{label}").get_column("value").to_list()
        for batch, value in zip(LATENCIES, values, strict=True):
            truth = float(np.quantile(batch, q))
            # the estimate lies in the bucket that holds the true quantile of that interval
            i = next(i for i, b in enumerate(LATENCY_BOUNDS) if truth <= b)
            assert bounds[i] <= value <= LATENCY_BOUNDS[i], (name, batch, value)
    assert tel.report.find("interval since the previous cumulative point")[0].rows == 2, "one per histogram"
    assert tel.report.find("histogram points into")[0].rows == 4


def test_exponential_histogram_quantiles_within_one_bucket(sdk: Recorded, files: dict[str, Path]) -> None:
    tel = load(files["proto"])
    points = _points(sdk, "queue.size")
    assert _metric(tel, "queue.size.count").get_column("value").to_list() == [float(p.count) for p in points]
    assert _metric(tel, "queue.size.mean").get_column("value").to_list() == pytest.approx(
        [np.mean(QUEUE_SIZES[0]), np.mean(QUEUE_SIZES[1])])
    for q, name in ((0.5, "p50"), (0.95, "p95")):
        values = _metric(tel, f"queue.size.{name}").get_column("value").to_list()
        for batch, value, point in zip(QUEUE_SIZES, values, points, strict=True):
            truth = float(np.quantile(batch, q, method="inverted_cdf"))
            base = 2 ** (2 ** -point.scale)
            assert truth / base <= value <= truth * base, (name, batch, value, point.scale)


def test_no_quantiles_when_none_asked(files: dict[str, Path]) -> None:
    tel = read_otlp_json(files["json"], quantiles=())
    assert not tel.metrics.filter(pl.col("metric").str.contains(r"\.p\d")).height
    with pytest.raises(ValueError, match="95th percentile"):
        read_otlp_json(files["json"], quantiles=(95,))


# -- one parser agrees with the other ---------------------------------------------------------------
def test_fast_reader_agrees_with_the_official_parse(files: dict[str, Path]) -> None:
    fast = read_otlp_json(files["json"])
    official = read_otlp_json(files["json"], engine="protobuf")
    binary = read_otlp_proto(files["proto"])
    for table in ("metrics", "logs", "spans"):
        assert getattr(fast, table).equals(getattr(official, table)), table
        assert getattr(fast, table).equals(getattr(binary, table)), table
    assert fast.metrics.height == 2 * (2 + 2 * 6), "2 gauge/sum and 2 histograms of 6 rows, at 2 collections"


def test_load_says_which_format_it_read(files: dict[str, Path], tmp_path: Path) -> None:
    assert sniff_format(files["json"]) == "otlp"
    assert sniff_format(files["proto"]) == "otlp-proto"
    gz = tmp_path / "export.jsonl.gz"
    gz.write_bytes(gzip.compress(files["json"].read_bytes()))
    odd_name = tmp_path / "export.data"  # the name says nothing: the content does
    odd_name.write_bytes(files["proto"].read_bytes())
    for path, label in ((files["json"], "OTLP JSON"), (gz, "OTLP JSON"), (odd_name, "OTLP protobuf")):
        tel = load(path)
        note = tel.report.find("read as")
        assert note and label in note[0].action and note[0].rows == 0, str(tel.report)
    assert load(odd_name).spans.equals(load(gz).spans)


def test_bare_request_body_and_signal(sdk: Recorded, tmp_path: Path) -> None:
    body = tmp_path / "body.bin"  # an OTLP/HTTP application/x-protobuf body: one request, no length prefix
    body.write_bytes(sdk.requests[0].SerializeToString())
    assert load(body).spans.height == 3
    with pytest.raises(DataError, match="not an OTLP export request of metrics"):
        read_otlp_proto(body, signal="metrics")


# -- Tempo and Grafana ------------------------------------------------------------------------------
def _tempo_v1(request) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Tempo's /api/traces/<id>: protobuf's JSON mapping (base64 ids, enum names), 'batches' and
    the pre-1.0 instrumentationLibrary names (gogo jsonpb of tempopb.Trace)."""
    plain = json_format.MessageToDict(request)
    text = json.dumps({"batches": plain["resourceSpans"]})
    return json.loads(text.replace('"scopeSpans"', '"instrumentationLibrarySpans"')
                      .replace('"scope"', '"instrumentationLibrary"'))


def test_tempo_and_grafana_trace_json(sdk: Recorded, files: dict[str, Path], tmp_path: Path) -> None:
    reference = load(files["json"]).spans
    v1 = tmp_path / "tempo-trace.json"
    v1.write_text(json.dumps(_tempo_v1(sdk.requests[0]), indent=2))
    v2 = tmp_path / "tempo-v2.json"
    v2.write_text(json.dumps({"trace": json_format.MessageToDict(sdk.requests[0])}))
    for path in (v1, v2):
        assert sniff_format(path) == "otlp"
        tel = load(path)
        assert tel.spans.equals(reference), path.name
        assert tel.report.find("base64")[0].rows == 3 * 2 + 2, "trace and span ids of 3 spans, 2 parents"
        assert tel.report.find("unwrapped")
    assert read_otlp_json(v1, engine="protobuf").spans.equals(reference)


# -- the protocol's own examples ------------------------------------------------------------------------
def test_opentelemetry_proto_examples() -> None:
    trace = load(DATA / "otel-proto-trace.json")
    row = trace.spans.row(0, named=True)
    assert (row["trace_id"], row["span_id"]) == ("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174")
    assert row["entity"] == "my.service" and row["kind"] == "SERVER" and row["duration"] == 1.0
    assert trace.report.find("lower-cased")[0].rows == 3
    assert trace.report.find("orphan"), "its parent is not in the file, and that is said"
    metrics = load(DATA / "otel-proto-metrics.json")
    values = dict(zip(metrics.metrics.get_column("metric"), metrics.metrics.get_column("value"), strict=True))
    attr = '{my.histogram.attr="some value"}'
    assert values['my.counter{my.counter.attr="some value"}'] == 5.0
    assert values['my.gauge{my.gauge.attr="some value"}'] == 10.0
    assert values[f"my.histogram.count{attr}"] == 3.0 and values[f"my.histogram.mean{attr}"] == 1.0
    # the example's histogram has 3 bucket counts for 1 bound (2 expected): no quantile is made up, and that is said
    assert values[f"my.histogram.p50{attr}"] is None
    assert metrics.report.find("3 bucket counts do not fit 1 bounds")[0].rows == 1
    logs = load(DATA / "otel-proto-logs.json").logs
    assert logs.row(0, named=True)["message"] == "Example log record"
    assert logs.row(0, named=True)["level"] == "INFORMATION", "the model upper-cases levels"


# -- bad input ------------------------------------------------------------------------------------
def test_frame_that_is_not_otlp(tmp_path: Path) -> None:
    path = tmp_path / "junk.binpb"
    payload = b"\x0a\x05hello\x12\x03abc\xff\xff"
    path.write_bytes(struct.pack(">I", len(payload)) + payload)
    with pytest.raises(DataError, match="not an OTLP export request") as info:
        read_otlp_proto(path)
    assert info.value.row == 0


def test_zstd_frames_of_the_file_exporter(sdk: Recorded, tmp_path: Path) -> None:
    """compression: zstd compresses each request on its own, then writes the length prefix."""
    path = tmp_path / "compressed.binpb"
    try:
        import zstandard
    except ImportError:
        frame = b"\x28\xb5\x2f\xfd" + b"\0" * 12
        path.write_bytes(struct.pack(">I", len(frame)) + frame)
        with pytest.raises(DataError, match="pip install zstandard"):
            read_otlp_proto(path)
        return
    frames = [zstandard.ZstdCompressor().compress(r.SerializeToString()) for r in sdk.requests]
    path.write_bytes(b"".join(struct.pack(">I", len(f)) + f for f in frames))
    assert read_otlp_proto(path).spans.height == 3


def test_summary_and_flagged_points_agree_in_json_and_protobuf(tmp_path: Path) -> None:
    """A summary (what the Collector's Prometheus receiver makes of a Prometheus summary) and points
    flagged 'no recorded value', built with opentelemetry-proto's own message classes."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    attr = rm.resource.attributes.add()
    attr.key, attr.value.string_value = "service.name", "db"
    metrics = rm.scope_metrics.add().metrics
    summary = metrics.add()
    summary.name = "rpc.latency"
    for i, (total, p99) in enumerate(((0.0, 0.0), (12.5, 0.9))):
        point = summary.summary.data_points.add()
        point.time_unix_nano, point.count, point.sum = 1_767_225_600_000_000_000 + i * 10**9, 3 * i, total
        q = point.quantile_values.add()
        q.quantile, q.value = 0.99, p99
    gauge = metrics.add()
    gauge.name = "connections"
    flagged = gauge.gauge.data_points.add()
    flagged.time_unix_nano, flagged.flags = 1_767_225_600_000_000_000, 1
    counted = gauge.gauge.data_points.add()
    counted.time_unix_nano, counted.as_int = 1_767_225_601_000_000_000, 7
    json_path = write_json_lines([request], tmp_path / "summary.jsonl")
    proto_path = write_proto([request], tmp_path / "summary.binpb")
    tel = load(json_path)
    assert tel.metrics.equals(load(proto_path).metrics)
    assert tel.metrics.equals(read_otlp_json(json_path, engine="protobuf").metrics)
    values = {(m, t.second): v for m, t, v in tel.metrics.select("metric", "time", "value").iter_rows()}
    assert values[("rpc.latency.sum", 0)] == 0.0, "a summary's sum of 0 is a value (protobuf leaves zeros out)"
    assert values[("rpc.latency.sum", 1)] == 12.5 and values[('rpc.latency{quantile="0.99"}', 1)] == 0.9
    assert values[("connections", 0)] is None and values[("connections", 1)] == 7.0
    assert tel.report.find("without a value")[0].rows == 1


def test_collector_receiver_resources_name_their_entity(tmp_path: Path) -> None:
    """kubeletstats and hostmetrics resources have no service.name: pods and hosts become the entities."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    request = ExportMetricsServiceRequest()
    for attrs, value in (({"k8s.pod.name": "payment-7f9c", "k8s.node.name": "node-1"}, 0.5),
                         ({"k8s.pod.name": "cart-5d2a", "k8s.node.name": "node-1"}, 0.25),
                         ({"host.name": "node-1", "os.type": "linux"}, 0.75)):
        rm = request.resource_metrics.add()
        for key, text in attrs.items():
            kv = rm.resource.attributes.add()
            kv.key, kv.value.string_value = key, text
        metric = rm.scope_metrics.add().metrics.add()
        metric.name = "cpu.utilization"
        point = metric.gauge.data_points.add()
        point.time_unix_nano, point.as_double = 1_767_225_600_000_000_000, value
    path = write_proto([request], tmp_path / "receivers.binpb")
    tel = load(path)
    assert tel.entities() == ["cart-5d2a", "node-1", "payment-7f9c"]
    assert tel.report.find("by their k8s.pod.name")[0].rows == 2 and tel.report.find("by their host.name")
    by_node = read_otlp_proto(path, entity_attribute=["k8s.node.name", "host.name"])
    assert by_node.entities() == ["node-1"]


def test_javascript_long_bits_times(tmp_path: Path) -> None:
    """OpenTelemetry JS may write 64-bit times as {"low": ..., "high": ...}."""
    t = 1_767_225_600_123_456_789
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "GET /",
            "startTimeUnixNano": {"low": t & 0xFFFFFFFF, "high": t >> 32},
            "endTimeUnixNano": {"low": (t + 10**6) & 0xFFFFFFFF, "high": (t + 10**6) >> 32}}
    path = tmp_path / "js.json"
    path.write_text(json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "web"}}]}, "scopeSpans": [{"spans": [span]}]}]}))
    row = load(path).spans.row(0, named=True)
    assert row["start"] == pl.Series([t]).cast(pl.Datetime("ns", "UTC"))[0] and row["duration"] == 0.001
