from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import networkx as nx

from rcakit.attribution import AttributionConfig
from rcakit.ui.attribution_panel import AttributionPanel

_spec = importlib.util.spec_from_file_location(
    "attribution_scm", Path(__file__).resolve().parents[1] / "attribution" / "conftest.py")
_scm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_scm)
EDGES, make_scm_incident = _scm.EDGES, _scm.make_scm_incident


class FakeSession:
    """Stands for a ReviewSession: ``.draft`` and ``subscribe(callback)``."""

    def __init__(self, graph: nx.DiGraph) -> None:
        self.draft = graph
        self.callbacks = []

    def subscribe(self, callback):
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def change(self, graph: nx.DiGraph) -> None:
        self.draft = graph
        for cb in self.callbacks:
            cb("changed")


def test_panel_runs_in_background_draws_partials_and_keeps_history() -> None:
    session = FakeSession(nx.DiGraph(EDGES))
    panel = AttributionPanel(session, make_scm_incident(), config=AttributionConfig(n_bootstrap=3))
    panel.run()
    result = panel.wait(timeout=60)
    assert result is not None and result.causes[0].node == "cache:latency"
    assert panel.partials and not panel.partials[0].final
    assert list(panel.chart.data[0].y)[-1] == "cache:latency"  # best bar on top
    assert "done" in panel.status.value
    assert panel.progress.value == panel.progress.max == 3 and panel.progress.bar_style == "success"

    smaller = nx.DiGraph(EDGES)
    smaller.remove_edge("cache:latency", "api:latency")
    session.change(smaller)
    assert panel.stale
    panel.run()
    panel.wait(timeout=60)
    assert len(panel.history) == 2
    assert panel.rank_history("cache:latency")[0] == 1
    assert len(panel.moves.data) >= 1


def test_cancel_stops_a_run() -> None:
    panel = AttributionPanel(nx.DiGraph(EDGES), make_scm_incident(),
                             config=AttributionConfig(n_bootstrap=100000))
    panel.run()
    deadline = time.time() + 30
    while not panel.partials and time.time() < deadline:
        time.sleep(0.01)
    panel.cancel()
    assert panel.wait(timeout=30) is None
    assert not panel.running
    assert panel.status.value == "cancelled"
    assert panel.history == []
