"""The offline report: LocaleXpert's Observation / Reasoning / Final answer, TAMO's expert sections, no LLM."""

from __future__ import annotations

from rcakit.report.document import Report, md_code, md_escape
from rcakit.report.facts import ReportFacts

__all__ = ["FAULT_PLAYBOOK", "template_report"]

# What an SRE does about each kind of fault: (what it means, repair, prevention).
FAULT_PLAYBOOK: dict[str, tuple[str, list[str], list[str]]] = {
    "network_delay": (
        "a network fault: packets to or from the component are delayed, so every call through it waits",
        ["Check the component's network path (node NIC, CNI, service mesh sidecar) and recent network policy "
         "or traffic-shaping changes; remove any tc/netem rule or chaos experiment still active.",
         "Move the pod to a healthy node or restart its sidecar if the delay is local to one node."],
        ["Alert on per-hop latency from traces, not only on end-to-end latency.",
         "Set client timeouts and retries with budgets so a slow hop cannot stall its callers."],
    ),
    "cpu_contention": (
        "a resource fault: the component is starved of CPU, so its requests queue and run slowly",
        ["Find the co-located workload consuming CPU (top on the node, container CPU throttling counters) and "
         "stop or move it.", "Raise the component's CPU request/limit or scale it out while the cause is removed."],
        ["Set CPU requests that reflect real load and alert on CPU throttling.",
         "Isolate latency-critical services from batch jobs (node pools, priority classes)."],
    ),
    "memory": (
        "a memory fault: the component runs short of memory (garbage collection, swapping or OOM kills)",
        ["Inspect memory usage and OOM-kill events; restart the leaking instance to restore service.",
         "Capture a heap profile before restarting if the growth repeats."],
        ["Alert on memory growth rate, not only on the limit.", "Load-test releases for leaks."],
    ),
    "configuration": (
        "a configuration fault: a setting (such as a maximum batch size or a worker, thread or connection pool "
        "size) changed how the component works",
        ["Diff the component's configuration against the last known good version and roll back the change.",
         "If its pool is full without more load, raise the pool or connection limit back to its former size."],
        ["Review configuration changes like code, with canaries and automatic rollback on latency regressions.",
         "Alert on pool utilization near its limit, not only on the errors a full pool causes."],
    ),
    "disk": (
        "a storage fault: the component waits on its disk (saturated I/O, a slow or full volume)",
        ["Check the volume's I/O wait, queue depth and free space; find the process or job driving the I/O "
         "(compaction, backups, logs) and throttle or move it.", "Fail over to a replica on healthy storage."],
        ["Alert on disk I/O wait and free space, and schedule heavy I/O jobs off peak or on separate volumes."],
    ),
    "packet_loss": (
        "a network fault: packets to or from the component are lost, so calls through it retransmit and time out",
        ["Check retransmission and drop counters on the node, its NIC and the path to its peers; remove any "
         "chaos or traffic-shaping rule still active and move the pod off a faulty node."],
        ["Alert on TCP retransmissions per service, and set timeouts and retry budgets so losses cannot stall "
         "callers."],
    ),
    "gpu_throttling": (
        "a hardware fault: the accelerator runs slower than usual (thermal or power throttling)",
        ["Check GPU clocks, temperature and power draw; drain the node if the GPU keeps throttling."],
        ["Monitor GPU power and clock speed (often unmeasured) and alert on sustained throttling."],
    ),
    "workload": (
        "a load fault: more requests arrived than the system is sized for, so queues grew",
        ["Scale out the saturated tier and shed or rate-limit non-critical traffic."],
        ["Autoscale on queue length or utilization, and load-test for the peak you expect."],
    ),
    "error": (
        "an error fault: the component fails requests (exceptions, crashes), and the errors reach its callers",
        ["Read the component's error logs around the incident start; roll back the most recent deployment if "
         "the errors began with it.", "Restart crashed instances and check their dependencies."],
        ["Alert on error rate per service, and gate deployments on error budgets."],
    ),
    "latency": (
        "a performance fault: the component itself became slower",
        ["Profile the component during the slow period; check its dependencies' health and recent changes."],
        ["Track per-service latency SLOs and alert on their burn rate."],
    ),
}

_ALIASES = {
    "network": "network_delay", "network_slowdown": "network_delay", "delay": "network_delay",
    "cpu": "cpu_contention", "cpu_stress": "cpu_contention", "mem": "memory", "memory_leak": "memory",
    "batch_size_misconfig": "configuration", "batch_misconfig": "configuration", "config": "configuration",
    "gpu_throttle": "gpu_throttling", "workload_spike": "workload", "error_burst": "error",
    "crash": "error", "exception": "error", "latency shift": "latency", "latency_shift": "latency",
    "disk_io": "disk", "packet_drop": "packet_loss", "error_injection": "error",
    "dependency_outage": "error",
}


def playbook_key(fault_type: str | None) -> str | None:
    if not fault_type:
        return None
    key = fault_type.strip().lower().replace("-", "_")
    if key in FAULT_PLAYBOOK:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    for alias, target in _ALIASES.items():
        if alias in key:
            return target
    return None


