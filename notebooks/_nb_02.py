"""Cells of notebooks/02_multimodal.ipynb."""

from _cells import SETUP, code, md

NAME = "02_multimodal.ipynb"

CELLS = [
    md("""
# Multimodal exploration: metrics, logs and traces of one incident

Metrics tell you *that* something is wrong and roughly where; logs tell you what the code said about it;
traces tell you which calls got slow and how the slowness travelled. This notebook reads one incident in all
three, the way an on-call SRE would:

1. the incident and its windows,
2. what the **metrics** say, in words,
3. what the **logs** say: templates mined with drain3, new ones, error ones, what each service talks about,
4. what the **traces** say: who calls whom, which traces were slow and at which hop, which call paths are new,
5. everything per service on one time grid (multimodal features),
6. the interactive explorer,
7. a root cause at service level and its fault type, compared with the label.

The data: a fault of the **Nezha** TrainTicket dataset when `../shared/datasets/nezha-trainticket` is present
(real microservices, a CPU-contention fault), otherwise the simulator's multimodal sample (a throttled GPU in a
model-serving system, with logs and traces). Every cell works on both.
"""),
    code(SETUP),
    md("## 1. The incident and its windows"),
    code("""
from rcakit._paths import shared_datasets_dir
from rcakit.telemetry import Incident
from rcakit.telemetry.datasets import load_nezha
from rcakit.telemetry.window import TimeWindow

shared = shared_datasets_dir()
nezha_root = shared / "nezha-trainticket" if shared is not None else None
if nezha_root is not None and nezha_root.is_dir():
    faults = load_nezha(nezha_root)                  # one Incident per injected fault of the day
    day = next(i for i in faults if i.truth.fault_type == "cpu_contention")
    # The day's telemetry is shared by all its faults. Keep the minutes this one needs: Nezha's fault-free
    # reference minute (its logs and traces are the traces' baseline) through the end of the incident.
    reference = TimeWindow.of(day.meta["reference_window"])
    telemetry = day.telemetry.window(min(reference.start, day.baseline_window.start), day.incident_window.end)
    incident = Incident(telemetry, day.baseline_window, day.incident_window, alarm=day.alarm, truth=day.truth,
                        name=day.name, description=day.description, system=day.system, meta=dict(day.meta))
    print(f"Nezha: {len(faults)} faults on this day; this one is {incident.name}")
else:
    incident = rcakit.sample_incident("sim-M-multimodal")
    print("../shared/datasets/nezha-trainticket not found: using the simulator's multimodal sample")
print(incident.description)
incident"""),
    code("""
tel = incident.telemetry
print(tel)
print("baseline window:", incident.baseline_window)
print("incident window:", incident.incident_window)
print("alarm:          ", incident.alarm)
print("modalities:     ", tel.modalities if hasattr(tel, "modalities") else "metrics, logs, spans")"""),
    md("""
The **baseline window** is what "normal" looks like; the **incident window** is what we explain. On Nezha the
baseline holds metrics only (logs and traces were recorded just around faults), so logs and traces are compared
with the fault-free reference minute instead; the analyses below say so in their notes.

## 2. What the metrics say
Each series of the incident window is judged against the baseline (3-sigma by default) and its pattern named.
The per-service lines are what an SRE would write in the incident channel."""),
    code("""
from rcakit.detect import detect_anomalies

anomalies = detect_anomalies(incident)
print(anomalies)
for line in anomalies.describe("entity", top=5):
    print("-", line)"""),
    code("""
for line in anomalies.describe(top=3):
    print("-", line)"""),
    md("""
Read it like this: which service moved *first*, and in which kind of metric? A resource metric (CPU, memory,
GPU) shifting at the start of the window, followed by latency shifts in its callers, is the classic shape of a
resource fault propagating up the call chain.

## 3. What the logs say
Log lines are masked (ids, numbers, IPs) and mined into templates with drain3. A template **not seen in the
baseline** is news; a template with an error level or an error keyword is a complaint. TF-IDF over services
(each service's incident-window lines are one document) shows what each service talks about *more than the
others*."""),
    code("""
from rcakit.detect.logs import analyze_logs

logs = analyze_logs(incident)
print(logs)
for note in logs.notes:
    print("note:", note)
logs"""),
    code("""
import polars as pl

pl.Config.set_fmt_str_lengths(110)
pl.Config.set_tbl_rows(8)
print("New in the incident window:")
print(logs.new_templates().select("template_id", "template", "incident_count", "entities").head(6))
print("Error templates:")
print(logs.error_templates().select("template_id", "template", "baseline_count", "incident_count").head(6))"""),
    code("""
summary = logs.entity_summary().sort("incident_new_template_lines", descending=True)
print(summary.head(6))
for entity in summary.get_column("entity").head(3):
    top = logs.top_templates(entity, k=2).select("rank", "template", "count", "tfidf")
    words = ", ".join(logs.top_keywords(entity, k=6).get_column("keyword"))
    print(f"\\n{entity}: top keywords {words}")
    print(top)"""),
    code("""
for line in logs.describe(top=5):
    print("-", line)"""),
    md("""
## 4. What the traces say
The spans give the **service call graph** (who calls whom, how often), the **slow traces** (spans above their
operation's baseline mean + 3 sigma, and by how much each hop exceeded its limit) and **call paths new in the
incident** (a path never taken in the baseline: retries, fallbacks, failovers)."""),
    code("""
from rcakit.detect.traces import analyze_traces

traces = analyze_traces(incident)
print(traces)
for note in traces.notes:
    print("note:", note)
calls = sorted(traces.graph.edges(data="calls"), key=lambda e: -(e[2] or 0))
pl.DataFrame([{"caller": u, "callee": v, "calls": c} for u, v, c in calls[:10]])"""),
    md("Slow traces, worst first, and for each hop how far it went over its 3-sigma limit:"),
    code("""
for trace in traces.slow_traces.head(3).iter_rows(named=True):
    print(f"trace {trace['trace_id'][:16]}…  {trace['duration_s'] * 1000:.0f} ms  path: {trace['path']}")
    for hop in sorted(trace["slow_nodes"], key=lambda h: -h["excess_s"]):
        print(f"    {hop['entity']:<34} {hop['duration_s'] * 1000:8.0f} ms  limit {hop['upper_s'] * 1000:6.0f} ms"
              f"  over by {hop['excess_s'] * 1000:6.0f} ms")"""),
    code("""
print("Services ranked by the share of their incident requests that were slow:")
print(traces.entity_ranking().head(6))
# Spans whose chain of parents does not reach a root in this window have no path (null); they are not a
# new call path, so we leave them out here (reported to the detect maintainers).
print("Call paths new in the incident:")
print(traces.new_paths.drop_nulls("path").head(6))"""),
    code("""
for line in traces.describe(top=2):
    print("-", line)"""),
    md("""
## 5. Every service on one time grid
`entity_features` aligns each service's metrics, log features (`log.lines`, `log.errors`,
`log.new_templates`, its most frequent templates) and trace features (`trace.latency_mean`, `trace.latency_p90`,
`trace.calls`) on one grid. A gap in collection stays null, so it is never read as silence."""),
    code("""
from rcakit.detect.features import entity_features

freq = "1m" if incident.name.startswith("nezha") else "30s"
span = TimeWindow(incident.baseline_window.start, incident.incident_window.end)
features = entity_features(incident, freq=freq, window=span)
suspect = anomalies.entity_ranking().get_column("entity")[0]
grid = features[suspect]
print(f"{len(features)} services; {suspect}: {grid.width - 1} features")
wanted = [c for c in grid.columns if c == "time" or any(k in c for k in ("cpu", "latency", "log.lines", "log.errors",
                                                                            "log.new", "trace.calls", "power",
                                                                            "utilization"))]
grid.select(wanted[:12]).tail(8)"""),
    md("""
## 6. The explorer
Series with the baseline (grey) and incident (red) windows and the anomaly intervals, the anomaly-score heatmap,
the log-template timeline and the service map. Pick services and metrics on the left; select a time range on
the chart to move the incident window."""),
    code("""
from rcakit.ui import TelemetryExplorer

explorer = TelemetryExplorer(incident)
explorer"""),
    md("""
## 7. A root cause at service level, and its fault type
The metrics, the logs and the traces each point somewhere; an SRE lines them up. `Method.MULTIMODAL` does that
lining-up as a ranking: it cuts every trace into the time each service spent itself (not waiting on the services it
calls) and the wait its callers had before it answered, credits each error to the span where it began, reads
each service's share of the system's CPU and memory and its new or error log templates, all against the fault-free
reference, and says why each service ranks where it does. `classify_fault` then reads *which kind* of metric moved
(CPU, memory, network delay, errors, configuration, GPU) to name the fault type."""),
    code("""
from rcakit.attribution import Method, attribute, classify_fault

result = attribute(None, incident, method=Method.MULTIMODAL)
for note in result.notes[:5]:
    print("-", note)
result.entity_frame().head(6)"""),
    code("""
# For comparison: ranking services by how far their metrics alone moved (n-sigma, no traces, no logs).
# Nezha's pods report once a minute at different seconds; attribution aligns them on the inferred grid.
metric_only = attribute(None, incident, method=Method.N_SIGMA)
print("label", incident.truth.root_cause_entities[0], "| multimodal rank", result.rank_of(
    incident.truth.root_cause_entities[0]), "| metric-only rank", metric_only.rank_of(incident.truth.root_cause_entities[0]))"""),
    code("""
def top(ranking, k=3):
    return list(ranking)[:k]

metric_order = anomalies.entity_ranking().get_column("entity").to_list()
trace_order = traces.entity_ranking().get_column("entity").to_list()
log_order = summary.get_column("entity").to_list()   # by lines of templates new in the incident
truth = incident.truth.root_cause_entities[0]
candidates = dict.fromkeys(top(metric_order) + top(trace_order) + top(log_order)
                           + [e for e, _ in result.entities[:3]] + [truth])

def rank(order, entity):
    return order.index(entity) + 1 if entity in order else None

table = pl.DataFrame([{
    "service": entity + ("  <- label" if entity == truth else ""),
    "metrics": rank(metric_order, entity), "traces": rank(trace_order, entity), "logs": rank(log_order, entity),
    "multimodal": result.rank_of(entity)} for entity in candidates])
table.with_columns(pl.mean_horizontal("metrics", "traces", "logs").alias("mean of 3 modalities")).sort(
    "mean of 3 modalities", nulls_last=True)"""),
    code("""
suspects = list(dict.fromkeys([suspect, result.entities[0][0], truth]))
for entity in suspects:
    guess = classify_fault(incident, entity)
    print(f"{entity:<34} fault type {guess}   strongest metrics: "
          + ", ".join(f"{n.split(':', 1)[1]} ({z:.0f})" for n, z in guess.top_metrics[:3]))
print()
print("label: root cause", incident.truth.root_cause_entities, "| fault type", incident.truth.fault_type,
      "| node", incident.truth.root_cause_nodes)"""),
    code("""
agreed = [e for e in candidates if all(r is not None and r <= 3 for r in
                                       (rank(metric_order, e), rank(trace_order, e), rank(log_order, e)))]
print("in the top 3 of metrics, traces and logs alike:", ", ".join(agreed) or "no service")
print("the multimodal ranking puts the label at", result.rank_of(truth))"""),
    md("""
**How to read this.** Each modality alone is noisy: the metric detector also flags the callers whose latency
rose, the traces blame every hop on a slow path, the logs get chatty wherever traffic is retried. A service
that stands out in **all three** (resource metrics moving first, slow hops at the bottom of the slow traces,
new log templates) is the one to look at first, and `classify_fault` on its metrics names the kind of fault.
Metrics alone rank services by the size of their shifts, so a caller's latency, which can shift far more than
the culprit's CPU, may come out on top. The multimodal ranking avoids that by crediting time and errors where
they begin in the traces (on Nezha's 17 faults it puts the labelled service first in all 17, a figure measured on
the same faults the method was designed on; `python -m rcakit.bench localize --datasets nezha`). The causal draft
and the counterfactual attribution of notebooks 01 and 04 add the metric-level picture: which metric of the
service, and by which path it reached the alarm.
On the simulator's sample the culprit's own root metric (GPU power) is not even measured, so all evidence is
indirect, which is when lining up metrics, logs and traces pays off most.
"""),
]
