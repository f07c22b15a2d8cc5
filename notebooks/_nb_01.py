"""Cells of notebooks/01_quickstart.ipynb."""

from _cells import SETUP, code, md

NAME = "01_quickstart.ipynb"

CELLS = [
    md("""
# rcakit quickstart: from telemetry to a root cause in five steps

An incident in a simulated model-serving system (client → router → queue → batcher → model inference on
GPUs): responses to clients got slow. We will

1. **load** the incident's telemetry,
2. **look** at what went abnormal,
3. **draft** a causal graph of the system's metrics,
4. **review** the five edges rcakit finds most suspicious,
5. **attribute** the slowdown to root causes and write the **report**.

Everything runs offline. The incident comes from `rcakit.sim`, so we know the true root cause and can
check the answer at the end.
"""),
    code(SETUP),
    md("## 1. Load the incident\nSample incidents ship with rcakit; `rcakit.load_incident(folder)` reads your own."),
    code("""
print(rcakit.sample_names())
incident = rcakit.sample_incident("sim-M-network")
incident"""),
    md("""
## 2. What went abnormal?
Every series of the incident window is judged against the baseline window (3-sigma by default) and its
pattern named (spike, level shift, gradual increase, ...). The sentences below are what the report and a
language model read later."""),
    code("""
from rcakit.detect import detect_anomalies

anomalies = detect_anomalies(incident)
for line in anomalies.describe("entity", top=6):
    print("-", line)"""),
    md("""
The explorer shows the series with the baseline (grey) and incident (red) windows and the anomaly intervals.
Select a time range on the chart to move the incident window; pick entities and metrics on the left."""),
    code("""
from rcakit.ui import TelemetryExplorer

explorer = TelemetryExplorer(incident, anomalies=anomalies)  # shows the result above; no second detection
explorer"""),
    md("""
## 3. Draft the causal graph
With no language model configured, rcakit drafts from **systems knowledge**: rules over what each metric
means and how components interact (a callee's latency drives its caller's; load drives utilisation drives
latency; ...). Every edge remembers the rule that proposed it. Metrics a component usually has but does not
report (here: GPU power) become *unobserved* nodes."""),
    code("""
from rcakit.graph import draft_graph

draft = draft_graph(incident)
draft"""),
    md("""
## 4. Review five suspicious edges
The reviewer ranks edges by how suspicious the data makes them and by how much they matter for the alarm, and
offers them five at a time. Click an edge to see why it was proposed; accept (`a`), reject (`r`), reverse (`v`)
or skip (`s`). Every decision is saved at once to `quickstart.rcakit-review.json` beside this notebook."""),
    code("""
from rcakit.review import ReviewSession
from rcakit.ui import GraphReviewer

baseline = incident.telemetry.align("10s", "mean", start=incident.baseline_window.start,
                                    end=incident.incident_window.end)
session = ReviewSession(draft, path="quickstart.rcakit-review.json", data=baseline.frame, alarm=incident.alarm)
reviewer = GraphReviewer(session)
reviewer"""),
    md("""
In this tutorial we play the expert in code, answering the first batch from the simulator's true graph, so
that the notebook runs top to bottom. With the widget you click instead; both call the same methods."""),
    code("""
truth = incident.truth.graph
for item in session.next_batch(5):
    source, target = item.edge
    if item.kind == "missing":
        if truth.has_edge(source, target):
            session.add(source, target, reason="true edge the draft missed")
        else:
            session.skip(source, target)
    elif truth.has_edge(source, target):
        session.accept(source, target, reason="matches the system")
    elif truth.has_edge(target, source):
        session.reverse(source, target, reason="the influence runs the other way")
    else:
        session.reject(source, target, reason="no direct influence")
for decision in session.decisions:
    print(decision.describe())"""),
    md("""
## 5. Attribute the alarm to root causes
The panel runs attribution in the background and redraws the scores as partial results arrive; it re-runs
with one click after more review decisions. Here we start it and wait for the final ranking."""),
    code("""
from rcakit.ui import AttributionPanel

panel = AttributionPanel(session, incident)
panel.run()
result = panel.wait()
panel"""),
    code("""
result.to_frame().head(5)[["rank", "node", "score", "low", "high", "path"]]"""),
    md("## The report\nThe story of the incident, written from the same facts by a template (offline) or by a language model."),
    code("""
from rcakit.report import write_report
from rcakit.ui import ReportPanel

report = write_report(incident, attribution=result, anomalies=anomalies, draft=session.draft)
ReportPanel(report)"""),
    md("## Did we get it right?\nThe simulator knows what it injected:"),
    code("""
true_cause = incident.truth.root_cause_nodes[0]
print("injected:", true_cause, "| fault type:", incident.truth.fault_type)
print("rcakit ranks it", result.rank_of(true_cause))"""),
    md("""
Next: `02_multimodal.ipynb` (logs and traces), `03_llm_drafting.ipynb` (a language model as a suggester),
`04_attribution_and_report.ipynb` (methods compared), `05_bring_your_own_data.ipynb` (your files)."""),
]
