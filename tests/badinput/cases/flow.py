"""After loading: windows, odd series and graphs through the public flow (detect, draft, attribute, analyze, report,
review).

Every case builds a small incident (three services, db -> api -> web, the db's latency jumps in the
incident window) and changes one thing about it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import polars as pl

import rcakit
from rcakit import Incident, Telemetry, TimeWindow
from tests.badinput.cases import Accepted, Case
from tests.badinput.cases._helpers import CLEAN, COERCED, REJECTED, says

WINDOWS, SERIES, GRAPHS = "windows", "series", "graphs"
T0 = datetime(2023, 1, 30, 12, 0, tzinfo=UTC)
NODES = ("db:latency", "api:latency", "web:latency")
CHAIN = nx.DiGraph([("db:latency", "api:latency"), ("api:latency", "web:latency")])
SCHEMA: dict[str, Any] = {"time": pl.Datetime("us", "UTC"), "entity": pl.String, "metric": pl.String, "value": pl.Float64}


def minutes(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def metrics(nodes: tuple[str, ...] = NODES, n: int = 120, value: Any = None, seed: int = 0) -> pl.DataFrame:
    """One row a minute per node; the db's latency is 8 higher from minute 90 (the fault)."""
    rng = np.random.default_rng(seed)
    rows = []
    for node in nodes:
        entity, metric = node.split(":", 1)
        for i in range(n):
            v = value(node, i, rng) if value else rng.normal(10, 1) + (8 if node.startswith("db") and i >= 90 else 0)
            rows.append((minutes(i), entity, metric, v))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def incident(frame: pl.DataFrame | None = None, base: tuple[float, float] = (0, 80),
             window: tuple[float, float] = (90, 120), alarm: str | None = "web:latency") -> Incident:
    tel = Telemetry(metrics() if frame is None else frame)
    return Incident(tel, TimeWindow(minutes(base[0]), minutes(base[1])),
                    TimeWindow(minutes(window[0]), minutes(window[1])), alarm=alarm, name="corpus")


def attributed(graph: Any, inc: Incident | None = None, **kwargs: Any) -> Any:
    return rcakit.attribute(graph, inc if inc is not None else incident(), **kwargs)


def top(node: str) -> Any:
    def check(result: Any) -> None:
        value = result.value if isinstance(result, Accepted) else result
        assert value.causes and value.causes[0].node == node, f"top cause {value.causes[:1]}, expected {node}"
    return check


def noted(*words: str) -> Any:
    def check(result: Any) -> None:
        notes = " ".join(map(str, getattr(result, "notes", [])))
        for word in words:
            assert word in notes, f"{word!r} not in the notes {notes!r}"
    return check


def both(*checks: Any) -> Any:
    def check(value: Any) -> None:
        for one in checks:
            assert one(value) is not False, f"{one} does not hold"
    return check


# -- windows ------------------------------------------------------------------------------------------
def _detect(base: tuple[float, float], window: tuple[float, float]) -> Any:
    return lambda _f: rcakit.detect_anomalies(incident(base=base, window=window))


def _baseline_after(_folder: Path) -> Any:
    inc = incident(base=(90, 120), window=(0, 80))
    found = rcakit.detect_anomalies(inc)
    return Accepted(found, tuple(found.notes))


def _overlap(_folder: Path) -> Any:
    return rcakit.detect_anomalies(incident(base=(0, 100), window=(90, 120)))


def _logs_only(_folder: Path) -> Any:
    logs = pl.DataFrame({"time": [minutes(i) for i in range(10)], "entity": ["api"] * 10, "message": ["ok"] * 10})
    inc = Incident(Telemetry(logs=logs), TimeWindow(minutes(0), minutes(5)), TimeWindow(minutes(5), minutes(10)),
                   name="logs-only")
    return rcakit.analyze(inc)


def _empty_window_attribute(_folder: Path) -> Any:
    return attributed(CHAIN, incident(window=(200, 220)))


