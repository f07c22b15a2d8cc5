"""One call for the whole flow: detect, draft, attribute, classify, report.

``analyze(incident)`` is what ``rcakit analyze`` and the headless demo run; the tutorials run the same
steps one by one so that a human can look and decide in between.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rcakit._progress import CancelToken
from rcakit.telemetry import Incident

if TYPE_CHECKING:
    from collections.abc import Sequence

    import networkx as nx

    from rcakit.attribution import Attribution, Method
    from rcakit.attribution.faults import FaultGuess
    from rcakit.detect import Anomalies
    from rcakit.detect.logs import LogAnalysis
    from rcakit.detect.traces import TraceAnalysis
    from rcakit.graph import CausalDraft
    from rcakit.graph.proposal import Suggester
    from rcakit.llm import LLMClient
    from rcakit.report import Report

__all__ = ["Analysis", "analyze"]


@dataclass
class Analysis:
    """Everything one run of the pipeline produced, and how long each step took."""

    incident: Incident
    anomalies: Anomalies
    draft: CausalDraft
    attribution: Attribution
    fault: FaultGuess | None
    report: Report
    logs: LogAnalysis | None = None
    traces: TraceAnalysis | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    services: Attribution | None = None  # the multimodal service ranking (traces, logs, resource shares) when there were spans or logs
    fused: Attribution | None = None  # the graph and service rankings fused per entity (rcakit.attribution.fusion.fuse)

    @property
    def limits(self) -> list[str]:
        """What the analysis lacked (modalities, call structure, metrics), in words; empty when nothing."""
        facts = getattr(self.report, "facts", None)
        missing = [f"no {m}" for m in getattr(facts, "modalities_missing", [])]
        return missing + list(getattr(facts, "limits", []))

    @property
    def top_cause(self) -> str | None:
        return self.attribution.causes[0].node if self.attribution is not None and self.attribution.causes else None

    @property
    def top_entity(self) -> str | None:
        """The entity the report leads with (the service ranking's when the graph found nothing upstream)."""
        facts = getattr(self.report, "facts", None)
        if facts is not None and facts.top is not None:
            return str(facts.top.entity or facts.top.name)
        return self.attribution.entities[0][0] if self.attribution is not None and self.attribution.causes else None

    def summary(self) -> str:
        parts = [f"{self.incident.name}: top cause {self.top_cause}"]
        if self.top_entity is not None and self.top_cause is not None and \
                self.top_entity != self.top_cause.split(":", 1)[0]:
            parts.append(f"report leads with {self.top_entity} (from traces and logs)")
        if self.fault is not None:
            parts.append(f"fault type {getattr(self.fault, 'fault_type', self.fault)}")
        truth = self.incident.truth
        if truth is not None and truth.root_cause_entities:
            rank = self.attribution.rank_of(truth.root_cause_entities[0]) if self.attribution else None
            parts.append(f"true root cause {truth.root_cause_entities[0]} ranked {rank}")
        if self.fused is not None and self.fused.causes and self.services is not None:
            part = f"fused ranking puts {self.fused.causes[0].entity} first"
            if truth is not None and truth.root_cause_entities:
                part += f" (true root cause ranked {self.fused.rank_of(truth.root_cause_entities[0])})"
            parts.append(part)
        if self.services is not None and self.services.causes:
            part = f"traces/logs rank {self.services.entities[0][0]} first"
            if truth is not None and truth.root_cause_entities:
                part += f" (true root cause ranked {self.services.rank_of(truth.root_cause_entities[0])})"
            parts.append(part)
        parts.append(f"{sum(self.seconds.values()):.1f} s")
        if self.limits:
            parts.append("lacked: " + ", ".join(line.split(" (", 1)[0].split(":", 1)[0] for line in self.limits))
        return "; ".join(parts)

    def _repr_html_(self) -> str:
        steps = ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items())
        return f"<div><b>Analysis</b> {html.escape(self.summary())}<br><small>{html.escape(steps)}</small></div>"


def analyze(
    incident: Incident,
    *,
    graph: nx.DiGraph | CausalDraft | None = None,
    suggesters: Sequence[Suggester] | None = None,
    method: Method | None = None,
    llm: LLMClient | str | None = "auto",
    multimodal: bool = True,
    on_step: Callable[[str], None] | None = None,
    cancel: CancelToken | None = None,
) -> Analysis:
    """Run the default pipeline on one incident, offline unless an LLM endpoint is configured.

    ``graph``: a networkx DiGraph or CausalDraft to use instead of drafting one. ``suggesters``:
    passed to :func:`rcakit.graph.draft_graph`. ``method``: an :class:`rcakit.attribution.Method`
    (default: structural). ``llm``: ``"auto"``, an :class:`rcakit.llm.LLMClient` or None, for the
    report. ``multimodal``: analyse logs and traces when the incident has them and rank services by
    them with ``Method.MULTIMODAL`` beside the graph's ranking (``Analysis.services``; the report
    says whether the two agree). ``on_step(name)`` is called as each step starts.
    """
    from rcakit.attribution import Method, attribute, classify_fault
    from rcakit.detect import detect_anomalies
    from rcakit.graph import CausalDraft, draft_graph
    from rcakit.report.expert import write_report

    seconds: dict[str, float] = {}

    def step(name: str) -> float:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if on_step is not None:
            on_step(name)
        return time.perf_counter()

    t = step("detect")
    anomalies = detect_anomalies(incident)
    logs = traces = None
    if multimodal and incident.telemetry.logs.height:
        from rcakit.detect.logs import analyze_logs

        logs = analyze_logs(incident)
    if multimodal and incident.telemetry.spans.height:
        from rcakit.detect.traces import analyze_traces

        traces = analyze_traces(incident)
    seconds["detect"] = time.perf_counter() - t

    t = step("draft")
    if graph is None:
        draft = draft_graph(incident, suggesters=suggesters, cancel=cancel)
    elif isinstance(graph, CausalDraft):
        draft = graph
    else:
        draft = CausalDraft.from_graph(graph, alarm=incident.alarm)
    seconds["draft"] = time.perf_counter() - t

    t = step("attribute")
    attribution = attribute(draft, incident, method=method or Method.STRUCTURAL, cancel=cancel)
    services = None
    if multimodal and (incident.telemetry.spans.height or incident.telemetry.logs.height):
        services = attribute(None, incident, method=Method.MULTIMODAL, cancel=cancel, logs=logs)
    from rcakit.attribution.fusion import fuse

    fused = fuse(attribution, services, alarm=incident.alarm)
    seconds["attribute"] = time.perf_counter() - t

    t = step("classify")
    fault = None
    if attribution.causes and len(incident.telemetry.nodes()) > 1:
        fault = attribution.fault_type
        if fault is None:
            fault = classify_fault(incident, attribution.entities[0][0])
    seconds["classify"] = time.perf_counter() - t

    t = step("report")
    report = write_report(incident, attribution=attribution, anomalies=anomalies, draft=draft, fault=fault,
                          logs=logs, traces=traces, services=services, llm=llm)
    seconds["report"] = time.perf_counter() - t
    return Analysis(incident, anomalies, draft, attribution, fault, report, logs, traces, seconds, services, fused)
