"""The report's entry points come from the call structure (spans, meta call graph), never from a name list."""

from __future__ import annotations

from rcakit.report.gather import entry_points
from rcakit.sim import Topology, make_incident
from tests.attribution.test_alarm_time import _drifted_incident


def test_entry_points_from_the_incidents_call_graph() -> None:
    inc = _drifted_incident(alarm_time=False)
    assert entry_points(inc) is None  # no call structure: unknown, not a guess
    inc.call_graph = (("web", "api"), ("api", "cache"), ("web", "auth"))
    assert entry_points(inc) == ["web"]


def test_entry_points_from_spans() -> None:
    from rcakit.sim import NetworkSlowdown

    inc = make_incident(Topology.small(), NetworkSlowdown("Client", "Router", duration="5min"), seed=0,
                        baseline="10min", logs=False)
    points = entry_points(inc)
    assert points is not None and "Client" in points


def test_what_the_generic_path_lacked_is_said_not_guessed() -> None:
    import numpy as np
    import pandas as pd

    from rcakit.pipeline import analyze
    from rcakit.telemetry import Incident, Telemetry

    t = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(100) * 60, "s")
    values = np.r_[np.random.default_rng(0).normal(1, 0.1, 80), np.full(20, 3.0)]
    inc = Incident(Telemetry.from_wide(pd.DataFrame({"time": t, "web:latency": values})), (t[0], t[80]),
                   (t[80], t[-1]), alarm="web:latency")
    result = analyze(inc, llm=None)
    assert result.fault is None  # one metric: no fault type guessed
    limits = result.report.section("Data and its limits")
    assert "single metric node" in limits and "no call structure" in limits and "no logs" in limits
    assert "lacked: no logs, no traces, a single metric node, no call structure" in result.summary()
