"""Simulated telemetry written as OTLP/JSON loads back through the public loaders unchanged."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from rcakit.sim import ErrorBurst, Topology, simulate
from rcakit.telemetry.loaders import load, read_otlp_json


def test_otlp_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sim.otlp.jsonl"
    tel = simulate(Topology.small(), duration="2min", seed=4, trace_sample=20, otlp=path,
                   faults=(ErrorBurst(start=30, duration=60, magnitude=0.2),))
    assert path.is_file()
    back = read_otlp_json(path)
    key = ["time", "entity", "metric"]
    assert back.metrics.sort(key).select(*key, "value").equals(tel.metrics.sort(key).select(*key, "value"))
    assert back.logs.height == tel.logs.height
    assert back.logs.filter(pl.col("level") == "ERROR").height == \
        tel.logs.filter(pl.col("level") == "ERROR").height > 0
    spans = ["trace_id", "span_id", "parent_id", "entity", "start", "end", "error"]
    assert back.spans.sort("span_id").select(spans).equals(tel.spans.sort("span_id").select(spans))
    assert set(load(path).nodes()) == set(tel.nodes())
