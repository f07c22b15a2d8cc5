"""IncidentDashboard driven through its public methods (no browser): load, steps, cancel, errors, report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rcakit._progress import Cancelled
from rcakit.errors import DataError
from rcakit.ui import IncidentDashboard
from rcakit.ui.dashboard import STEPS

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dash")
    return IncidentDashboard("sim-M-network", folder=folder), folder


@pytest.mark.slow
def test_loading_a_sample_fills_every_section_and_names_the_top_cause(loaded) -> None:
    dash, folder = loaded
    assert dash.incident.name == "sim-M-network"
    assert dash.explorer_box.children == (dash.explorer.widget,)
    assert dash.reviewer_box.children == (dash.reviewer,) and dash.attribution_box.children == (dash.panel,)
    assert dash.report_box.children == (dash.report_panel,)
    assert dash.progress.value == len(STEPS) and dash.progress.bar_style == "success"
    top = dash.panel.result.causes[0].node
    assert top in dash.status.value and "analysed in" in dash.status.value
    assert set(dash.seconds) == set(STEPS)
    assert [f.name for f in dash.report.figures] == ["series", "graph", "scores"]
    assert (folder / "sim-M-network.rcakit-review.json").is_file(), "review decisions autosave in the folder"
    assert not dash.load_button.disabled and dash.cancel_button.disabled and not dash.report_button.disabled
    # the series chart is a plain plotly output (Voila draws no FigureWidget traces) holding the selected series
    spec = dash.explorer.timeseries_output.outputs[0]["data"]["application/vnd.plotly.v1+json"]
    assert [trace["name"] for trace in spec["data"]] == dash.explorer.selected_metrics != []


@pytest.mark.slow
def test_write_report_follows_the_latest_attribution_run(loaded) -> None:
    dash, _ = loaded
    before = dash.report
    item = dash.session.next_batch(1)[0]
    dash.reviewer.reject(*item.edge, reason="test")
    dash.panel.run()
    dash.panel.wait()
    dash.report_button.click()
    assert dash.report is not before and dash.report_panel.report is dash.report
    assert dash.report.facts.causes[0].node == dash.panel.result.causes[0].node


@pytest.mark.slow
def test_a_folder_with_an_incident_loads_like_a_sample(tmp_path) -> None:
    dash = IncidentDashboard(folder=tmp_path)
    assert dash.incident is None and "press Load" in dash.status.value
    dash.folder_input.value = str(SAMPLES / "sim-S-gpu-throttle")
    dash.start()
    assert dash.wait(timeout=300)
    assert dash.incident.name == "sim-S-gpu-throttle" and dash.report is not None


def test_a_missing_folder_is_named_in_the_status_and_raised(tmp_path) -> None:
    dash = IncidentDashboard(folder=tmp_path, samples=["sim-M-network"])
    with pytest.raises(DataError, match="neither a sample incident nor an existing folder"):
        dash.load(str(tmp_path / "<nope>"))
    assert "failed" in dash.status.value and "&lt;nope&gt;" in dash.status.value and "<nope>" not in dash.status.value
    assert dash.progress.bar_style == "danger" and not dash.load_button.disabled


def test_cancel_stops_the_running_step_and_says_which(tmp_path, monkeypatch) -> None:
    import rcakit.graph

    def slow_draft(incident, *, cancel=None, on_progress=None, **kwargs):
        on_progress(3, 10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            cancel.raise_if_cancelled()
            time.sleep(0.01)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(rcakit.graph, "draft_graph", slow_draft)
    dash = IncidentDashboard(folder=tmp_path)
    dash.start("sim-S-gpu-throttle")
    deadline = time.monotonic() + 60
    while dash.step != "draft" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert dash.running and not dash.cancel_button.disabled
    assert "3 of 10 candidate pairs answered" in dash.status.value
    dash.cancel_button.click()
    assert dash.wait(timeout=60) is False
    assert "cancelled while drafting the causal graph" in dash.status.value
    assert dash.progress.bar_style == "warning" and not dash.load_button.disabled
    assert dash.reviewer_box.children == () and dash.explorer is not None  # the steps before it stay shown
    with pytest.raises(Cancelled):
        dash._token.raise_if_cancelled()


HOLDER = """
import sys
import networkx as nx
from rcakit.graph import CausalDraft
from rcakit.review import ReviewSession
session = ReviewSession(CausalDraft.from_graph(nx.DiGraph([("a:x", "b:y")])), path=sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""


@pytest.mark.slow
def test_a_second_visitor_reviews_into_its_own_file(tmp_path) -> None:
    import subprocess
    import sys

    # another kernel (a second visitor of the same Voila page) holds the incident's review file
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "sim-S-gpu-throttle.rcakit-review.json")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        dash = IncidentDashboard("sim-S-gpu-throttle", folder=tmp_path)
        assert dash.session.path.name == "sim-S-gpu-throttle-2.rcakit-review.json"
        assert "open in another session" in dash.status.value
        dash.close()
        again = IncidentDashboard("sim-S-gpu-throttle", folder=tmp_path)
        assert again.session.path.name == "sim-S-gpu-throttle-2.rcakit-review.json", "a closed dashboard gave it up"
        again.close()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.slow
def test_loading_another_incident_reviews_it_in_the_same_widget(tmp_path) -> None:
    dash = IncidentDashboard("sim-S-gpu-throttle", folder=tmp_path)
    reviewer, first = dash.reviewer, dash.session
    model_id = reviewer.model_id
    dash.load("sim-M-network")
    # one front-end model for the page's life: a new anywidget model must load in 2 s on a busy page
    assert dash.reviewer is reviewer and reviewer.model_id == model_id and dash.reviewer_box.children == (reviewer,)
    assert reviewer.session is dash.session is not first and dash.reviewer_box.layout.display is None
    drawn = {n["id"] for n in json.loads(reviewer.graph_json)["nodes"]}
    assert drawn == set(dash.session.draft.nodes) and drawn != set(first.draft.nodes)
    assert reviewer.queue and all(q["source"] in drawn and q["target"] in drawn for q in reviewer.queue)
    assert (tmp_path / "sim-M-network.rcakit-review.json").is_file()
    # the widget's buttons act on the new session
    item = dash.session.next_batch(1)[0]
    reviewer.reject(*item.edge, reason="test")
    assert reviewer.summary["decisions"] == 1 and dash.session.draft.edges[item.edge].status.value == "rejected"
    # the previous incident's session was closed: its review file is free for another dashboard
    again = IncidentDashboard("sim-S-gpu-throttle", folder=tmp_path)
    assert again.session.path.name == "sim-S-gpu-throttle.rcakit-review.json", "the first incident's file was given up"
    again.close()
    dash.close()
