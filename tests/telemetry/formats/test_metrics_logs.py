"""Prometheus query_range JSON (the example answer of Prometheus' API docs), metrics expositions written by
prometheus_client (OpenMetrics and Prometheus text), and Grafana Loki log query answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import generate_latest as prometheus_text
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_text

from rcakit.errors import DataError
from rcakit.telemetry.loaders import load, read_loki_json, read_openmetrics, sniff_format

DATA = Path(__file__).parent / "data"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def _utc(seconds: float) -> object:
    return pl.Series([round(seconds * 1e9)]).cast(pl.Datetime("ns", "UTC"))[0]


# -- Prometheus API ---------------------------------------------------------------------------------------
def test_prometheus_query_range_example() -> None:
    path = DATA / "prometheus-query_range-up.json"
    assert sniff_format(path) == "prometheus"
    tel = load(path)
    assert tel.entities() == ["node", "prometheus"], "the job label names the component"
    node = tel.metrics.filter(pl.col("entity") == "node")
    assert node.get_column("metric").unique().to_list() == ['up{instance="localhost:9091"}']
    assert node.get_column("value").to_list() == [0.0, 0.0, 1.0]
    assert node.get_column("time").to_list() == [_utc(1435781430.781), _utc(1435781445.781), _utc(1435781460.781)]


# -- OpenMetrics / Prometheus text --------------------------------------------------------------------------
def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    requests = Counter("http_requests", "Requests served", ["code"], registry=registry)
    latency = Histogram("http_request_duration_seconds", "Request latency", buckets=(0.05, 0.1, 0.25, 0.5, 1.0),
                        registry=registry)
    queue = Gauge("queue_depth", "Jobs waiting", registry=registry)
    requests.labels("200").inc(40)
    requests.labels("500").inc(2)
    for value in (0.03, 0.07, 0.2, 0.3, 0.4, 0.9):
        latency.observe(value)
    queue.set(7)
    return registry


def test_one_scrape_of_each_text_format(tmp_path: Path) -> None:
    registry = _registry()
    openmetrics = tmp_path / "payment.metrics"
    openmetrics.write_bytes(openmetrics_text(registry))
    prometheus = tmp_path / "payment.prom"
    prometheus.write_bytes(prometheus_text(registry))
    tables = []
    for path in (openmetrics, prometheus):
        assert sniff_format(path) == "openmetrics"
        tel = load(path, entity="payment", time="2026-01-01T00:00:00Z")
        values = dict(zip(tel.metrics.get_column("metric"), tel.metrics.get_column("value"), strict=True))
        assert values['http_requests_total{code="500"}'] == 2.0 and values["queue_depth"] == 7.0
        assert values["http_request_duration_seconds.count"] == 6.0
        assert values["http_request_duration_seconds.mean"] == pytest.approx(np.mean([0.03, 0.07, 0.2, 0.3, 0.4, 0.9]))
        assert 0.25 <= values["http_request_duration_seconds.p50"] <= 0.5, "the median lies in (0.25, 0.5]"
        assert not any("created" in m for m in values), "*_created samples are start times, not rows"
        assert tel.entities() == ["payment"] and set(tel.metrics.get_column("time")) == {_utc(T0)}
        # every sample of the scrape: 2 counters, 1 gauge, 6 buckets, the count and the sum
        assert tel.report.find("without a timestamp")[0].rows == 11
        tables.append(tel.metrics.sort("metric"))
    assert tables[0].equals(tables[1]), "both text formats give the same rows"


class _Scrape:
    """A custom collector whose samples carry the scrape's timestamp (what a federating exporter writes)."""

    def __init__(self, t: float, buckets: list[tuple[str, float]], count: float, total: float, requests: float):
        self.t, self.buckets, self.count, self.total, self.requests = t, buckets, count, total, requests

    def collect(self) -> Iterator[object]:
        hist = HistogramMetricFamily("rpc_duration_seconds", "RPC latency", labels=["job"])
        hist.add_metric(["checkout"], self.buckets, self.total, timestamp=self.t)
        yield hist
        counter = CounterMetricFamily("rpc_requests", "RPCs", labels=["job"])
        counter.add_metric(["checkout"], self.requests, timestamp=self.t)
        yield counter
        gauge = GaugeMetricFamily("up", "Target up", labels=["job"])
        gauge.add_metric(["checkout"], 1.0, timestamp=self.t)
        yield gauge


