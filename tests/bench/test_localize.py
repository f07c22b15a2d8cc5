"""Scoring of the localize bench (rcakit.bench.localize): a row's top-k from ranks, ranks from attributions."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

import rcakit.bench.localize as localize
from rcakit.attribution import Method
from rcakit.bench._protocol import role_of
from rcakit.telemetry import GroundTruth


def test_a_row_scores_top1_and_top3_from_ranks_a_missing_rank_being_a_miss() -> None:
    row = localize._row("petshop latency", "call graph", "structural", [1, 2, None, 5], [0.5, 1.5, 1.0])
    assert row["n"] == 4
    assert row["top1"] == 0.25 and row["top3"] == 0.5
    assert row["median s"] == 1.0
    assert row["peer top1"] == localize.PEERS[("petshop latency", 1)]
    assert row["role"] == role_of("petshop latency")


def test_a_row_without_ranks_or_times_is_nan_not_an_error() -> None:
    row = localize._row("new set", "g", "m", [], [], extra={"note": "x"})
    assert math.isnan(row["top1"]) and math.isnan(row["top3"]) and math.isnan(row["median s"])
    assert row["peer top1"] == "" and row["note"] == "x"


class _Ranking:
    def __init__(self, order: list[str]) -> None:
        self.order = order

    def rank_of(self, name: str) -> int | None:
        return self.order.index(name) + 1 if name in self.order else None


def _incident(name: str, entities: tuple[str, ...], nodes: tuple[str, ...] = ()) -> Any:
    return SimpleNamespace(name=name, truth=GroundTruth(root_cause_entities=entities, root_cause_nodes=nodes))


def test_incident_rows_rank_the_true_node_or_entity_and_count_failures_as_misses(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    answers = {"a": ["db:cpu", "api:latency", "db", "api"], "b": ["api", "db"], "c": None}
    graphs_seen: list[Any] = []

    def fake_attribute(graph: Any, incident: Any, *, method: Method, config: Any) -> _Ranking:
        graphs_seen.append(graph)
        order = answers[incident.name]
        if order is None:
            raise RuntimeError("boom")
        return _Ranking(order)

    monkeypatch.setattr(localize, "attribute", fake_attribute)
    incidents = [_incident("a", ("db",), ("api:latency",)),   # node truth: rank 2
                 _incident("b", ("db",)),                      # entity truth: rank 2
                 _incident("c", ("db",))]                      # attribution fails: a miss
    rows = localize.incident_rows("set", incidents, {"true": lambda inc: f"graph-{inc.name}"},
                                  [Method.STRUCTURAL, Method.ROBUST_Z], config=None)
    assert [r["method"] for r in rows] == ["structural", "robust_z"]
    assert all(r["n"] == 3 and r["top1"] == 0.0 and r["top3"] == pytest.approx(2 / 3) for r in rows)
    # graph-free methods get no graph
    assert graphs_seen[:3] == ["graph-a", "graph-b", "graph-c"] and graphs_seen[3:] == [None] * 3
    assert "set/true/structural: c: boom" in capsys.readouterr().out
    # entity level: the true entity of incident a ranks 3rd
    rows = localize.incident_rows("set", incidents[:1], {"true": lambda inc: None}, [Method.STRUCTURAL],
                                  config=None, entity_level=True)
    assert rows[0]["top1"] == 0.0 and rows[0]["top3"] == 1.0


def test_an_incident_whose_graph_fails_is_left_out_and_said(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(localize, "attribute", lambda graph, incident, **kw: _Ranking(["db"]))

    def graph(inc: Any) -> str:
        if inc.name == "bad":
            raise ValueError("cannot draft")
        return "g"

    rows = localize.incident_rows("set", [_incident("ok", ("db",)), _incident("bad", ("db",))], {"drafted": graph},
                                  [Method.STRUCTURAL], config=None)
    assert rows[0]["n"] == 1 and rows[0]["top1"] == 1.0
    assert "graph failed for bad: cannot draft" in capsys.readouterr().out
    assert localize.incident_rows("set", [_incident("bad", ("db",))], {"drafted": graph}, [Method.STRUCTURAL],
                                  config=None) == []


def test_an_incident_without_truth_cannot_be_scored() -> None:
    with pytest.raises(ValueError, match="no ground truth"):
        localize._truth(SimpleNamespace(name="x", truth=None))


def test_columns_keep_first_seen_order_and_report_prints_new_rows(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"a": 1, "b": 2}, {"b": 3, "c": 4}]
    assert localize._columns(rows) == ["a", "b", "c"]
    out = localize._report([{"a": 0}], rows)
    assert out == [{"a": 0}, *rows]
    assert capsys.readouterr().out.splitlines()[0] == "| a | b | c |"
    assert localize._report(rows, []) == rows


def test_fusion_disagreement_lines_count_who_was_right_when_the_views_split() -> None:
    from rcakit.bench._localize_fusion import _SHIPPED, _label, disagreement_lines

    def hit(disagree: bool, graph: bool, mm: bool, fused: bool) -> dict[str, bool | str]:
        return {"disagree": disagree, "graph first": graph, "multimodal first": mm, _label(_SHIPPED): fused,
                "structural (drafted)": graph, "multimodal": mm, "system": ""}

    sets = [{"name": "sim", "role": "tuning (seeds 1-2)", "seconds": 0.0,
             "hits": [hit(True, True, False, True), hit(True, False, True, False), hit(False, True, True, True)]},
            {"name": "real", "role": "scored", "seconds": 0.0, "hits": [hit(False, True, True, True)]}]
    lines = disagreement_lines(sets)  # type: ignore[arg-type]
    assert lines == ["  sim (tuning): 2 of 3 disagree; the graph's first right 1, the multimodal first right 1, "
                     "fused right 1"]  # a set where the views never split prints nothing
