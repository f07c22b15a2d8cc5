"""GraphReviewer driven through its public methods (what each click or key calls), no browser."""

from __future__ import annotations

import json
import re

import pytest
import traitlets

from rcakit.graph import CausalDraft, EdgeStatus
from rcakit.review import ReviewSession
from rcakit.ui import GraphReviewer
from rcakit.ui._assets import read_asset, widgets_dir
from tests.review.conftest import make_draft


@pytest.fixture
def reviewer(tmp_path) -> GraphReviewer:
    draft, _ = make_draft()
    return GraphReviewer(draft, path=tmp_path / "review.json")


def _saved(reviewer: GraphReviewer) -> dict:
    return json.loads(reviewer.session.path.read_text())


def test_opens_on_the_first_suspicious_edge(reviewer):
    assert len(reviewer.queue) == 5 or len(reviewer.queue) == len(reviewer.session.queue) > 0
    first = reviewer.queue[0]
    assert first["current"] and reviewer.selected == ["edge", first["source"], first["target"]]
    assert reviewer.summary["has_target"] and not reviewer.summary["can_undo"]


def test_click_an_edge_shows_its_details(reviewer):
    info = reviewer.select_edge("db:latency", "api:latency")
    assert info["rationale"] == "callee latency adds up" and info["rules"] == ["callee-latency"]
    assert info["votes"] == {"a->b": 3, "none": 1} and info["provenance"] == ["knowledge"]
    assert reviewer.details == info
    node = reviewer.select_node("api:latency")
    assert node["role"] == "ancestor of the alarm" and "db:latency" in node["causes"]


def test_accept_button_decides_on_the_selected_edge_and_autosaves(reviewer):
    reviewer.select_edge("db:latency", "api:latency")
    reviewer.accept()
    assert reviewer.session.draft.edge("db:latency", "api:latency").status is EdgeStatus.ACCEPTED
    saved = _saved(reviewer)
    assert saved["undo"][-1]["kind"] == "accept" and saved["undo"][-1]["edge"] == ["db:latency", "api:latency"]
    assert reviewer.summary["can_undo"] and reviewer.summary["decisions"] == 1
    drawn = {(e["from"], e["to"]): e for e in reviewer.graph["edges"]}
    assert drawn[("db:latency", "api:latency")]["dashes"] is False  # accepted edges are drawn solid


def test_front_end_messages_reach_the_public_methods(reviewer):
    """What the JS sends for a click on an edge, then the 'r' key, then 'u'."""
    reviewer._handle_message(reviewer, {"action": "select_edge", "source": "web:latency", "target": "db:latency"}, [])
    reviewer._handle_message(reviewer, {"action": "reject"}, [])
    assert reviewer.session.draft.edge("web:latency", "db:latency").status is EdgeStatus.REJECTED
    assert len(reviewer.session.undo_stack) == 1
    reviewer._handle_message(reviewer, {"action": "undo"}, [])
    assert reviewer.session.draft.edge("web:latency", "db:latency").status is EdgeStatus.PROPOSED
    assert len(reviewer.session.redo_stack) == 1 and _saved(reviewer)["redo"][0]["kind"] == "reject"
    reviewer._handle_message(reviewer, {"action": "select_edge", "source": "no:such", "target": "web:latency"}, [])
    assert "no edge" in reviewer.summary["text"], "a bad message is reported, not raised into the comm"


def test_keyboard_walks_through_the_queue(reviewer):
    queue = [(q["source"], q["target"]) for q in reviewer.queue]
    reviewer.accept()          # a
    reviewer.skip()            # s
    reviewer.reverse()         # v
    done = [q["done"] for q in reviewer.queue]
    assert done[:3] == ["accept", "skip", "reverse"]
    assert reviewer.session.draft.edge(*queue[0]).status is EdgeStatus.ACCEPTED
    assert reviewer.session.draft.has_edge(queue[2][1], queue[2][0])
    reviewer.undo()            # u
    assert reviewer.session.draft.has_edge(*queue[2]) and reviewer.queue[2]["done"] == ""
    reviewer.redo()
    assert reviewer.queue[2]["done"] == "reverse"


def test_next_five_and_filters(reviewer):
    for _ in range(len(reviewer.queue)):
        reviewer.accept()
    assert all(q["done"] for q in reviewer.queue)
    reviewer.next_batch()
    assert all(not q["done"] for q in reviewer.queue)
    reviewer.set_filter(provenance="llm")
    assert reviewer.graph["edges"] and all("llm" in e["provenance"] for e in reviewer.graph["edges"])
    reviewer.set_filter(component="cache")
    assert {frozenset((e["from"], e["to"])) for e in reviewer.graph["edges"]} == {
        frozenset(("api:latency", "cache:latency"))}
    reviewer.set_filter()
    assert len(reviewer.graph["edges"]) == len(reviewer.session.draft.edges)
    with pytest.raises(traitlets.TraitError, match="unknown status"):
        reviewer.set_filter(status="maybe")


