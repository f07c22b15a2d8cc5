"""The out-of-sample protocol of the localize bench (rcakit.bench._protocol): roles, the candidate grid,
leave-one-dataset-out choice and scoring, and the incident helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from rcakit.attribution.config import Direction
from rcakit.bench._protocol import (
    GRID,
    ROLES,
    SHIPPED,
    Candidate,
    CaseSet,
    drafted_cases,
    lodo_rows,
    role_of,
    with_alarm_lead,
)
from rcakit.bench._protocol import _choose as choose
from rcakit.bench._protocol import _grouped as grouped
from rcakit.telemetry import Incident, Telemetry
from rcakit.telemetry.window import TimeWindow


def test_role_of_takes_the_exact_name_then_the_longest_prefix_then_scored() -> None:
    assert role_of("nezha") == ROLES["nezha"]
    assert role_of("sim S set (2 causes)") == ROLES["sim S set"]   # not the shorter "sim S"
    assert role_of("sim S extra") == ROLES["sim S"]
    assert role_of("something new") == "scored"


def test_the_grid_starts_with_the_shipped_default_and_holds_each_candidate_once() -> None:
    assert GRID[0] == SHIPPED
    assert len(GRID) == len(set(GRID)) == 3 * 2 * 2
    assert {c.threshold for c in GRID} == {2.5, 3.0, 4.0}
    assert {c.direction for c in GRID} == {Direction.AUTO, Direction.BOTH}


def test_a_candidate_labels_itself_and_gives_a_config_without_bootstrap() -> None:
    candidate = Candidate(2.5, False, Direction.BOTH)
    assert candidate.label == "threshold 2.5, alarm time off, direction both"
    cfg = candidate.config()
    assert (cfg.threshold, cfg.use_alarm_time, cfg.direction, cfg.n_bootstrap) == (2.5, False, Direction.BOTH, 0)


def _set(name: str, tune: dict[Candidate, list[bool]], score: dict[Candidate, list[bool]],
         group: Any = None) -> CaseSet:
    """A case set whose top-1 hits are given (no attribution runs): every grid candidate gets an answer."""
    n_tune = len(next(iter(tune.values()))) if tune else 0
    n_score = len(next(iter(score.values())))
    cases = [(SimpleNamespace(name=f"{name}-{i}", meta={"g": "x" if i % 2 else "y"}), None)
             for i in range(max(n_tune, n_score))]
    s = CaseSet(name, tune=cases[:n_tune], score=cases[:n_score], real=False, group=group)
    for candidate in GRID:
        if n_tune:
            s._hits[("tune", candidate)] = tune.get(candidate, [False] * n_tune)
        s._hits[("score", candidate)] = score.get(candidate, [False] * n_score)
    return s


def test_choose_picks_the_best_mean_over_the_other_sets_and_a_tie_keeps_the_shipped_default() -> None:
    other = GRID[3]
    a = _set("a", {SHIPPED: [True, False], other: [True, True]}, {SHIPPED: [True]})
    b = _set("b", {SHIPPED: [True, True], other: [False, False]}, {SHIPPED: [True]})
    # over both sets: shipped 0.75, other 0.5
    assert choose([a, b], None) == (SHIPPED, 0.75)
    # without b, only a tunes: other wins there
    assert choose([a, b], "b") == (other, 1.0)
    # a tie keeps the shipped default
    tie = _set("tie", {SHIPPED: [True, False], other: [False, True]}, {SHIPPED: [True]})
    assert choose([tie], None)[0] == SHIPPED


def test_lodo_scores_each_set_with_the_defaults_chosen_without_it(capsys: pytest.CaptureFixture[str]) -> None:
    other = GRID[3]
    a = _set("a", {SHIPPED: [True, False], other: [True, True]}, {SHIPPED: [True, True], other: [False, True]})
    b = _set("b", {SHIPPED: [True, True], other: [False, False]}, {SHIPPED: [False, False], other: [True, True]})
    rows = {r["held out"]: r for r in lodo_rows([a, b])}
    # a held out: b tunes and prefers the shipped default; b held out: a tunes and prefers the other
    assert rows["a"]["chosen without it"] == SHIPPED.label and rows["a"]["held-out top1"] == "1.00"
    assert rows["b"]["chosen without it"] == other.label and rows["b"]["held-out top1"] == "1.00"
    assert rows["b"]["shipped default top1"] == "0.00"
    assert rows["a"]["tuned on"] == "b" and rows["a"]["n"] == 2
    assert "Leave-one-dataset-out over 12 candidate defaults" in capsys.readouterr().out


def test_grouped_prints_the_mean_and_the_mean_per_group() -> None:
    s = _set("g", {}, {SHIPPED: [True, False, True, True]}, group=lambda inc: inc.meta["g"])
    assert grouped(s, [True, False, True, True]) == "0.75 (x 0.50, y 1.00)"
    assert grouped(s, []) == "-"


def _incident() -> Incident:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    metrics = pl.DataFrame({"time": [t0 + timedelta(minutes=i) for i in range(60)], "entity": "api",
                            "metric": "latency", "value": [float(i) for i in range(60)]})
    return Incident(Telemetry(metrics), TimeWindow(t0, t0 + timedelta(minutes=40)),
                    TimeWindow(t0 + timedelta(minutes=40), t0 + timedelta(minutes=60)), alarm="api:latency",
                    name="one")


def test_with_alarm_lead_opens_the_window_earlier_and_puts_the_alarm_at_the_onset() -> None:
    incident = _incident()
    led = with_alarm_lead(incident, 3, 60.0)
    onset = incident.incident_window.start
    assert led.incident_window.start == onset - timedelta(minutes=3)
    assert led.incident_window.end == incident.incident_window.end
    assert led.baseline_window.end == led.incident_window.start
    assert led.baseline_window.start == incident.baseline_window.start
    assert led.alarm_time == onset and led.alarm == incident.alarm and led.name == incident.name


def test_a_failed_draft_is_reported_and_kept_as_a_miss(capsys: pytest.CaptureFixture[str]) -> None:
    incidents = [SimpleNamespace(name="ok"), SimpleNamespace(name="bad")]

    def draft(inc: Any) -> str:
        if inc.name == "bad":
            raise RuntimeError("no graph")
        return "graph"

    cases = drafted_cases(incidents, draft)
    assert [(inc.name, graph) for inc, graph in cases] == [("ok", "graph"), ("bad", None)]
    assert "bad: draft failed: no graph" in capsys.readouterr().out