def test_scrapes_with_timestamps_give_histogram_intervals(tmp_path: Path) -> None:
    scrapes = [
        _Scrape(T0, [("0.1", 8.0), ("0.5", 10.0), ("+Inf", 10.0)], 10.0, 0.6, 10.0),
        _Scrape(T0 + 15, [("0.1", 9.0), ("0.5", 11.0), ("+Inf", 20.0)], 20.0, 9.0, 20.0),  # 9 slow ones
    ]
    text = b""
    for scrape in scrapes:
        registry = CollectorRegistry()
        registry.register(scrape)  # type: ignore[arg-type]
        text += openmetrics_text(registry)
    path = tmp_path / "scrapes.txt"
    path.write_bytes(text)
    tel = read_openmetrics(path)
    assert tel.entities() == ["checkout"]

    def series(name: str) -> list[float]:
        return tel.metrics.filter(pl.col("metric") == name).sort("time").get_column("value").to_list()

    assert series("rpc_duration_seconds.count") == [10.0, 20.0]
    assert series("rpc_duration_seconds.mean") == pytest.approx([0.06, 0.84]), "the second interval alone"
    p95 = series("rpc_duration_seconds.p95")
    assert p95[0] <= 0.5 and p95[1] == 0.5, "9 of the 10 new requests fell in +Inf: the highest bound is said"
    assert tel.report.find("+Inf bucket")[0].rows >= 1
    assert series("rpc_requests_total") == [10.0, 20.0]
    assert tel.metrics.filter(pl.col("metric") == "up").get_column("time").to_list() == [_utc(T0), _utc(T0 + 15)]


def test_several_scrapes_without_timestamps_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.metrics"
    path.write_bytes(openmetrics_text(_registry()) * 2)
    with pytest.raises(DataError, match="2 scrapes whose samples have no timestamps"):
        read_openmetrics(path)


# -- Loki ----------------------------------------------------------------------------------------------------
def _loki_answer() -> dict:  # type: ignore[type-arg]
    """/loki/api/v1/query_range?query={namespace="shop"} |= "error" (the documented streams shape; the third
    item of a value holds structured metadata when the query asks for categorized labels)."""
    ns = T0 * 1_000_000_000
    return {"status": "success", "data": {"resultType": "streams", "result": [
        {"stream": {"service_name": "payment", "namespace": "shop", "level": "error"},
         "values": [[str(ns + 2_000_000_000), "charge failed: card declined",
                     {"structuredMetadata": {"trace_id": "5B8EFFF798038103D269B633813FC60C"}}],
                    [str(ns + 1_000_000_000), "charge failed: timeout"]]},
        {"stream": {"service_name": "frontend", "namespace": "shop", "detected_level": "warn"},
         "values": [[str(ns + 1_500_000_001), "upstream payment slow"]]},
    ], "stats": {"summary": {"bytesProcessedPerSecond": 1}}}}


def test_loki_query_range_streams(tmp_path: Path) -> None:
    path = tmp_path / "loki.json"
    path.write_text(json.dumps(_loki_answer()))
    assert sniff_format(path) == "loki"
    tel = load(path)
    logs = tel.logs
    assert logs.get_column("entity").to_list() == ["payment", "frontend", "payment"], "in time order"
    assert logs.get_column("message").to_list() == ["charge failed: timeout", "upstream payment slow",
                                                    "charge failed: card declined"]
    assert logs.get_column("level").to_list() == ["ERROR", "WARN", "ERROR"]
    assert logs.get_column("trace_id").to_list() == [None, None, "5b8efff798038103d269b633813fc60c"]
    assert logs.get_column("time")[1] == pl.Series([T0 * 1_000_000_000 + 1_500_000_001]).cast(
        pl.Datetime("ns", "UTC"))[0], "nanoseconds kept"


def test_logcli_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "logcli.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in (
        {"labels": {"app": "cart", "level": "info"}, "line": "added item", "timestamp": "2026-01-01T00:00:01.123456789Z"},
        {"labels": {"app": "cart", "level": "error"}, "line": "redis timeout", "timestamp": "2026-01-01T00:00:02Z"},
    )) + "\n")
    assert sniff_format(path) == "loki"
    tel = read_loki_json(path)
    assert tel.logs.get_column("entity").to_list() == ["cart", "cart"]
    assert tel.logs.get_column("time").dt.epoch("ns").to_list() == [T0 * 10**9 + 1_123_456_789, (T0 + 2) * 10**9]


def test_loki_metric_answer_and_failed_query(tmp_path: Path) -> None:
    metric = tmp_path / "rate.json"
    metric.write_text(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"service_name": "payment"}, "values": [[T0, "0.5"], [T0 + 60, "2"]]}]}}))
    tel = load(metric, entity_label="service_name")  # a LogQL metric query has Prometheus' shape
    assert tel.metrics.get_column("value").to_list() == [0.5, 2.0] and tel.entities() == ["payment"]
    with pytest.raises(DataError, match="metric query"):
        read_loki_json(metric)
