"""The simulator's public calls (rcakit.sim.simulation): determinism, the metric grid, trace trees,
input validation, canonical tables and the OTLP/JSON export."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rcakit.errors import DataError
from rcakit.sim import (
    BatchSizeMisconfig,
    ErrorBurst,
    GpuThrottle,
    NetworkSlowdown,
    Topology,
    WorkloadSpike,
    simulate,
)
from rcakit.telemetry.loaders import load, read_otlp_json


def test_same_seed_same_telemetry() -> None:
    faults = (ErrorBurst("ModelInference_1", start=30, duration=60, magnitude=0.2),
              NetworkSlowdown("Router", "Queue_0", start=20, duration=30))
    one = simulate(Topology.medium(), duration="2min", seed=42, faults=faults, trace_sample=10)
    two = simulate(Topology.medium(), duration="2min", seed=42, faults=faults, trace_sample=10)
    other = simulate(Topology.medium(), duration="2min", seed=43, faults=faults, trace_sample=10)
    for kind in ("metrics", "logs", "spans"):
        assert getattr(one, kind).height > 0
        assert getattr(one, kind).equals(getattr(two, kind)), kind
    assert not one.metrics.equals(other.metrics)


def test_metrics_are_on_a_regular_grid() -> None:
    tel = simulate(Topology.small(), duration="5min", seed=3, step="30s", logs=False, trace_sample=None)
    times = tel.metrics.get_column("time").unique().sort()
    assert times.len() == 10
    assert set(times.diff().drop_nulls().dt.total_seconds().to_list()) == {30}
    rates = tel.series("Client:request_rate").get_column("value")
    assert 45 < rates.mean() < 75          # the default S rate is 60 requests/s


def test_traces_have_one_span_per_component_and_a_tree() -> None:
    tel = simulate(Topology.small(), duration="1min", seed=3, trace_sample=50, logs=False)
    spans = tel.spans
    per_trace = spans.group_by("trace_id").agg(pl.len().alias("n"), pl.col("parent_id").null_count().alias("roots"))
    assert per_trace.get_column("n").unique().to_list() == [8]
    assert per_trace.get_column("roots").unique().to_list() == [1]
    ids = set(spans.get_column("span_id").to_list())
    assert set(spans.get_column("parent_id").drop_nulls().to_list()) <= ids
    assert (spans.get_column("end") >= spans.get_column("start")).all()
    # the client's span covers the whole request
    client = spans.filter(pl.col("entity") == "Client").select("trace_id", "start", "end")
    inner = spans.group_by("trace_id").agg(pl.col("start").min().alias("lo"), pl.col("end").max().alias("hi"))
    joined = client.join(inner, on="trace_id")
    assert (joined.get_column("start") == joined.get_column("lo")).all()
    assert (joined.get_column("end") == joined.get_column("hi")).all()


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda: NetworkSlowdown("Router", "Queue_7"), "no network link 'Router-Queue_7'"),
    (lambda: NetworkSlowdown("Queue_0", "Batcher_0"), "no network link"),
    (lambda: GpuThrottle("GPU_9"), "GPU_<g>"),
    (lambda: BatchSizeMisconfig("Queue_0"), "Batcher_<w>"),
    (lambda: ErrorBurst("GPU_0"), "ModelInference_<g>"),
])
def test_faults_on_missing_components_are_refused(make, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match=fragment):
        simulate(Topology.small(), duration="1min", faults=(make(),))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(DataError, match="magnitude"):
        WorkloadSpike(magnitude=-1)
    with pytest.raises(DataError, match="probability"):
        ErrorBurst(magnitude=3)
    with pytest.raises(DataError, match="whole number"):
        BatchSizeMisconfig(magnitude=2.5)
    with pytest.raises(DataError, match="rate"):
        simulate(Topology.small(), duration="1min", rate=0)
    with pytest.raises(DataError, match="duration"):
        simulate(Topology.small(), duration="soon")
    with pytest.raises(DataError, match="workers"):
        Topology.of(0, 4)
    with pytest.raises(TypeError, match="Topology"):
        simulate("S", duration="1min")  # type: ignore[arg-type]


def test_simulated_tables_are_already_canonical() -> None:
    """The simulator skips validation for speed; re-validating must change nothing."""
    from rcakit.telemetry import Telemetry

    tel = simulate(Topology.small(), duration="1min", seed=1, trace_sample=10,
                   faults=(ErrorBurst(duration=30, magnitude=0.3),))
    again = Telemetry(tel.metrics, tel.logs, tel.spans)
    for kind in ("metrics", "logs", "spans"):
        assert getattr(again, kind).equals(getattr(tel, kind)), kind
    assert set(tel.logs.get_column("level").unique().to_list()) == {"INFO", "WARNING", "ERROR"}


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
