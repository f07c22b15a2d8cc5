"""The alarm's time and direction: pre-alarm rows are the local reference; a node counts in the direction that matters."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from rcakit.attribution import AttributionConfig, attribute
from rcakit.attribution._scores import node_anomaly
from rcakit.telemetry import GroundTruth, Incident, Telemetry, load_incident

EDGES = [("cache:latency", "api:latency"), ("api:latency", "web:latency"), ("auth:latency", "web:latency")]


def _drifted_incident(*, alarm_time: bool, seed: int = 0) -> Incident:
    """``auth`` sits higher through the whole incident recording (drift, there before the alarm);
    ``cache`` breaks at incident row 3, which is when the alarm fires."""
    rng = np.random.default_rng(seed)
    n_base, n_inc = 300, 8
    n = n_base + n_inc
    noise = {node: rng.normal(1.0, 0.1, n) for node in nx.DiGraph(EDGES).nodes}
    noise["auth:latency"][n_base:] += 2.0
    noise["cache:latency"][n_base + 3:] += 1.5
    values: dict[str, np.ndarray] = {}
    graph = nx.DiGraph(EDGES)
    for node in nx.topological_sort(graph):
        values[node] = noise[node] + sum(values[p] for p in graph.predecessors(node))
    frame = pd.DataFrame(values)
    frame.insert(0, "time", pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) * 300, "s"))
    t = frame["time"]
    fired = t.iloc[n_base + 3] + pd.Timedelta("10s") if alarm_time else None
    inc = Incident(Telemetry.from_wide(frame), (t.iloc[0], t.iloc[n_base]),
                   (t.iloc[n_base], t.iloc[-1] + pd.Timedelta("300s")), alarm="web:latency",
                   truth=GroundTruth(root_cause_nodes=("cache:latency",), graph=graph), alarm_time=fired)
    return inc


def test_rows_before_the_alarm_are_the_local_reference() -> None:
    cfg = AttributionConfig(n_bootstrap=0, fault_type=False)
    graph = nx.DiGraph(EDGES)
    without = attribute(graph, _drifted_incident(alarm_time=False), config=cfg)
    with_time = attribute(graph, _drifted_incident(alarm_time=True), config=cfg)
    # the drift that was there before the alarm fooled the ranking without the alarm time
    assert without.causes[0].node == "auth:latency"
    assert with_time.causes[0].node == "cache:latency"
    assert with_time.rows and with_time.rows[0] == 4  # row 3 straddles the alarm: the first whole row after it
    assert any("before the alarm" in note for note in with_time.notes)


def test_a_first_row_set_by_the_caller_wins_over_the_alarm_time() -> None:
    cfg = AttributionConfig(n_bootstrap=0, first_row=1, fault_type=False)
    result = attribute(nx.DiGraph(EDGES), _drifted_incident(alarm_time=True), config=cfg)
    assert result.rows[0] >= 1 and not any("before the alarm" in note for note in result.notes)


def test_alarm_time_survives_save_and_load(tmp_path) -> None:
    inc = _drifted_incident(alarm_time=True)
    back = load_incident(inc.save(tmp_path / "inc"))
    assert back.alarm_time == inc.alarm_time and back.alarm_time is not None


def test_nodes_measuring_the_alarms_quantity_count_in_the_alarms_direction() -> None:
    rng = np.random.default_rng(1)
    base = pd.DataFrame({"a:availability": rng.normal(99.0, 0.1, 200), "b:availability": rng.normal(99.0, 0.1, 200),
                         "c:latency_p90": rng.normal(50.0, 1.0, 200)})
    inc = pd.DataFrame({"a:availability": [90.0] * 4, "b:availability": [99.9] * 4, "c:latency_p90": [40.0] * 4})
    anomaly = node_anomaly(base, inc, AttributionConfig(), "a:availability")
    assert anomaly.sign == -1
    assert anomaly.z["a:availability"] > 3
    assert anomaly.z["b:availability"] == 0  # availability rose: no suspect for an availability drop
    assert anomaly.z["c:latency_p90"] > 3     # another quantity counts both ways: a cause may move either way
