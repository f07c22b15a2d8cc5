"""Traffic that follows the time of day is not a new anomaly: nodes are also measured against where their
own baseline was heading (``AttributionConfig.drift_reference``)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.attribution._scores import drift_reference


def _frames(seed: int = 0, fault: float = 6.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An hour of baseline and 20 minutes of incident at one row a minute: the entry's request rate rides a
    slow wave (a four-hour cycle of +-30 %, rising through both windows); a CPU fault on a backend from the
    incident's first row raises its latency and the entry's latency."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2026-01-01", periods=80, freq="60s", tz="UTC")
    minutes = np.arange(80, dtype=float)
    rate = 40 * (1 - 0.3 * np.cos(2 * np.pi * minutes / 240)) * np.exp(rng.normal(0, 0.02, 80))
    cpu = 0.3 + rng.normal(0, 0.01, 80)
    cpu[60:] += fault * 0.01 * 5
    backend_latency = 20 + 0.05 * rate + 40 * (cpu - 0.3) + rng.normal(0, 0.3, 80)
    entry_latency = 5 + backend_latency + rng.normal(0, 0.3, 80)
    frame = pd.DataFrame({"frontend:request_rate": rate, "backend:cpu": cpu, "backend:latency": backend_latency,
                          "frontend:latency": entry_latency}, index=t)
    return frame.iloc[:60], frame.iloc[60:]


def _graph() -> nx.DiGraph:
    return nx.DiGraph([("frontend:request_rate", "backend:latency"), ("backend:cpu", "backend:latency"),
                       ("backend:latency", "frontend:latency"), ("frontend:request_rate", "frontend:latency")])


def test_a_rising_baseline_is_carried_forward_and_a_flat_one_is_not() -> None:
    base, inc = _frames()
    ref = drift_reference(base, inc)
    assert ref is not None
    # the wave is rising through the baseline: carried forward, the reference is above the baseline's median
    assert ref["frontend:request_rate"].notna().all()
    assert ref["frontend:request_rate"].iloc[-1] > base["frontend:request_rate"].median()
    # the CPU only has noise in the baseline: no trend to carry, its reference stays the median
    assert ref["backend:cpu"].isna().all()


def test_seasonal_traffic_does_not_outrank_the_fault() -> None:
    """A web shop whose traffic follows a slow wave (a tuning seed of the simulator families): a CPU fault
    on ``auth`` must rank first with the drafted graph; measured against the baseline's median alone, the
    entry's request rate (higher only because the incident came at a busier hour) took first place."""
    from rcakit.graph import draft_graph
    from rcakit.sim import families

    inc = families.family_incident("webshop", "cpu", seed=107, target="auth")
    assert "seasonality" in inc.meta["noise"]
    graph = draft_graph(inc, alarm=inc.alarm)
    on = attribute(graph, inc, config=AttributionConfig(n_bootstrap=0, fault_type=False))
    assert on.causes[0].entity == "auth"
    off = attribute(graph, inc, config=AttributionConfig(n_bootstrap=0, fault_type=False, drift_reference=False))
    assert off.causes[0].node == "frontend:request_rate"  # what the drift reference fixes


def test_a_step_at_the_incident_stays_anomalous_whatever_the_trend() -> None:
    base, inc = _frames(fault=6.0)
    inc = inc.copy()
    inc["frontend:request_rate"] *= 3  # a real surge on top of the wave
    cfg = AttributionConfig(n_bootstrap=0, fault_type=False)
    res = attribute(_graph(), (base, inc), method=Method.STRUCTURAL, alarm="frontend:latency", config=cfg)
    assert "frontend:request_rate" in [c.node for c in res.causes[:2]]


def test_no_time_axis_far_from_the_baseline_means_no_drift() -> None:
    base, inc = _frames()
    later = inc.copy()
    later.index = later.index + pd.Timedelta(days=1)  # a day later: a trend is not carried that far
    assert drift_reference(base, later) is None
