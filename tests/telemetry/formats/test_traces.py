"""Jaeger JSON (Jaeger's own UI fixture, as the UI holds it and as /api/traces wraps it) and Zipkin v2 JSON
(what OpenTelemetry's Zipkin exporter posts, and Zipkin's shared-span form)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.trace import StatusCode

from rcakit.telemetry.loaders import load, read_jaeger_json, read_zipkin_json, sniff_format
from tests.telemetry.formats.otel_sdk import Recorded, record

DATA = Path(__file__).parent / "data"


# -- Jaeger ---------------------------------------------------------------------------------------------
def _by_id(tel) -> dict[str, list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[dict[str, Any]]] = {}
    for row in tel.spans.iter_rows(named=True):
        out.setdefault(row["span_id"], []).append(row)
    return out


def test_jaeger_ui_trace_and_query_api(tmp_path: Path) -> None:
    ui = DATA / "jaeger-ui_01.json"
    api = tmp_path / "jaeger-api.json"  # /api/traces?service=...: the same trace objects under "data"
    api.write_text(json.dumps({"data": [json.loads(ui.read_text())], "total": 0, "limit": 0, "offset": 0,
                               "errors": None}))
    for path in (ui, api):
        assert sniff_format(path) == "jaeger"
        tel = load(path)
        spans = _by_id(tel)
        assert tel.spans.height == 5
        assert spans["3"][0]["parent_id"] == "2" and spans["5"][0]["parent_id"] == "4"
        # span 4 names a CHILD_OF in another trace first; Jaeger takes the one in its own trace
        assert spans["4"][0]["parent_id"] == "2"
        assert {r["entity"] for r in spans["2"]} == {"service-x"} and spans["3"][0]["entity"] == "service-y"
        assert [r["error"] for r in spans["2"]] == [False, True], "the tag error=true"
        start = spans["5"][0]["start"]
        assert start == pl.Series([1485467191639875 * 1000]).cast(pl.Datetime("ns", "UTC"))[0]
        assert spans["5"][0]["duration"] == pytest.approx(4e-6)
        assert tel.report.find("repeated") or tel.report.find("repeat"), str(tel.report)
        assert tel.report.find("read as")[0].action.startswith("read as Jaeger JSON")
        # the span's logs are log lines of its service, linked to it
        assert tel.logs.select("entity", "message", "span_id").rows() == [("service-x", "some-event", "2"),
                                                                          ("service-x", "x=y", "2")]
    assert read_jaeger_json(ui).spans.equals(read_jaeger_json(api).spans)


# -- Zipkin ---------------------------------------------------------------------------------------------
class _Session:
    """Stands in for requests.Session: keeps what the exporter POSTs to Zipkin's /api/v2/spans."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.headers: dict[str, str] = {}

    def post(self, url: str, data: str, timeout: float | None = None) -> Any:
        self.bodies.append(data)
        return type("Response", (), {"status_code": 202, "text": ""})()


@pytest.fixture(scope="module")
def sdk() -> Recorded:
    return record()


def test_zipkin_json_from_the_opentelemetry_exporter(sdk: Recorded, tmp_path: Path) -> None:
    session = _Session()
    # One exporter per service, as each service runs its own TracerProvider with its own exporter.
    for service in ("frontend", "payment"):
        exporter = ZipkinExporter(session=session)  # type: ignore[arg-type]
        exporter.export([s for s in sdk.spans if s.resource.attributes["service.name"] == service])
    spans_json = [span for body in session.bodies for span in json.loads(body)]
    path = tmp_path / "zipkin-trace.json"  # what Zipkin's UI downloads for the trace: the v2 span list
    path.write_text(json.dumps(spans_json))
    assert sniff_format(path) == "zipkin"
    tel = load(path)
    rows = {r["span_id"]: r for r in tel.spans.iter_rows(named=True)}
    for span in sdk.spans:
        row = rows[format(span.context.span_id, "016x")]
        assert row["trace_id"] == format(span.context.trace_id, "032x")
        assert row["parent_id"] == (format(span.parent.span_id, "016x") if span.parent else None)
        assert row["entity"] == span.resource.attributes["service.name"]
        assert row["start"] == pl.Series([span.start_time // 1000 * 1000]).cast(pl.Datetime("ns", "UTC"))[0]
        assert row["duration"] == pytest.approx((span.end_time - span.start_time) / 1e9, abs=2e-6)
        assert row["error"] == (span.status.status_code is StatusCode.ERROR)
        assert row["kind"] == span.kind.name
    assert rows[format(next(s for s in sdk.spans if s.name == "charge").context.span_id, "016x")]["status"] == \
        "card declined"
    charge_id = format(next(s for s in sdk.spans if s.name == "charge").context.span_id, "016x")
    exception = tel.logs.filter(pl.col("span_id") == charge_id).row(0, named=True)
    assert (exception["level"], exception["message"], exception["entity"]) == (
        "ERROR", "ValueError: card declined", "payment"), "the exporter's event annotation is read back"
    nested = tmp_path / "zipkin-traces.json"  # /api/v2/traces: a list of traces, each a list of spans
    nested.write_text(json.dumps([spans_json]))
    assert read_zipkin_json(nested).spans.equals(tel.spans)
    assert read_zipkin_json(nested, span_events=False).logs.height == 0


def test_zipkin_shared_span_ids(tmp_path: Path) -> None:
    """B3 single-id propagation (Brave's default join): client and server halves share one id."""
    spans = [
        {"traceId": "463ac35c9f6413ad", "id": "a2fb4a1d1a96d312", "name": "get /api", "kind": "SERVER",
         "timestamp": 1_700_000_000_000_000, "duration": 30_000, "localEndpoint": {"serviceName": "frontend"}},
        {"traceId": "463ac35c9f6413ad", "parentId": "a2fb4a1d1a96d312", "id": "b7ad6b7169203331", "kind": "CLIENT",
         "name": "get /backend", "timestamp": 1_700_000_000_002_000, "duration": 20_000,
         "localEndpoint": {"serviceName": "frontend"}},
        {"traceId": "463ac35c9f6413ad", "parentId": "a2fb4a1d1a96d312", "id": "b7ad6b7169203331", "kind": "SERVER",
         "shared": True, "name": "get /backend", "timestamp": 1_700_000_000_003_000, "duration": 18_000,
         "localEndpoint": {"serviceName": "backend"}, "tags": {"error": "timeout"}},
        {"traceId": "463ac35c9f6413ad", "parentId": "b7ad6b7169203331", "id": "c1f2d3e4a5b6c7d8", "kind": "CLIENT",
         "name": "select", "timestamp": 1_700_000_000_004_000, "duration": 10_000,
         "localEndpoint": {"serviceName": "backend"}},
    ]
    path = tmp_path / "shared.json"
    path.write_text(json.dumps(spans))
    tel = read_zipkin_json(path)
    rows = {r["span_id"]: r for r in tel.spans.iter_rows(named=True)}
    assert rows["b7ad6b7169203331:server"]["parent_id"] == "b7ad6b7169203331"
    assert rows["b7ad6b7169203331:server"]["error"] and rows["b7ad6b7169203331:server"]["status"] == "timeout"
    assert rows["c1f2d3e4a5b6c7d8"]["parent_id"] == "b7ad6b7169203331:server", "the backend's own child"
    assert not tel.report.find("repeated") and not tel.report.find("orphan")
    assert tel.report.find("shared server spans")[0].rows == 1
