"""Service, metric and log text is data: every HTML rcakit renders escapes it.

An incident whose entity names, metric names and log lines carry ``<script>``, ``"><img src=x
onerror=...>``, ``javascript:`` URLs and a ``</script>`` break-out goes through the whole flow; every
HTML output (``_repr_html_`` of each result, the report as HTML and as Markdown rendered the way a
notebook renders it, the standalone review page, the widgets' HTML) is parsed with ``html.parser``
and no element, event handler or URL that came from the data may appear.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import rcakit
from rcakit import Incident, Telemetry, TimeWindow

T0 = datetime(2023, 1, 30, 12, 0, tzinfo=UTC)
# Each payload calls a function whose name marks it; none may ever become live markup.
SCRIPT = "<script>rcakitXss1()</script>"
IMG = '"><img src=x onerror=rcakitXss2()>'
LINK = '<a href="javascript:rcakitXss3()">x</a>'
BREAKOUT = "</script><script>rcakitXss4()</script>"
BACKTICK = "`<img src=x onerror=rcakitXss5()>`"
URL = "javascript:rcakitXss6()"

ENTITIES = {"db": f"db{SCRIPT}", "api": f"api{IMG}", "web": f"web{BREAKOUT}"}
METRIC = f"latency{BACKTICK}"
LOG_LINES = [f"user {LINK} logged in", f"error {SCRIPT} {IMG}", f"see {URL} {BREAKOUT}", f"code {BACKTICK}"]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}


class Checker(HTMLParser):
    """Collects every place where markup from the data became live."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            text = value or ""
            if name.startswith("on") and "rcakitXss" in text:
                self.problems.append(f"<{tag} {name}={text!r}>: an event handler from the data")
            if name in URL_ATTRIBUTES and text.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={text!r}>: a javascript: URL")
            if "rcakitXss" in name:
                self.problems.append(f"<{tag}>: an attribute named from the data ({name})")
        if tag == "img" and ("src", "x") in attrs:
            self.problems.append("<img src=x>: an element from the data")
        self.script = tag == "script"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.script = False

    def handle_endtag(self, tag: str) -> None:
        self.script = False

    def handle_data(self, data: str) -> None:
        if self.script and data.strip().startswith("rcakitXss"):
            self.problems.append(f"<script>{data.strip()[:40]}</script>: a script from the data")


def problems(markup: str) -> list[str]:
    checker = Checker()
    checker.feed(markup)
    checker.close()
    return checker.problems


def test_the_checker_catches_each_payload() -> None:
    for payload in (SCRIPT, IMG, LINK, f"<script>var a = '{BREAKOUT}';</script>", BACKTICK.strip("`")):
        assert problems(f"<div>{payload}</div>"), payload
    import html

    assert not problems(f"<div title=\"{html.escape(IMG)}\">{html.escape(SCRIPT + LINK + BREAKOUT)}</div>")


