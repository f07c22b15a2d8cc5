"""Gather the facts of an incident from the results of the other steps, whichever of them ran."""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

from rcakit.report.facts import Cause, ReportFacts
from rcakit.telemetry import Incident

if TYPE_CHECKING:
    from rcakit.attribution import Attribution, FaultGuess
    from rcakit.detect import Anomalies
    from rcakit.detect.logs import LogAnalysis
    from rcakit.detect.traces import TraceAnalysis
    from rcakit.graph import CausalDraft

__all__ = ["gather_facts"]


def gather_facts(
    incident: Incident,
    *,
    attribution: Attribution | None = None,
    anomalies: Anomalies | None = None,
    draft: CausalDraft | None = None,
    fault: FaultGuess | str | None = None,
    logs: LogAnalysis | None = None,
    traces: TraceAnalysis | None = None,
    services: Attribution | None = None,
    top: int = 5,
    include_truth: bool = True,
) -> ReportFacts:
    """Facts for :func:`rcakit.report.write_report`.

    ``attribution`` is an :class:`rcakit.attribution.Attribution`; ``anomalies`` an
    :class:`rcakit.detect.Anomalies`; ``draft`` the reviewed :class:`rcakit.graph.CausalDraft`;
    ``fault`` a :class:`rcakit.attribution.FaultGuess`; ``logs`` / ``traces`` the results of
    :func:`rcakit.detect.logs.analyze_logs` / :func:`rcakit.detect.traces.analyze_traces`; ``services``
    a service-level Attribution from ``Method.MULTIMODAL`` (traces, logs, resource shares). Each is
    optional; the report says what it lacked.
    """
    facts = ReportFacts(
        incident=incident.name,
        alarm=incident.alarm,
        baseline_window=str(incident.baseline_window),
        incident_window=str(incident.incident_window),
        modalities_present=_modalities(incident),
        description=incident.description,
    )

    if attribution is not None:
        _add_causes(facts, attribution, top)
        if fault is None and getattr(attribution, "fault_type", None) is not None:
            fault = attribution.fault_type

    if fault is not None:
        _add_fault_type(facts, fault)

    if anomalies is not None:
        try:
            facts.symptoms = list(anomalies.describe("series", top=12))
        except Exception as exc:  # a description must never sink the report
            facts.symptoms = [f"(anomaly descriptions unavailable: {exc})"]

    graph = None
    if draft is not None:
        facts.graph_summary = _graph_summary(draft)
        graph = draft.observed_graph()
    if facts.causes:
        facts.related_entities = _related_entities(facts.causes[0], graph, incident)

    facts.architecture = _architecture(incident)
    facts.entry_points = entry_points(incident)
    facts.limits = coverage_limits(incident, facts.entry_points)
    # a baseline too short for robust z-scores (rcakit.attribution._run.short_baseline_note) is a limit too
    from rcakit.attribution._run import SHORT_BASELINE_NOTE

    facts.limits += [n for n in (attribution.notes if attribution is not None else []) if n.startswith(SHORT_BASELINE_NOTE)]
    if attribution is not None and attribution.causes and not any(c.score > 0 for c in attribution.causes):
        facts.limits.insert(0, "no metric moved against the baseline (every attribution score is 0): the causes "
                               "named below are a tie, not a finding; check the windows and the alarm")
    if logs is not None:
        facts.log_context = _described(logs, 8)
    if traces is not None:
        facts.trace_context = _described(traces, 6)
    if services is not None:
        _add_service_ranking(facts, attribution, services, incident.alarm, top)

    truth = incident.truth
    if include_truth and truth is not None and (truth.root_cause_entities or truth.root_cause_nodes):
        facts.truth = {"root_cause": list(truth.root_cause_nodes or truth.root_cause_entities),
                       "fault_type": truth.fault_type}
    return facts


