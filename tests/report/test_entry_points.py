"""The report's entry points come from the call structure (spans, meta call graph), never from a name list."""

from __future__ import annotations

from rcakit.report.gather import entry_points
from rcakit.sim import Topology, make_incident
from tests.attribution.test_alarm_time import _drifted_incident


def test_entry_points_from_the_incidents_call_graph() -> None:
    inc = _drifted_incident(alarm_time=False)
    assert entry_points(inc) is None  # no call structure: unknown, not a guess
    inc.meta["call_graph"] = [["web", "api"], ["api", "cache"], ["web", "auth"]]
    assert entry_points(inc) == ["web"]


def test_entry_points_from_spans() -> None:
    from rcakit.sim import NetworkSlowdown

    inc = make_incident(Topology.small(), NetworkSlowdown("Client", "Router", duration="5min"), seed=0,
                        baseline="10min", logs=False)
    points = entry_points(inc)
    assert points is not None and "Client" in points