def _set_window_outside(_folder: Path) -> Any:
    inc = incident()
    inc.set_incident_window(minutes(-300), minutes(-200))
    return rcakit.analyze(inc)


# -- series -------------------------------------------------------------------------------------------
def _constant(_folder: Path) -> Any:
    found = rcakit.detect_anomalies(incident(metrics(value=lambda n, i, r: 5.0)))
    assert found.anomalous().height == 0 if hasattr(found.anomalous(), "height") else not found.anomalous()
    return found


def _constant_attribute(_folder: Path) -> Any:
    return attributed(CHAIN, incident(metrics(value=lambda n, i, r: 5.0)))


def _missing(node: str) -> Any:
    return lambda n, i, r: None if n == node else r.normal(10, 1) + (8 if n.startswith("db") and i >= 90 else 0)


def _all_missing_detect(_folder: Path) -> Any:
    return rcakit.detect_anomalies(incident(metrics(value=_missing("api:latency"))))


def _all_missing_attribute(_folder: Path) -> Any:
    return attributed(CHAIN, incident(metrics(value=_missing("api:latency"))))


def _all_missing_alarm(_folder: Path) -> Any:
    return attributed(CHAIN, incident(metrics(value=_missing("web:latency"))))


def _one_row(_folder: Path) -> Any:
    return rcakit.detect_anomalies(incident(metrics(n=1), base=(0, 1), window=(0, 1)))


def _one_row_among_others(_folder: Path) -> Any:
    frame = pl.concat([metrics(), metrics(("solo:cpu",), n=1)])
    return rcakit.detect_anomalies(incident(frame))


def _one_row_attribute(_folder: Path) -> Any:
    return attributed(CHAIN, incident(metrics(n=1), base=(0, 1), window=(0, 1)))


def _one_node_analyze(_folder: Path) -> Any:
    analysis = rcakit.analyze(incident(metrics(("web:latency",))))
    return Accepted(analysis, tuple(analysis.lacked) if hasattr(analysis, "lacked") else (analysis.summary(),))


def _report_on_constant(_folder: Path) -> Any:
    inc = incident(metrics(value=lambda n, i, r: 5.0))
    report = rcakit.write_report(inc, attribution=attributed(CHAIN, inc))
    text = report.to_markdown()
    return Accepted(report, tuple(line for line in text.splitlines() if "no metric moved" in line))


# -- graphs -------------------------------------------------------------------------------------------
def _graph(*edges: tuple[str, str], nodes: tuple[str, ...] = ()) -> nx.DiGraph:
    g = nx.DiGraph(list(edges))
    g.add_nodes_from(nodes)
    return g


CYCLE = _graph(("db:latency", "api:latency"), ("api:latency", "web:latency"), ("web:latency", "db:latency"))


def _review_unknown_alarm(_folder: Path) -> Any:
    draft = rcakit.graph.CausalDraft.from_graph(CHAIN)
    return rcakit.ReviewSession(draft, alarm="nope:latency", autosave=False)


def _review_cycle(_folder: Path) -> Any:
    draft = rcakit.graph.CausalDraft.from_graph(CYCLE)
    session = rcakit.ReviewSession(draft, autosave=False)
    return attributed(session.draft)


def _draft_without_metrics(_folder: Path) -> Any:
    logs = pl.DataFrame({"time": [minutes(i) for i in range(10)], "entity": ["api"] * 10, "message": ["ok"] * 10})
    inc = Incident(Telemetry(logs=logs), TimeWindow(minutes(0), minutes(5)), TimeWindow(minutes(5), minutes(10)),
                   name="logs-only")
    draft = rcakit.draft_graph(inc)
    return Accepted(draft, tuple(f"{k}={v}" for k, v in draft.meta.items() if k == "n_candidates" and not v))


def _draft_one_node(_folder: Path) -> Any:
    return rcakit.draft_graph(incident(metrics(("web:latency",))))


