"""Each fault leaves the signature an SRE expects in the metrics, logs and traces."""

from __future__ import annotations

import polars as pl
import pytest

from rcakit.sim import (
    BatchSizeMisconfig,
    ErrorBurst,
    GpuThrottle,
    NetworkSlowdown,
    Topology,
    WorkloadSpike,
    make_incident,
)
from rcakit.telemetry import Incident

FAULTS = {
    "spike": WorkloadSpike(duration="5min", magnitude=2.0),
    "network": NetworkSlowdown("Router", "Queue_0", duration="5min", magnitude=20.0),
    "batch": BatchSizeMisconfig("Batcher_0", duration="5min", magnitude=1),
    "throttle": GpuThrottle("GPU_0", duration="5min", magnitude=2.5),
    "errors": ErrorBurst("ModelInference_0", duration="5min", magnitude=0.1),
}


@pytest.fixture(scope="module")
def incidents() -> dict[str, Incident]:
    return {key: make_incident(Topology.small(), fault, seed=5, baseline="10min", hide=())
            for key, fault in FAULTS.items()}


def _change(incident: Incident, node: str) -> float:
    """Incident-window mean over baseline-window mean of one node."""
    base, inc = incident.aligned("10s", "mean", nodes=[node])
    before = base.frame.get_column(node).mean()
    after = inc.frame.get_column(node).mean()
    assert before is not None and after is not None
    return float(after) / float(before) if before else float("inf") if after else 1.0


def _log_count(incident: Incident, level: str, window: str) -> int:
    tel = incident.abnormal() if window == "incident" else incident.baseline()
    return tel.logs.filter(pl.col("level") == level).height


def test_batch_size_misconfiguration(incidents: dict[str, Incident]) -> None:
    inc = incidents["batch"]
    assert _change(inc, "Batcher_0:max_batch_size") < 0.1
    assert _change(inc, "ModelInference_0:execution_batch_size") < 0.7
    assert _change(inc, "ModelInference_0:latency") < 0.95
    assert _change(inc, "Queue_0:latency") > 3
    assert _change(inc, "Client:latency") > 3
    assert inc.abnormal().logs.filter(pl.col("message").str.contains("max_batch_size=1")).height == 1


def test_gpu_throttling(incidents: dict[str, Incident]) -> None:
    inc = incidents["throttle"]
    assert _change(inc, "ModelInference_0:latency") > 2
    assert _change(inc, "GPU_0:utilization") > 1.3
    assert _change(inc, "GPU_0:power") < 0.5
    assert _change(inc, "Client:latency") > 1.5
    assert inc.abnormal().logs.filter(pl.col("message").str.contains("throttled")).height > 0
    assert inc.baseline().logs.filter(pl.col("message").str.contains("throttled")).height == 0


def test_network_slowdown(incidents: dict[str, Incident]) -> None:
    inc = incidents["network"]
    assert _change(inc, "Router-Queue_0:latency") > 10
    assert _change(inc, "Router:latency") > 5          # the caller's span includes the link
    assert _change(inc, "Client:latency") > 1.2        # so does the end-to-end latency
    assert 0.8 < _change(inc, "Client-Router:latency") < 1.2   # other links are untouched
    assert 0.8 < _change(inc, "ModelInference_0:latency") < 1.2
    warnings = inc.abnormal().logs.filter(pl.col("message").str.contains("forwarding to Queue_0 is slow"))
    assert warnings.height > 0


def test_workload_spike(incidents: dict[str, Incident]) -> None:
    inc = incidents["spike"]
    assert 1.7 < _change(inc, "Client:request_rate") < 2.3
    assert _change(inc, "Queue_0:enqueueing_rate") > 1.7
    assert _change(inc, "Queue_0:queue_length") > 1.3
    assert _change(inc, "ModelInference_0:execution_batch_size") > 1.2


def test_error_burst(incidents: dict[str, Incident]) -> None:
    inc = incidents["errors"]
    base, abn = inc.aligned("10s", "mean", nodes=["ModelInference_0:error_rate", "Client:error_rate"])
    # a background of rare crashes, then a burst
    assert base.frame.get_column("Client:error_rate").mean() < 0.01
    assert abn.frame.get_column("Client:error_rate").mean() > 0.03
    assert abn.frame.get_column("ModelInference_0:error_rate").mean() > 0.03
    per_minute_before = _log_count(inc, "ERROR", "baseline") / 10
    per_minute_during = _log_count(inc, "ERROR", "incident") / 5
    assert per_minute_during > 5 * per_minute_before + 5
    assert inc.abnormal().logs.filter(pl.col("message").str.contains("CUDA error")).height > 10
    assert _change(inc, "Client:latency") > 1.2


def test_truth_names_the_injected_fault(incidents: dict[str, Incident]) -> None:
    expected = {
        "spike": ("workload_spike", "Client:request_rate"),
        "network": ("network_slowdown", "Router-Queue_0:latency"),
        "batch": ("batch_size_misconfig", "Batcher_0:max_batch_size"),
        "throttle": ("gpu_throttle", "GPU_0:power"),
        "errors": ("error_burst", "ModelInference_0:error_rate"),
    }
    for key, (fault_type, node) in expected.items():
        inc = incidents[key]
        assert inc.truth is not None and inc.truth.fault_type == fault_type
        assert inc.truth.root_cause_nodes == (node,)
        assert inc.truth.graph is not None and node in inc.truth.graph
        assert inc.alarm == "Client:latency"
        # the incident window is the fault window, right after the baseline
        assert inc.incident_window.start == inc.baseline_window.end
        assert inc.incident_window.duration.total_seconds() == 300


def test_error_spans_in_traces() -> None:
    inc = make_incident(Topology.small(), ErrorBurst("ModelInference_0", duration="3min", magnitude=0.2),
                        seed=2, baseline="3min", trace_sample=5)
    spans = inc.telemetry.spans
    errors = spans.filter(pl.col("error"))
    assert errors.height > 0
    assert set(errors.get_column("entity").unique().to_list()) == {"Client", "ModelInference_0"}
    share_before = inc.baseline().spans.get_column("error").mean()
    share_during = inc.abnormal().spans.get_column("error").mean()
    assert share_during > 5 * share_before  # type: ignore[operator]
    # error logs of traced requests point at their trace and span
    traced = inc.telemetry.logs.filter(pl.col("trace_id").is_not_null() & (pl.col("level") == "ERROR"))
    assert traced.height > 0
    assert set(traced.get_column("span_id").to_list()) <= set(errors.get_column("span_id").to_list())