def hostile_incident() -> Incident:
    rng = np.random.default_rng(0)
    rows, logs = [], []
    for key, entity in ENTITIES.items():
        for i in range(120):
            value = rng.normal(10, 1) + (8 if key == "db" and i >= 90 else 0)
            rows.append((T0 + timedelta(minutes=i), entity, METRIC, value))
            rows.append((T0 + timedelta(minutes=i), entity, "cpu", rng.normal(50, 2)))
            if i % 3 == 0:
                line = LOG_LINES[(i // 3) % len(LOG_LINES)]
                logs.append((T0 + timedelta(minutes=i), entity, "ERROR" if i >= 90 else "INFO",
                             line + (" timeout" if i >= 90 else "")))
    spans = []
    for i in range(0, 120, 2):  # web calls api calls db; the db's calls slow down in the incident
        start = T0 + timedelta(minutes=i)
        slow = 0.2 if i >= 90 else 0.0
        trace = f"t{i}"
        spans += [(trace, f"{trace}-w", None, ENTITIES["web"], f"GET /{SCRIPT}", start, 0.05 + slow),
                  (trace, f"{trace}-a", f"{trace}-w", ENTITIES["api"], f"call {IMG}", start, 0.04 + slow),
                  (trace, f"{trace}-d", f"{trace}-a", ENTITIES["db"], f"query {LINK}", start, 0.02 + slow)]
    span_frame = pl.DataFrame(spans, schema={"trace_id": pl.String, "span_id": pl.String, "parent_id": pl.String,
                                             "entity": pl.String, "operation": pl.String,
                                             "start": pl.Datetime("us", "UTC"), "duration": pl.Float64}, orient="row")
    metrics = pl.DataFrame(rows, schema={"time": pl.Datetime("us", "UTC"), "entity": pl.String, "metric": pl.String,
                                         "value": pl.Float64}, orient="row")
    log_frame = pl.DataFrame(logs, schema={"time": pl.Datetime("us", "UTC"), "entity": pl.String, "level": pl.String,
                                           "message": pl.String}, orient="row")
    tel = Telemetry(metrics, log_frame, span_frame)
    return Incident(tel, TimeWindow(T0, T0 + timedelta(minutes=80)),
                    TimeWindow(T0 + timedelta(minutes=90), T0 + timedelta(minutes=120)),
                    alarm=f"{ENTITIES['web']}:{METRIC}", name=f"incident {SCRIPT}",
                    description=f"hostile {IMG} {LINK}")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every HTML rcakit renders for the hostile incident, by where it came from."""
    import markdown_it

    from rcakit.detect.logs import analyze_logs
    from rcakit.review.export import to_html
    from rcakit.ui import AttributionPanel, GraphReviewer, ReportPanel, TelemetryExplorer

    folder = tmp_path_factory.mktemp("hostile")
    incident = hostile_incident()
    tel = incident.telemetry
    out: dict[str, str] = {"Telemetry": tel._repr_html_(), "LoadReport": tel.report._repr_html_(),
                           "Incident": incident._repr_html_()}
    aligned = tel.align("1m", "mean")
    out["AlignedMetrics"] = aligned._repr_html_()
    anomalies = rcakit.detect_anomalies(incident)
    out["Anomalies"] = anomalies._repr_html_()
    logs = analyze_logs(incident, freq="5m")
    out["LogAnalysis"] = logs._repr_html_()
    draft = rcakit.draft_graph(incident)
    out["CausalDraft"] = draft._repr_html_()
    session = rcakit.ReviewSession(draft, path=folder / "review.json")
    edge = next(iter(draft.edges))
    session.reject(*edge, reason=f"because {SCRIPT}")
    out["ReviewSession"] = session._repr_html_()
    out["review export"] = to_html(session.draft, title=f"review {BREAKOUT}")
    result = rcakit.attribute(session.draft, incident)
    out["Attribution"] = result._repr_html_()
    report = rcakit.write_report(incident, attribution=result, anomalies=anomalies, draft=session.draft, logs=logs,
                                 llm=None)
    out["Report.to_html"] = report.to_html()
    out["Report._repr_html_"] = report._repr_html_()
    out["Report markdown, rendered"] = markdown_it.MarkdownIt("commonmark", {"html": True}).render(
        report._repr_markdown_())
    analysis = rcakit.analyze(incident, llm=None)
    out["Analysis"] = analysis._repr_html_()
    from rcakit.detect.traces import analyze_traces
    from rcakit.graph import build_system, compare_graphs
    from rcakit.graph.validate import rank_suspicious

    out["TraceAnalysis"] = analyze_traces(incident)._repr_html_()
    out["SystemModel"] = build_system(incident)._repr_html_()
    out["GraphScore"] = compare_graphs(session.draft, draft)._repr_html_()
    out["SuspectEdge"] = "".join(s._repr_html_() for s in rank_suspicious(session.draft)[:5])
    multimodal = rcakit.attribute(None, incident, method="multimodal")
    out["Attribution (multimodal)"] = multimodal._repr_html_()
    if result.fault_type is not None:
        out["FaultGuess"] = result.fault_type._repr_html_()
    reviewer = GraphReviewer(session, start=False)  # its state is JSON drawn with textContent (test below)
    reviewer.select_edge(*edge)
    panel = AttributionPanel(session, incident)
    panel.run()
    panel.wait()
    out["AttributionPanel"] = _widget_html(panel)
    out["ReportPanel"] = _widget_html(ReportPanel(report, folder=folder))
    explorer = TelemetryExplorer(incident)
    out["TelemetryExplorer"] = _widget_html(getattr(explorer, "widget", explorer))
    return out


def _widget_html(widget: Any) -> str:
    """The HTML values of a widget tree (ipywidgets.HTML and friends)."""
    parts = []
    stack = [widget]
    seen: set[int] = set()
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        value = getattr(w, "value", None)
        if isinstance(value, str):
            parts.append(value)
        for name in ("children", "_widgets"):
            kids = getattr(w, name, None)
            if isinstance(kids, list | tuple):
                stack.extend(kids)
        for attr in vars(w).values() if hasattr(w, "__dict__") else ():
            if type(attr).__module__.startswith("ipywidgets"):
                stack.append(attr)
    return "\n".join(parts)


def test_every_html_output_escapes_names_and_log_text(outputs: dict[str, str]) -> None:
    assert len(outputs) >= 15
    found = {where: problems(markup) for where, markup in outputs.items()}
    bad = {where: p for where, p in found.items() if p}
    assert not bad, "markup from the data got through:\n" + "\n".join(f"{w}: {p[:3]}" for w, p in bad.items())


def test_the_names_are_shown_not_dropped(outputs: dict[str, str]) -> None:
    """Escaping must keep the text visible: the hostile names appear, escaped, where the names belong."""
    import html

    for where in ("Anomalies", "Attribution", "Report.to_html", "Report markdown, rendered", "review export"):
        text = html.unescape(outputs[where])
        assert any(entity in text for entity in ENTITIES.values()), f"{where} shows none of the entity names"


def test_graph_reviewer_javascript_never_uses_inner_html() -> None:
    """The widget draws every name with textContent (the browser test proves the wiring)."""
    root = Path(__file__).resolve().parents[2] / "widgets"
    for script in root.glob("*.js"):
        code = script.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in code, f"{script.name} uses {sink}"