def _alarm_not_in_data(_folder: Path) -> Any:
    return incident(alarm="nope:latency")


CASES: list[Case] = [
    # -- windows ----------------------------------------------------------------------------------------
    Case("incident-window-outside-data", WINDOWS, REJECTED, _detect((0, 80), (200, 220)),
         "detect_anomalies: DataError naming the window, 'holds no metrics rows' and the data's time range",
         says("incident window", "no metrics rows", "the data cover")),
    Case("baseline-window-outside-data", WINDOWS, REJECTED, _detect((-100, -50), (90, 120)),
         "detect_anomalies: DataError naming the baseline window and the data's range", says("baseline window")),
    Case("incident-window-moved-outside", WINDOWS, REJECTED, _set_window_outside,
         "analyze after set_incident_window before the data: DataError naming the window", says("incident window")),
    Case("empty-window-attribute", WINDOWS, REJECTED, _empty_window_attribute,
         "attribute on an empty incident window: DataError 'holds no rows'", says("incident window")),
    Case("baseline-after-incident", WINDOWS, CLEAN, _baseline_after,
         "a baseline after the incident (PetShop's adapter does this when nothing precedes it) is valid: the db "
         "latency is still the anomaly", lambda r: "db:latency" in set(
             r.value.anomalous().get_column("node").to_list())),
    Case("overlapping-windows", WINDOWS, COERCED, _overlap,
         "a baseline overlapping the incident: accepted with a warning that the baseline holds incident rows",
         None),
    Case("window-end-before-start", WINDOWS, REJECTED, lambda _f: incident(base=(80, 0)),
         "DataError 'a window must end after it starts', hint: swap", says("end after it starts")),
    Case("zero-length-window", WINDOWS, REJECTED, lambda _f: incident(window=(90, 90)),
         "DataError 'a window must end after it starts'", says("end after it starts")),
    Case("logs-only-incident", WINDOWS, REJECTED, _logs_only,
         "analyze on an incident with logs but no metrics: DataError 'holds no metrics rows'", says("metrics")),
    # -- series ------------------------------------------------------------------------------------------
    Case("constant-series", SERIES, CLEAN, _constant, "constant series: no anomaly, no division by zero", None),
    Case("constant-series-attribute", SERIES, CLEAN, _constant_attribute,
         "attribute on constant series: every score 0, no NaN", lambda r: all(
             np.isfinite(c.score) and c.score == 0 for c in r.causes)),
    Case("all-missing-series-detect", SERIES, COERCED, _all_missing_detect,
         "a series with every value missing: not scored, said in the notes", noted("not scored")),
    Case("all-missing-series-attribute", SERIES, COERCED, _all_missing_attribute,
         "attribute with a graph node whose values are all missing: its absence is in the notes",
         noted("api:latency")),
    Case("all-missing-alarm", SERIES, REJECTED, _all_missing_alarm,
         "the alarm's values are all missing: DataError naming the alarm node", says("web:latency")),
    Case("one-row-series", SERIES, COERCED, _one_row, "one row per series: not scored, said in the notes",
         noted("not scored")),
    Case("one-row-among-others", SERIES, COERCED, _one_row_among_others,
         "one one-row series among full ones: the others are scored, the short one is in the notes",
         both(noted("not scored"), lambda r: "db:latency" in set(r.anomalous().get_column("node").to_list()))),
    Case("one-row-attribute", SERIES, REJECTED, _one_row_attribute,
         "attribute on one row: DataError 'the baseline window holds 1 rows; at least 3 are needed'",
         says("at least")),
    Case("single-node-analyze", SERIES, COERCED, _one_node_analyze,
         "analyze with a single metric node: runs, and says what it lacked", None),
    Case("report-on-constant-series", SERIES, COERCED, _report_on_constant,
         "write_report when nothing moved: the report's limits say the ranking is a tie, not a finding", None),
    # -- graphs ------------------------------------------------------------------------------------------
    Case("alarm-not-in-graph", GRAPHS, REJECTED, lambda _f: attributed(_graph(("db:latency", "api:latency"))),
         "attribute with a graph lacking the alarm node: DataError naming `web:latency` and the graph",
         both(says("web:latency"), says("graph"))),
    Case("alarm-not-in-data", GRAPHS, REJECTED, _alarm_not_in_data,
         "Incident with an alarm the data lack: DataError 'did you mean'", says("nope:latency", "Did you mean")),
    Case("review-alarm-not-in-draft", GRAPHS, REJECTED, _review_unknown_alarm,
         "ReviewSession(alarm=) not in the draft: DataError naming it", says("nope:latency")),
    Case("cyclic-graph", GRAPHS, COERCED, lambda _f: attributed(CYCLE),
         "structural attribution on a graph with a cycle: ranked, and the notes name the cycle and how to break it",
         noted("cycle (", "db:latency -> api:latency -> web:latency -> db:latency")),
    Case("cyclic-graph-ate", GRAPHS, REJECTED, lambda _f: attributed(CYCLE, method="ate"),
         "ATE on a cyclic graph: DataError naming the cycle", says("cycle")),
    Case("cyclic-draft-after-review", GRAPHS, COERCED, _review_cycle,
         "a reviewed draft left with a cycle: ranked, the notes name the cycle", noted("cycle (")),
    Case("self-loop", GRAPHS, COERCED,
         lambda _f: attributed(_graph(("db:latency", "db:latency"), ("db:latency", "api:latency"),
                                      ("api:latency", "web:latency"))),
         "an edge from a node to itself: ignored, named in the notes; the db still ranks first",
         both(noted("to itself: 'db:latency'"), top("db:latency"))),
    Case("disconnected-graph", GRAPHS, COERCED,
         lambda _f: attributed(_graph(("db:latency", "api:latency"), ("x:latency", "web:latency")),
                               incident(metrics((*NODES, "x:latency")))),
         "a part of the graph that cannot reach the alarm: not ranked, said in the notes",
         noted("no path to the alarm", "db:latency")),
    Case("one-node-graph", GRAPHS, COERCED, lambda _f: attributed(_graph(nodes=("web:latency",))),
         "a graph of the alarm alone: the alarm is the only candidate, said in the notes",
         both(top("web:latency"), noted("only the alarm itself"))),
    Case("empty-graph", GRAPHS, REJECTED, lambda _f: attributed(nx.DiGraph()),
         "an empty graph: DataError saying the graph has no nodes", says("graph")),
    Case("graph-node-without-data", GRAPHS, COERCED,
         lambda _f: attributed(_graph(("ghost:cpu", "api:latency"), *CHAIN.edges)),
         "a graph node the telemetry lacks: left out of the fit, named in the notes; the db still ranks first",
         both(noted("ghost:cpu"), top("db:latency"))),
    Case("graph-node-not-entity-metric", GRAPHS, COERCED,
         lambda _f: attributed(_graph(("db", "api:latency"), ("api:latency", "web:latency"))),
         "a node named 'db' (not entity:metric) has no data: left out, the notes name it and why",
         noted("'db' not an 'entity:metric' name")),
    Case("undirected-graph", GRAPHS, REJECTED,
         lambda _f: attributed(nx.Graph([("db:latency", "api:latency"), ("api:latency", "web:latency")])),
         "an undirected networkx Graph: error saying a DiGraph is needed", says("DiGraph")),
    Case("draft-without-metrics", GRAPHS, COERCED, _draft_without_metrics,
         "draft_graph on logs only: an empty draft that says it had no candidate pairs", None),
    Case("draft-one-node", GRAPHS, CLEAN, _draft_one_node,
         "draft_graph with one observed node: a draft around it (unobserved companions enumerated)",
         lambda d: "web:latency" in d.nodes),
]

