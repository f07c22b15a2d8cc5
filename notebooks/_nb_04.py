"""Cells of notebooks/04_attribution_and_report.ipynb."""

from _cells import SETUP, code, md

NAME = "04_attribution_and_report.ipynb"

CELLS = [
    md("""
# Attribution methods and the incident report

rcakit ranks root causes with several methods that share one shape,
`attribute(graph, incident, method=...) -> Attribution`:

| method | needs a graph | idea |
|---|---|---|
| `structural` (default) | yes | robust anomaly of each ancestor of the alarm, discounted when its parents explain it |
| `distribution_change` | yes | DoWhy gcm: which mechanisms changed between the baseline and the incident window |
| `attribute_anomalies` | yes | DoWhy gcm: Shapley attribution of anomalous samples on an invertible SCM |
| `ate` | yes | CGL-BFI: average treatment effect of each node on the alarm, normalised |
| `n_sigma`, `robust_z` | no | graph-free references (N-Sigma, BARO) |

We compare them on a real public dataset when `../shared/datasets` is present (DoWhy's microservice
example), else on a sample incident."""),
    code(SETUP),
    code("""
from rcakit._paths import shared_datasets_dir
from rcakit.telemetry.datasets import load_dowhy_microservice

shared = shared_datasets_dir()
if shared is not None and (shared / "dowhy-microservice").is_dir():
    incident = load_dowhy_microservice(shared / "dowhy-microservice")[1]   # the 1,000-row latency shift
else:
    incident = rcakit.sample_incident("sim-S-batch-size")
incident"""),
    md("The true graph of this example is known; in practice you would use your reviewed draft."),
    code("""
from rcakit.graph import CausalDraft, draft_graph

drafted = draft_graph(incident)
truth = CausalDraft.from_graph(incident.truth.graph, alarm=incident.alarm)
print(drafted)"""),
    code("""
import pandas as pd
from rcakit.attribution import AttributionConfig, Method, attribute

# Score intervals come from refitting on resampled baselines; for DoWhy's methods that costs one
# refit per resample, so this comparison asks for point scores only (n_bootstrap=0).
quick = AttributionConfig(n_bootstrap=0)
rows = []
for method in (Method.STRUCTURAL, Method.DISTRIBUTION_CHANGE, Method.ATE, Method.ROBUST_Z, Method.N_SIGMA):
    graph = drafted if method.needs_graph else None
    result = attribute(graph, incident, method=method, config=quick)
    rows.append({"method": method.value, "top cause": result.causes[0].node,
                 "rank of truth": result.rank_of(incident.truth.root_cause_entities[0]),
                 "seconds": round(result.elapsed, 2)})
pd.DataFrame(rows)"""),
    md("""
### Partial results
`on_progress` receives partial rankings (a quick graph-free one first, then refinements); the
`AttributionPanel` draws them as they come. Here we just count them."""),
    code("""
partials = []
final = attribute(drafted, incident, on_progress=partials.append)
print([p.stage for p in partials], "->", final.stage)
final"""),
    md("""
### Fit once, reuse, refuse stale answers
`fit(graph, baseline)` fits the causal mechanisms once; after a review changes the graph, `update` refits only
the nodes whose parents changed, and a model asked about a graph it was not fitted on raises
`GraphChangedError` instead of answering wrongly."""),
    code("""
from rcakit import GraphChangedError
from rcakit.attribution import fit

graph = truth.observed_graph()
model = fit(graph, incident)
changed = graph.copy()
edge = next(iter(changed.edges()))
changed.remove_edge(*edge)
try:
    attribute(changed, incident, model=model, method=Method.DISTRIBUTION_CHANGE)
except GraphChangedError as exc:
    print("refused:", exc)
refitted = model.update(changed)
print("refitted nodes:", refitted.refitted if hasattr(refitted, "refitted") else "see model.update")"""),
    md("## The report\nWithout a language model the template writes it; the report says which modalities were missing."),
    code("""
from rcakit.attribution import classify_fault
from rcakit.report import write_report

fault = classify_fault(incident, final.entities[0][0])
report = write_report(incident, attribution=final, draft=drafted, fault=fault, llm=None)
print(report.to_markdown()[:1500])"""),
    code("""
path = report.save("incident-report.html")
print("saved", path)"""),
]