def _modalities(incident: Incident) -> list[str]:
    """The kinds of telemetry the incident holds rows of (metrics, logs, traces)."""
    tel = incident.telemetry
    present = []
    if tel.metrics.height:
        present.append("metrics")
    if tel.logs.height:
        present.append("logs")
    if tel.spans.height:
        present.append("traces")
    return present


def _add_causes(facts: ReportFacts, attribution: Attribution, top: int) -> None:
    """The method and the ``top`` ranked causes, one per entity (its best node speaks for it)."""
    facts.method = _method_name(attribution)
    seen_entities: set[str] = set()
    for cause in attribution.causes:
        if len(facts.causes) >= top:
            break
        if cause.entity in seen_entities:
            continue  # one line per entity; its best node speaks for it
        seen_entities.add(cause.entity)
        interval = None
        if cause.low == cause.low and cause.high == cause.high:  # not NaN
            interval = (float(cause.low), float(cause.high))
        facts.causes.append(Cause(name=cause.node, score=float(cause.score), entity=cause.entity, node=cause.node,
                                  path_to_alarm=list(cause.path), interval=interval,
                                  unmeasured_via=list(cause.unobserved)))
    facts.unmeasured_suspects = [f"{name}, unmeasured, may be the cause" for name in attribution.unobserved_culprits]


def _add_fault_type(facts: ReportFacts, fault: FaultGuess | str) -> None:
    """The fault type, its confidence and the metrics it was read from."""
    facts.fault_type = getattr(fault, "fault_type", None) or str(fault)
    facts.fault_type_confidence = getattr(fault, "confidence", None)
    for metric, z in list(getattr(fault, "top_metrics", []))[:4]:
        facts.fault_type_evidence.append(f"{metric} moved {float(z):.1f} robust standard deviations")


def _graph_summary(draft: CausalDraft) -> str:
    """The causal graph in one sentence: its size, the review's decisions and who proposed the edges."""
    counts = draft.counts()
    return (
        f"The causal graph has {len(draft.nodes)} metric nodes and {len(draft.edges)} edges "
        f"({counts['accepted']} accepted by review, {counts['proposed']} proposed, {counts['rejected']} rejected); "
        f"proposed by {', '.join(draft.meta.get('suggesters', [])) or 'hand'}."
    )


def _add_service_ranking(facts: ReportFacts, attribution: Attribution | None, services: Attribution, alarm: str | None, top: int) -> None:
    """The service ranking from traces, logs and resource shares, its evidence, and which ranking leads."""
    facts.service_ranking = [Cause(name=entity, score=float(score), entity=entity)
                             for entity, score in services.entities[:top]]
    facts.service_evidence = [note.removeprefix("evidence ") for note in services.notes
                              if note.startswith("evidence ")][:3]
    _lead_with_fused(facts, attribution, services, alarm, top)


def _method_name(attribution: Attribution) -> str:
    method = str(getattr(attribution, "method", ""))
    return {
        "structural": "the structural method (robust anomaly of each ancestor of the alarm, discounted when its "
                      "parents explain it)",
        "attribute_anomalies": "DoWhy's counterfactual anomaly attribution",
        "distribution_change": "DoWhy's distribution-change attribution between the baseline and incident windows",
        "ate": "average treatment effects (CGL-BFI scores)",
        "n_sigma": "n-sigma anomaly scores (no graph)",
        "robust_z": "robust z-scores (BARO-style, no graph)",
        "multimodal": "the multimodal service ranking (trace self time and waits, first failing spans, "
                      "resource shares, log templates; no graph)",
    }.get(method, method)


def _related_entities(top: Cause, graph: nx.DiGraph | None, incident: Incident) -> list[str]:
    """Entities on the top cause's path to the alarm, then its direct callers and callees."""
    related: list[str] = []
    for node in top.path_to_alarm:
        entity = node.split(":", 1)[0]
        if entity != top.entity and entity not in related:
            related.append(entity)
    if graph is not None and top.node in graph:
        for node in list(graph.successors(top.node)) + list(graph.predecessors(top.node)):
            entity = str(node).split(":", 1)[0]
            if entity != top.entity and entity not in related:
                related.append(entity)
    return related[:10]