def test_add_an_edge_by_hand(reviewer):
    reviewer.add_edge("api:cpu", "api:latency", reason="saturation")
    edge = reviewer.session.draft.edge("api:cpu", "api:latency")
    assert edge.status is EdgeStatus.ACCEPTED and edge.rationale == "saturation"
    assert _saved(reviewer)["undo"][-1]["kind"] == "add"
    assert reviewer.selected == ["edge", "api:cpu", "api:latency"]


def test_alarm_and_its_ancestors_are_highlighted(reviewer):
    roles = {n["id"]: n["role"] for n in reviewer.graph["nodes"]}
    assert roles["web:latency"] == "alarm"
    assert roles["api:latency"] == "ancestor" and roles["db:latency"] == "ancestor"
    assert roles["api:cpu"] == "node"


def test_changes_made_in_code_show_in_the_view(reviewer):
    reviewer.session.reject("api:latency", "web:latency")
    drawn = {(e["from"], e["to"]): e for e in reviewer.graph["edges"]}
    assert drawn[("api:latency", "web:latency")]["status"] == "rejected"
    roles = {n["id"]: n["role"] for n in reviewer.graph["nodes"]}
    assert roles["db:latency"] == "node", "a rejected edge no longer makes db an ancestor of the alarm"


def test_drop_everything_and_reopen(tmp_path):
    path = tmp_path / "again.json"
    reviewer = GraphReviewer(make_draft()[0], path=path)
    reviewer.reject()
    reviewer.accept()
    rejected = reviewer.session.undo_stack[0].edge
    queue, selected, decisions = reviewer.queue, reviewer.selected, len(reviewer.session.undo_stack)
    reviewer.close()
    del reviewer

    again = GraphReviewer(ReviewSession.open(path))
    assert again.queue == queue and again.selected == selected
    assert len(again.session.undo_stack) == decisions
    assert again.session.draft.edge(*rejected).status is EdgeStatus.REJECTED
    again.undo()
    again.undo()
    assert again.session.draft.edge(*rejected).status is EdgeStatus.PROPOSED


def test_hostile_names_stay_data(tmp_path):
    evil = '<img src=x onerror="alert(1)">'
    draft = CausalDraft(alarm="web:latency")
    draft.add_edge(f"{evil}:latency", "web:latency", provenance="llm", rationale=f"<script>{evil}</script>")
    reviewer = GraphReviewer(draft, path=tmp_path / "evil.json")
    state = json.dumps({"graph": reviewer.graph, "details": reviewer.details, "queue": reviewer.queue})
    # names are plain strings in the state (the details panel shows the rationale as text) ...
    assert f"{evil}:latency" in {n["id"] for n in json.loads(state)["graph"]["nodes"]}
    assert reviewer.details["rationale"] == f"<script>{evil}</script>"
    js = read_asset("graph_reviewer.js")
    # ... and the front end never parses them as markup
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", js)
    assert "textContent" in js
    html = reviewer.session._repr_html_()
    assert evil not in html
    page = reviewer.session.export(tmp_path / "evil.html").read_text()
    assert evil not in page and "<script>" + evil not in page


def test_front_end_files_are_found_and_bundle_the_graph_library(reviewer):
    assert (widgets_dir() / "graph_reviewer.js").is_file()
    assert "export default" in reviewer._esm and "vis-network" in reviewer._esm
    # the graph library rides in a trait of its own, so the module anywidget must load in 2 s stays small
    assert len(reviewer._esm) < 50_000 < len(reviewer._vis_source)
    assert "_vis_source" in reviewer.keys and reviewer.trait_metadata("_vis_source", "sync")
    assert "http://" not in read_asset("graph_reviewer.js") and "https://" not in read_asset("graph_reviewer.js")
    assert ".rcakit-reviewer" in reviewer._css


def test_assets_prefer_the_wheel_folder_then_the_checkout(tmp_path, monkeypatch):
    import rcakit
    from rcakit.errors import MissingDependencyError
    from rcakit.ui import _assets

    fake = tmp_path / "site" / "rcakit"
    fake.mkdir(parents=True)
    monkeypatch.setattr(rcakit, "__file__", str(fake / "__init__.py"))
    with pytest.raises(MissingDependencyError, match="reinstall"):
        _assets.widgets_dir()
    (tmp_path / "site" / "widgets").mkdir()
    assert _assets.widgets_dir() == tmp_path / "site" / "widgets"  # a source checkout
    (fake / "_widgets").mkdir()
    assert _assets.widgets_dir() == fake / "_widgets"  # a wheel (pyproject force-includes widgets/ there)


def test_details_follow_decisions_made_in_code(tmp_path) -> None:
    from rcakit.graph import CausalDraft
    from rcakit.ui import GraphReviewer

    draft = CausalDraft(alarm="c:m")
    draft.add_edge("a:m", "b:m", provenance="knowledge")
    draft.add_edge("b:m", "c:m", provenance="knowledge")
    reviewer = GraphReviewer(draft, path=tmp_path / "s.rcakit-review.json", start=False)
    reviewer.select_edge("a:m", "b:m")
    assert reviewer.details["status"] == "proposed"
    reviewer.session.accept("a:m", "b:m")
    assert reviewer.details["status"] == "accepted"
    reviewer.session.reverse("a:m", "b:m")
    assert reviewer.selected == ["edge", "b:m", "a:m"]
