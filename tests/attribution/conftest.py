"""A seeded linear SCM with an injected root cause, as an Incident (shared by the attribution tests)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from rcakit.telemetry import GroundTruth, Incident, Telemetry

EDGES = [("db:latency", "api:latency"), ("cache:latency", "api:latency"), ("api:latency", "web:latency"),
         ("auth:latency", "web:latency"), ("db:latency", "auth:latency")]


def make_scm_incident(root: str = "cache:latency", *, seed: int = 0, n_base: int = 400, n_inc: int = 8,
                      shift: float = 15.0) -> Incident:
    rng = np.random.default_rng(seed)
    graph = nx.DiGraph(EDGES)
    n = n_base + n_inc
    noise = {node: rng.normal(1.0, 0.1, n) for node in graph.nodes}
    noise[root][n_base:] += shift * 0.1
    values: dict[str, np.ndarray] = {}
    for node in nx.topological_sort(graph):
        values[node] = noise[node] + sum(0.8 * values[p] for p in graph.predecessors(node))
    frame = pd.DataFrame(values)
    frame.insert(0, "time", pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) * 60, "s"))
    tel = Telemetry.from_wide(frame)
    t = frame["time"]
    return Incident(tel, (t.iloc[0], t.iloc[n_base]), (t.iloc[n_base], t.iloc[-1] + pd.Timedelta("60s")),
                    alarm="web:latency", truth=GroundTruth(root_cause_nodes=(root,), graph=graph), name=f"scm-{root}")


@pytest.fixture
def scm_incident() -> Incident:
    return make_scm_incident()


@pytest.fixture
def scm_graph() -> nx.DiGraph:
    return nx.DiGraph(EDGES)