def coverage_limits(incident: Incident, points: list[str] | None = None) -> list[str]:
    """What the generic path lacked for this incident, in words (empty when nothing beyond a modality).

    A single metric node leaves nothing to rank but the alarm itself; no call structure leaves the
    draft to metric names and systems knowledge; no alarm leaves nothing to explain.
    """
    limits = []
    nodes = incident.telemetry.nodes()
    if not nodes:
        limits.append("no metric nodes: only traces and logs can rank the services")
    elif len(nodes) == 1:
        limits.append(f"a single metric node ({nodes[0]}): the ranking can only name the alarm itself, and no fault "
                      "type is guessed")
    if points is None:
        limits.append("no call structure (no spans, no call graph, no system description): the graph follows metric "
                      "names and systems knowledge alone, and whether the alarm is on an entry point is unknown")
    if incident.alarm is None:
        limits.append("no alarm node: nothing was explained; set one with Incident.set_alarm")
    return limits


def _lead_with_fused(facts: ReportFacts, attribution: Attribution | None, services: Attribution, alarm: str | None, top: int) -> None:
    """Lead with the fused ranking (:func:`rcakit.attribution.fuse`, the one ``analyze`` reports) when its first
    entity is not the graph ranking's first; say why the graph's first does not lead."""
    from rcakit.attribution.fusion import fuse

    fused = fuse(attribution, services, alarm=alarm)
    if not fused.causes:
        return
    graph_top = facts.causes[0] if facts.causes else None
    first = fused.causes[0].entity
    if graph_top is not None and graph_top.entity == first:
        return
    facts.graph_lead = graph_top.name if graph_top is not None else None
    notes = " ".join(fused.notes)
    facts.graph_lead_reason = ("alarm" if "abstained" in notes or graph_top is None else
                               "resource" if services.credited_to.get(graph_top.entity) == first else
                               "callee" if fused.waits_on.get(graph_top.entity) == first else "fused")
    facts.causes = [Cause(name=c.entity, score=float(c.score), entity=c.entity) for c in fused.causes[:top]]
    facts.method = "the fused ranking of the metrics graph and the traces, logs and resource shares"


def entry_points(incident: Incident) -> list[str] | None:
    """The components nobody calls but that call others, from the call structure; None when there is none.

    The call structure is what :func:`rcakit.graph.combine.build_system` sees: the spans' call graph,
    the incident's ``call_graph`` and an Atlas-format system description. Resources that
    services merely use (a GPU, a host) are not calls and do not count.
    """
    from rcakit.graph.combine import build_system
    from rcakit.graph.system import InteractionKind

    try:
        system = build_system(incident)
    except Exception:  # a report must never fail on a system it cannot model
        return None
    calls = [(i.source, i.target) for i in system.interactions if i.kind is InteractionKind.INVOKES]
    if not calls:
        return None
    callers = {a for a, _ in calls}
    called = {b for _, b in calls}
    return sorted(callers - called)


def _architecture(incident: Incident) -> list[str]:
    system = incident.system or {}
    trace = system.get("trace") if isinstance(system, dict) else None
    lines = []
    if isinstance(trace, dict):
        for key, spec in list(trace.items())[:12]:
            name = key.split(".")[-1]
            desc = " ".join(str(spec.get("service_description", "")).split())
            callees = ", ".join(spec.get("callees") or [])
            lines.append(f"{name}: {desc}" + (f" (calls {callees})" if callees else ""))
    elif incident.telemetry.entities():
        ents = incident.telemetry.entities()
        lines.append(f"{len(ents)} components: {', '.join(ents[:15])}" + (" ..." if len(ents) > 15 else ""))
    return lines


def _described(result: LogAnalysis | TraceAnalysis, top: int) -> list[str]:
    """The first ``top`` sentences of a LogAnalysis or TraceAnalysis (both have ``describe(top=)``)."""
    return [str(line) for line in result.describe(top=top)][:top]