def _bullets(lines: list[str], empty: str) -> str:
    return "\n".join(f"- {line}" for line in lines) if lines else f"- {empty}"


def template_report(facts: ReportFacts) -> Report:
    """The report built from the facts alone: deterministic, offline, no LLM."""
    alarm = f"{md_code(facts.alarm)}" if facts.alarm else "the alarm"
    sections: list[tuple[str, str]] = [
        ("Summary", _summary(facts, alarm)),
        ("Observation", _observation(facts)),
        ("Reasoning", "\n\n".join(_reasoning(facts)) or "No ranking was computed."),
        ("Final answer", _final_answer(facts)),
        *_expert_sections(facts, alarm),
        ("Data and its limits", _data_and_limits(facts)),
    ]
    if facts.truth:
        truth = facts.truth
        sections.append(("Ground truth (evaluation data)",
                         f"Known root cause: {', '.join(f'{md_code(c)}' for c in truth.get('root_cause', []))}; "
                         f"fault type: {md_escape(truth.get('fault_type') or 'unknown')}."))

    title = f"Incident report: {facts.incident}"
    return Report(title=title, sections=sections, facts=facts, writer="template (offline)")


def _summary(facts: ReportFacts, alarm: str) -> str:
    """The incident, its alarm and windows, the most likely cause and the fault type, one bullet each."""
    top = facts.top
    esc = md_escape
    summary = [f"- **Incident:** {esc(facts.incident)}", f"- **Alarm:** {alarm}",
               f"- **Incident window:** {facts.incident_window}", f"- **Baseline window:** {facts.baseline_window}"]
    if top is not None:
        summary.append(f"- **Most likely root cause:** {md_code(top.name)} (score {top.score:.3g}; "
                       f"confidence {facts.confidence()})")
    if facts.fault_type:
        summary.append(f"- **Fault type:** {esc(facts.fault_type)}")
    if facts.description:
        summary.append(f"- **About:** {esc(facts.description)}")
    return "\n".join(summary)


def _observation(facts: ReportFacts) -> str:
    """What the data showed, one line per symptom, then logs and traces."""
    esc = md_escape
    obs = [_bullets([esc(s) for s in facts.symptoms[:12]], "No metric anomaly was detected against the baseline.")]
    if facts.log_context:
        obs.append("\nLog evidence (quoted as data):\n\n```text\n" + "\n".join(_fence_safe(x) for x in facts.log_context[:8])
                   + "\n```")
    if facts.trace_context:
        obs.append("\nTrace evidence:\n\n" + _bullets([esc(t) for t in facts.trace_context[:6]], ""))
    if facts.service_ranking:
        ranked = ", ".join(f"{md_code(c.name)} ({c.score:.2g})" for c in facts.service_ranking[:5])
        obs.append(f"\nServices ranked by traces, logs and resource shares: {ranked}.")
        if facts.service_evidence:
            obs.append(_bullets([esc(e) for e in facts.service_evidence], ""))
    return "\n".join(obs)


def _reasoning(facts: ReportFacts) -> list[str]:
    """How the ranking follows from the graph and the scores, one paragraph each."""
    top = facts.top
    esc = md_escape
    reasoning: list[str] = []
    if facts.method:
        reasoning.append(f"Root causes were ranked with {esc(facts.method)}.")
    if facts.graph_summary:
        reasoning.append(esc(facts.graph_summary))
    if top is not None:
        if top.path_to_alarm:
            path = " → ".join(f"{md_code(p)}" for p in top.path_to_alarm)
            reasoning.append(f"The top candidate reaches the alarm along {path}: its change propagates downstream "
                             "to the symptom, while the nodes on the path are explained by it.")
        if len(facts.causes) > 1:
            others = ", ".join(f"{md_code(c.name)} ({c.score:.3g})" for c in facts.causes[1:4])
            reasoning.append(f"Other candidates score lower: {others}.")
    lead = _graph_lead_reasoning(facts)
    if lead:
        reasoning.append(lead)
    if facts.fault_type_evidence:
        reasoning.append("The fault type follows from: " + "; ".join(esc(e) for e in facts.fault_type_evidence) + ".")
    if facts.unmeasured_suspects:
        reasoning.append("Unmeasured metrics lie on the causal paths: "
                         + "; ".join(esc(u) for u in facts.unmeasured_suspects) + ".")
    return reasoning


