"""ReviewSession: decisions, exact undo/redo, autosave and exact reopen, queue, subscribers, rediscover."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from rcakit.errors import DataError
from rcakit.graph import CausalDraft, EdgeStatus
from rcakit.review import SESSION_SUFFIX, ReviewSession, default_session_path
from tests.review.conftest import make_draft


def _file(session: ReviewSession) -> dict:
    assert session.path is not None
    return json.loads(session.path.read_text())


def test_every_decision_reaches_the_autosave_file(tmp_path, draft_and_truth):
    draft, _ = draft_and_truth
    session = ReviewSession(draft, path=tmp_path / "s.json")
    session.accept("db:latency", "api:latency", reason="seen in traces")
    saved = _file(session)
    assert [d["kind"] for d in saved["undo"]] == ["accept"]
    assert saved["undo"][0]["reason"] == "seen in traces" and saved["undo"][0]["time"].endswith("+00:00")
    edges = {(e["source"], e["target"]): e["status"] for e in saved["draft"]["edges"]}
    assert edges[("db:latency", "api:latency")] == "accepted"
    session.reject("web:latency", "db:latency")
    session.reverse("api:latency", "cache:latency")
    edges = {(e["source"], e["target"]): e["status"] for e in _file(session)["draft"]["edges"]}
    assert edges[("web:latency", "db:latency")] == "rejected"
    assert ("api:latency", "cache:latency") not in edges and edges[("cache:latency", "api:latency")] == "accepted"
    assert not list(tmp_path.glob(".*.tmp")), "atomic writes leave no temporary file behind"


def test_undo_and_redo_are_exact(tmp_path, draft_and_truth):
    draft, _ = draft_and_truth
    original = draft.to_dict()
    session = ReviewSession(draft, path=tmp_path / "s.json")
    session.next_batch(3)
    session.accept("db:latency", "api:latency")
    session.reverse("api:latency", "cache:latency")
    session.add("api:cpu", "api:latency", reason="cpu saturation slows requests")
    session.add("disk:io", "db:latency")  # a new node
    session.forbid("web:latency", "db:latency")
    after = session.draft.to_dict()
    queue_after = [q.to_dict() for q in session.queue], session.cursor
    for _ in range(5):
        assert session.undo() is not None
    assert session.undo() is None
    assert session.draft.to_dict()["edges"] == original["edges"] or sorted(
        map(json.dumps, session.draft.to_dict()["edges"])) == sorted(map(json.dumps, original["edges"]))
    assert set(session.draft.nodes) == set(original_nodes := [n["name"] for n in original["nodes"]]), original_nodes
    assert session.forbidden == set() and session.cursor == 0 and all(q.done is None for q in session.queue)
    for _ in range(5):
        session.redo()
    assert sorted(map(json.dumps, session.draft.to_dict()["edges"])) == sorted(map(json.dumps, after["edges"]))
    assert ([q.to_dict() for q in session.queue], session.cursor) == queue_after
    assert session.redo() is None


def test_a_new_decision_clears_redo(tmp_path, draft_and_truth):
    session = ReviewSession(draft_and_truth[0], path=tmp_path / "s.json")
    session.accept("db:latency", "api:latency")
    session.undo()
    assert session.can_redo
    session.reject("db:latency", "api:latency")
    assert not session.can_redo and len(session.decisions) == 1


def test_reopen_restores_everything(tmp_path, draft_and_truth):
    draft, _ = draft_and_truth
    path = tmp_path / "review.json"
    session = ReviewSession(draft, path=path)
    batch = session.next_batch(5)
    first = batch[0].edge
    session.reject(*first, reason="no such dependency")
    session.skip()
    session.accept("api:latency", "web:latency")
    session.undo()
    state = session.to_dict()
    del session, draft  # drop every object: only the file remains

    reopened = ReviewSession.open(path)
    again = reopened.to_dict()
    for key in ("draft", "undo", "redo", "forbidden", "required", "skipped", "queue", "cursor", "next_id", "history"):
        assert again[key] == state[key], key
    assert reopened.draft.edge(*first).status is EdgeStatus.REJECTED
    assert reopened.current is not None and reopened.current.edge == tuple(state["queue"][state["cursor"]]["edge"])
    # the reopened session keeps working: redo, then undo everything back to the start
    assert reopened.redo() is not None
    while reopened.undo() is not None:
        pass
    assert reopened.draft.edge(*first).status is EdgeStatus.PROPOSED


def test_rejected_edge_stays_rejected_and_is_not_offered_again(tmp_path, draft_and_truth):
    path = tmp_path / "r.json"
    session = ReviewSession(draft_and_truth[0], path=path)
    session.reject("web:latency", "db:latency")
    reopened = ReviewSession.open(path)
    assert reopened.draft.edge("web:latency", "db:latency").status is EdgeStatus.REJECTED
    offered = {frozenset(q.edge) for q in reopened.next_batch(10)}
    assert frozenset(("web:latency", "db:latency")) not in offered
    assert ("web:latency", "db:latency") not in reopened.to_networkx().edges
    assert ("web:latency", "db:latency") in reopened.background_knowledge()["forbidden"]


def test_next_batch_puts_the_cycle_first_and_skips_decided_edges(tmp_path, draft_and_truth):
    session = ReviewSession(draft_and_truth[0], path=tmp_path / "q.json")
    batch = session.next_batch(2)
    assert len(batch) == 2
    # db -> api -> web -> db is a cycle; its proposed edges outrank the rest
    assert batch[0].kind == "cycle"
    session.accept(*batch[0].edge)
    assert session.cursor == 1 and session.current is not None and session.current.edge == batch[1].edge
    session.skip()
    assert session.current is None and session.batch_done
    nxt = session.next_batch(5)
    assert not {q.edge for q in nxt} & {batch[0].edge, batch[1].edge}
    with pytest.raises(DataError):
        session.next_batch(0)


def test_missing_edges_can_be_added_or_forbidden(tmp_path, draft_and_truth):
    session = ReviewSession(draft_and_truth[0], path=tmp_path / "m.json")
    session.accept("api:cpu", "api:latency")  # not in the draft: accepting a missing edge adds it
    edge = session.draft.edge("api:cpu", "api:latency")
    assert edge.status is EdgeStatus.ACCEPTED and [p.value for p in edge.provenance] == ["human"]
    session.reject("cache:latency", "web:latency")
    assert ("cache:latency", "web:latency") in session.forbidden
    session.require("db:latency", "web:latency")
    assert ("db:latency", "web:latency") in session.background_knowledge()["required"]
    with pytest.raises(DataError, match="not in the draft"):
        session.accept("nope:x", "api:latency")
    with pytest.raises(DataError, match="itself"):
        session.add("api:cpu", "api:cpu")


def test_subscribers_hear_graph_changes(tmp_path, draft_and_truth):
    session = ReviewSession(draft_and_truth[0], path=tmp_path / "sub.json")
    events = []
    unsubscribe = session.subscribe(events.append)

    def broken(_event):
        raise RuntimeError("a view crashed")

    session.subscribe(broken)
    session.next_batch(2)
    session.accept("db:latency", "api:latency")
    session.undo()
    assert [(e.kind, e.graph_changed) for e in events] == [("queue", False), ("decision", True), ("undo", True)]
    assert events[1].decision is not None and events[1].decision.edge == ("db:latency", "api:latency")
    unsubscribe()
    session.redo()
    assert len(events) == 3
    assert _file(session)["undo"][0]["kind"] == "accept", "a failing subscriber must not lose the decision"


def test_default_file_is_named_after_the_draft_and_sits_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    draft, _ = make_draft("incident 42/checkout")
    session = ReviewSession(draft)
    assert session.path == tmp_path / f"incident-42-checkout{SESSION_SUFFIX}"
    assert session.path.is_file()
    assert default_session_path(CausalDraft(alarm="web:latency")).name == f"web-latency{SESSION_SUFFIX}"
    memory = ReviewSession(make_draft("x")[0], autosave=False)
    memory.accept("db:latency", "api:latency")
    assert memory.path is None and not (tmp_path / f"x{SESSION_SUFFIX}").exists()


def test_bad_files_and_arguments_say_what_to_do(tmp_path, draft_and_truth):
    with pytest.raises(DataError, match="not found"):
        ReviewSession.open(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"rcakit_review": 1, "draft": ')
    with pytest.raises(DataError, match="not valid JSON") as info:
        ReviewSession.open(broken)
    assert info.value.source == str(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"rcakit_review": 99}))
    with pytest.raises(DataError, match="version"):
        ReviewSession.open(other)
    with pytest.raises(DataError, match="alarm"):
        ReviewSession(draft_and_truth[0], alarm="nope:x", autosave=False)
    with pytest.raises(DataError, match="CausalDraft"):
        ReviewSession(nx.DiGraph(), autosave=False)  # type: ignore[arg-type]


def _linear_data(truth: nx.DiGraph, n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values: dict[str, np.ndarray] = {}
    for node in nx.topological_sort(truth):
        x = rng.normal(size=n)
        for parent in truth.predecessors(node):
            x = x + 1.5 * values[parent]
        values[node] = x
    return pd.DataFrame(values)


@pytest.mark.slow  # importing causal-learn (scikit-learn) alone takes seconds
def test_rediscover_uses_the_decisions_as_background_knowledge(tmp_path, draft_and_truth):
    draft, truth = draft_and_truth
    data = _linear_data(truth)
    session = ReviewSession(draft, path=tmp_path / "d.json", data=data)
    session.reject("api:latency", "web:latency", reason="pretend the reviewer knows better")
    before = set(session.draft.edges)
    decision = session.rediscover("pc")
    added = set(session.draft.edges) - before
    assert ("api:cpu", "api:latency") in added, "the data reveal the missing cpu -> latency edge"
    new = session.draft.edge("api:cpu", "api:latency")
    assert new.status is EdgeStatus.PROPOSED and [p.value for p in new.provenance] == ["data"]
    assert session.draft.edge("api:latency", "web:latency").status is EdgeStatus.REJECTED
    assert decision.kind.value == "rediscover"
    session.undo()
    assert set(session.draft.edges) == before
    with pytest.raises(DataError, match="needs data"):
        ReviewSession(make_draft()[0], autosave=False).rediscover()