def _graph_lead_reasoning(facts: ReportFacts) -> str | None:
    """Why the report leads with another cause than the causal graph's ranking, or whether the service ranking agrees."""
    top = facts.top
    if facts.graph_lead is not None and facts.graph_lead_reason == "fused" and top is not None:
        return (f"The causal-graph ranking put {md_code(facts.graph_lead)} first; with the traces, logs and "
                f"resource shares weighed in, {md_code(top.entity or top.name)} leads: the metric graph and the "
                "request-level evidence disagree, so check the graph's candidate too.")
    if facts.graph_lead is not None and facts.graph_lead_reason == "callee" and top is not None:
        return (f"The causal-graph ranking put {md_code(facts.graph_lead)} first. The traces show that "
                f"service waiting on {md_code(top.entity or top.name)}, which it calls: its own time did not "
                "grow, the time it waited did, so the latency rise and the backlog it builds are credited to the callee. Check the "
                "graph's candidate too.")
    if facts.graph_lead is not None and facts.graph_lead_reason == "resource" and top is not None:
        return (f"The causal-graph ranking put {md_code(facts.graph_lead)} first. That service runs on "
                f"{md_code(top.entity or top.name)}, whose metrics moved while the service's typical call "
                "slowed and its load did not rise: the slower service is the symptom of a degraded "
                "resource, so the ranking here credits its time to the resource. Check the graph's "
                "candidate too.")
    if facts.graph_lead is not None:
        return (f"The causal-graph ranking put {md_code(facts.graph_lead)}, the alarm's own entity, first: it "
                "found no cause upstream of the symptom in the metrics, so the ranking here is the one "
                "from traces, logs and resource shares.")
    if facts.service_ranking and top is not None:
        first = facts.service_ranking[0].name
        if first == (top.entity or top.name):
            return (f"The traces, logs and resource shares rank {md_code(first)} first too, independently of "
                    "the causal graph.")
        return (f"The traces, logs and resource shares rank {md_code(first)} first, not "
                f"{md_code(top.entity or top.name)}: the metric graph and the request-level evidence "
                f"disagree, so check {md_code(first)} as well; where traces cover the path, they "
                "locate slow hops and first failures more directly than metrics.")
    return None


def _final_answer(facts: ReportFacts) -> str:
    """The root cause, related entities, fault type and confidence (LocaleXpert's final answer)."""
    top = facts.top
    if top is not None:
        final = [f"**Root cause:** {md_code(top.name)}" + (f" (entity {md_code(top.entity)})" if top.entity and top.entity != top.name else "")]
        if facts.related_entities:
            final.append("**Related entities:** " + ", ".join(f"{md_code(e)}" for e in facts.related_entities[:8]))
        if facts.fault_type:
            final.append(f"**Fault type:** {md_escape(facts.fault_type)}")
        final.append(f"**Confidence:** {facts.confidence()}")
    else:
        final = ["No root cause could be ranked from the data given."]
    return "\n\n".join(final)


def _expert_sections(facts: ReportFacts, alarm: str) -> list[tuple[str, str]]:
    """TAMO's expert sections: analysis, type and level, repair and prevention."""
    top = facts.top
    key = playbook_key(facts.fault_type)
    meaning, repair, prevent = FAULT_PLAYBOOK.get(key, ("", [], [])) if key else ("", [], [])
    if top is not None:
        analysis = f"{md_code(top.name)} changed first in the causal order and explains the change at {alarm}."
        if meaning:
            analysis += f" The signature is that of {meaning}."
    else:
        analysis = "Not enough evidence to name a root cause."
    level = _failure_level(facts)
    if not repair:
        repair = ["Inspect the top-ranked component's recent deployments, configuration and resource usage.",
                  "Compare its logs in the incident window with the baseline window."]
        prevent = ["Add an alert on the top-ranked metric so this starts paging earlier next time."]
    return [("Root-cause analysis", analysis),
            ("Type and level of failure", f"{md_escape(facts.fault_type or 'Unknown type')}; level: {level}."),
            ("Repair", _bullets(repair, "")),
            ("Prevention", _bullets(prevent, ""))]


def _data_and_limits(facts: ReportFacts) -> str:
    """What we could not see (LocaleXpert III-D), and the confidence that follows."""
    missing = facts.modalities_missing
    if missing:
        limits = {
            "metrics": "no metrics: resource saturation cannot be checked",
            "logs": "no logs: errors and exceptions are judged from metrics only, and fault types involving errors are less certain",
            "traces": "no traces: the call graph comes from configuration or knowledge, and per-hop latency cannot be confirmed",
        }
        lines = [f"- {limits[m]}" for m in missing]
    else:
        lines = []
    lines += [f"- {md_escape(line)}" for line in facts.limits]
    if lines:
        return "\n".join(lines) + f"\n\nConfidence is therefore {facts.confidence()}."
    return "Metrics, logs and traces were all available, with a call structure to follow."


def _failure_level(facts: ReportFacts) -> str:
    if not facts.alarm:
        return "unknown"
    entity = facts.alarm.split(":", 1)[0]
    if facts.entry_points is None:
        scope = "service-level as far as the data tell (no call structure says whether the alarm is on an entry point)"
    elif entity in facts.entry_points:
        scope = "user-facing (the alarm is on an entry point: no component calls it)"
    else:
        scope = "service-level (other components call the alarm's component)"
    if facts.related_entities and len(facts.related_entities) >= 3:
        scope += f"; {len(facts.related_entities)} related entities on the propagation paths"
    return scope


def _fence_safe(line: str) -> str:
    """Log lines are data: keep them inside the fence whatever they contain."""
    return line.replace("```", "ˋˋˋ")[:400]
