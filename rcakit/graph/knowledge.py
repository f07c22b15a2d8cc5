"""The offline systems-knowledge suggester: rules over metric meanings and interaction kinds.

What an SRE knows without looking at data: a callee's latency drives its caller's; a caller's
request rate drives its callee's; load drives utilization drives latency; errors propagate to
callers and to availability; a resource's utilization drives the latency of the services using it;
a configured maximum batch size drives the executed batch size; a queue's length drives the time
spent waiting in it. Each rule is a :class:`Rule` with a name; every edge the suggester proposes
names the rule behind it (``Proposal.rule``) and says why in words (``Proposal.rationale``).

It is the default suggester when no language-model endpoint is configured.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, Unpack

from rcakit.graph.candidates import InteractionMap, interaction_map
from rcakit.graph.meanings import Meaning, metric_meaning
from rcakit.graph.proposal import CandidatePair, Proposal, Provenance, Verdict
from rcakit.graph.system import SystemModel

if TYPE_CHECKING:
    from rcakit._progress import CancelToken
    from rcakit._types import JSONObject

__all__ = ["RULES", "KnowledgeSuggester", "Rule", "meaning_of_node"]

M = Meaning
_LOAD = frozenset({M.THROUGHPUT, M.LOAD, M.ENQUEUE_RATE})


@dataclass(frozen=True)
class Rule:
    """``cause`` meanings on one side drive ``effect`` meanings on the other.

    ``relation`` is ``"same"`` (one component), ``"invokes"``, ``"uses"`` or ``"any"``. For
    cross-component rules ``cause_side`` is ``"source"`` (caller / user) or ``"target"`` (callee /
    resource), or ``"either"``. A rule does not fire when the component holding the effect
    (``"same"``: the component) already reports a metric whose meaning is in ``mediators``: the
    influence then flows through that metric and a direct edge would be redundant. ``guard`` names
    a structural condition: ``"synchronous_call"`` (the caller is not a network link, and the callee
    is neither a queue nor a response link: only then does the caller wait for the callee) and
    ``"not_absorbed"`` (no caller on the request's path already includes this hop's metric) and
    ``"not_request"`` (the effect is not on a request, whose rate is set by the clients).
    ``needs_observed`` rules fire only between measured metrics: their link is too indirect to
    route influence through an enumerated, unmeasured metric.
    """

    name: str
    relation: str
    cause: frozenset[Meaning]
    effect: frozenset[Meaning]
    text: str
    cause_side: str = "either"
    confidence: float = 0.8
    mediators: frozenset[Meaning] = field(default_factory=frozenset)
    mediator_side: str = "effect"
    guard: str | None = None
    needs_observed: bool = False

    def to_dict(self) -> JSONObject:
        return {"name": self.name, "relation": self.relation, "cause": sorted(self.cause),
                "effect": sorted(self.effect), "cause_side": self.cause_side, "confidence": self.confidence,
                "text": self.text, "mediators": sorted(self.mediators), "guard": self.guard,
                "needs_observed": self.needs_observed}


class _RuleOptions(TypedDict, total=False):
    """The optional fields of a :class:`Rule`, as :func:`_r` takes them."""

    cause_side: str
    confidence: float
    mediators: frozenset[Meaning]
    mediator_side: str
    guard: str | None
    needs_observed: bool


def _r(name: str, relation: str, cause: Iterable[Meaning], effect: Iterable[Meaning], text: str,
       **kw: Unpack[_RuleOptions]) -> Rule:
    return Rule(name, relation, frozenset(cause), frozenset(effect), text, **kw)


#: The built-in rules, most specific first. The first rule that fires decides a pair.
RULES: tuple[Rule, ...] = (
    # -- configuration ------------------------------------------------------------------------------
    _r("config_drives_batch_size", "any", [M.CONFIG], [M.BATCH_SIZE],
       "a configured limit (max batch size) caps the batch size actually executed", confidence=0.9),
    # -- within one component -------------------------------------------------------------------------
    _r("queue_arrivals_fill_queue", "same", [M.ENQUEUE_RATE], [M.SATURATION],
       "requests arriving faster fill the queue (queue length grows with the arrival rate)", confidence=0.85),
    _r("queue_departures_drain_queue", "same", [M.DEQUEUE_RATE], [M.SATURATION],
       "requests leaving the queue faster shorten it", confidence=0.75),
    _r("arrivals_drive_departures", "same", [M.ENQUEUE_RATE], [M.DEQUEUE_RATE],
       "while consumers keep up, requests leave a queue as fast as they arrive (flow conservation)",
       confidence=0.6),
    _r("load_drives_utilization", "same", _LOAD, [M.UTILIZATION, M.MEMORY, M.NETWORK, M.DISK_IO, M.SATURATION],
       "more work arriving (requests, messages, clients) keeps the component's resources busier", confidence=0.8),
    _r("batch_size_drives_cost", "same", [M.BATCH_SIZE], [M.LATENCY, M.UTILIZATION],
       "a larger batch takes longer to execute", confidence=0.75),
    _r("power_drives_utilization", "same", [M.POWER], [M.UTILIZATION, M.LATENCY],
       "less capacity (power, clock, throttling) makes the same work take longer and keeps the resource busier",
       confidence=0.7),
    _r("saturation_drives_latency", "same", [M.SATURATION, M.UTILIZATION], [M.LATENCY],
       "a longer queue or a busier resource makes requests wait longer (queueing delay)", confidence=0.8),
    _r("resource_pressure_drives_latency", "same", [M.MEMORY, M.DISK_IO], [M.LATENCY],
       "memory pressure (garbage collection, swapping) and a busy disk make each request take longer",
       confidence=0.6),
    _r("memory_pressure_drives_errors", "same", [M.MEMORY], [M.ERROR_RATE],
       "a component out of memory fails requests (allocation errors, killed workers)", confidence=0.55),
    _r("busy_resource_fills_backlog", "same", [M.UTILIZATION, M.MEMORY, M.DISK_IO], [M.SATURATION],
       "a busier resource serves each request slower, so more requests wait or stay in progress at once "
       "(Little's law)", confidence=0.6),
    _r("saturation_drives_errors", "same", [M.SATURATION], [M.ERROR_RATE],
       "a full queue or pool rejects or times out requests", confidence=0.55),
    _r("errors_drive_availability", "same", [M.ERROR_RATE], [M.AVAILABILITY],
       "failed requests lower the share of successful ones (availability)", confidence=0.85),
    _r("errors_reduce_throughput", "same", [M.ERROR_RATE], [M.THROUGHPUT],
       "failed requests do not count as served", confidence=0.55, guard="not_request"),
    _r("errors_change_latency", "same", [M.ERROR_RATE], [M.LATENCY],
       "a failing request ends early (a crash cuts it short) or late (a timeout), changing the latency",
       confidence=0.5),
    # -- caller / callee --------------------------------------------------------------------------
    _r("callee_latency_drives_caller_latency", "invokes", [M.LATENCY], [M.LATENCY],
       "a caller waits for its callee, so the callee's latency is part of the caller's",
       cause_side="target", confidence=0.9, guard="synchronous_call"),
    _r("callee_saturation_drives_caller_latency", "invokes", [M.SATURATION], [M.LATENCY],
       "requests a caller hands to a queue wait in it", cause_side="target", confidence=0.6,
       mediators=frozenset({M.LATENCY}), mediator_side="cause", guard="synchronous_call"),
    _r("callee_network_drives_caller_latency", "invokes", [M.NETWORK], [M.LATENCY, M.ERROR_RATE],
       "a slow or lossy network path to a callee delays the caller's calls (retransmits, timeouts) or fails "
       "them", cause_side="target", confidence=0.6, guard="synchronous_call"),
    _r("callee_latency_holds_caller_pool", "invokes", [M.LATENCY], [M.SATURATION],
       "a caller's workers or connections stay busy while they wait for a slower callee", cause_side="target",
       confidence=0.6, guard="synchronous_call"),
    _r("caller_load_drives_callee_traffic", "invokes", _LOAD, [M.NETWORK],
       "every call a caller makes is traffic on its callee's connections", cause_side="source", confidence=0.6),
    _r("caller_load_drives_callee_load", "invokes", _LOAD, [M.THROUGHPUT, M.ENQUEUE_RATE, M.LOAD],
       "every request a caller handles becomes requests to its callee", cause_side="source", confidence=0.8),
    _r("callee_errors_drive_caller_errors", "invokes", [M.ERROR_RATE], [M.ERROR_RATE],
       "a failing callee makes the requests of its caller fail", cause_side="target", confidence=0.8,
       guard="synchronous_call"),
    _r("callee_availability_drives_caller_availability", "invokes", [M.AVAILABILITY, M.ERROR_RATE], [M.AVAILABILITY],
       "a caller is only as available as the callees it needs", cause_side="target", confidence=0.75,
       mediators=frozenset({M.ERROR_RATE}), mediator_side="effect", guard="synchronous_call"),
    # -- a consumer pulling work from a queue -------------------------------------------------------
    _r("queue_arrivals_fill_batches", "consumes", [M.ENQUEUE_RATE], [M.BATCH_SIZE],
       "more requests arriving while the consumer is busy fill bigger batches", cause_side="target",
       confidence=0.6),
    _r("consumer_capacity_drives_queue", "consumes", [M.BATCH_SIZE, M.LATENCY, M.ERROR_RATE],
       [M.DEQUEUE_RATE, M.SATURATION], "a consumer takes work from its queue as fast as its batch size over its "
       "execution time allows (and takes none while it fails); what it leaves behind waits in the queue",
       cause_side="source", confidence=0.7),
    _r("dequeue_drives_consumer_throughput", "consumes", [M.DEQUEUE_RATE], [M.THROUGHPUT, M.LOAD],
       "every request taken from the queue is processed by its consumer", cause_side="target", confidence=0.75),
    # -- service / resource -----------------------------------------------------------------------
    _r("work_drives_resource_utilization", "uses", [*_LOAD, M.BATCH_SIZE],
       [M.UTILIZATION, M.MEMORY, M.NETWORK, M.DISK_IO],
       "more work from the services on a resource keeps it busier", cause_side="source", confidence=0.8),
    _r("execution_time_drives_resource_utilization", "uses", [M.LATENCY], [M.UTILIZATION],
       "a resource is busy for as long as the work of the services on it runs (requests x execution time)",
       cause_side="source", confidence=0.7, needs_observed=True),
    _r("resource_capacity_drives_service_latency", "uses", [M.POWER, M.SATURATION], [M.LATENCY],
       "a slowed-down (throttled) or congested resource makes the services running on it slower",
       cause_side="target", confidence=0.8),
    _r("resource_errors_drive_service_errors", "uses", [M.ERROR_RATE, M.AVAILABILITY], [M.ERROR_RATE,
                                                                                    M.AVAILABILITY],
       "a failing resource makes the services using it fail", cause_side="target", confidence=0.75),
    # -- a request and the components on its path -------------------------------------------------
    _r("hop_latency_adds_to_end_to_end", "request_path", [M.LATENCY], [M.LATENCY],
       "a request's end-to-end latency is the sum of the latencies of the hops on its path",
       cause_side="target", confidence=0.85, guard="not_absorbed"),
    _r("hop_errors_reach_request", "request_path", [M.ERROR_RATE], [M.ERROR_RATE],
       "a failure anywhere on a request's path returns an error to the request", cause_side="target",
       confidence=0.8, guard="not_absorbed"),
)


def meaning_of_node(system: SystemModel, node: str) -> Meaning:
    info = system.metrics.get(node)
    if info is None:
        from rcakit.telemetry import split_node

        entity, metric = split_node(node)
        kind = system.components[entity].kind.value if entity in system.components else None
        return metric_meaning(metric, component_kind=kind)
    comp = system.components.get(info.entity)
    return metric_meaning(info.name, info.description, component_kind=comp.kind.value if comp else None)


def _observed(system: SystemModel, node: str) -> bool:
    info = system.metrics.get(node)
    return info is None or info.observed


class KnowledgeSuggester:
    """Rules over metric meanings and interaction kinds; no data, no network, deterministic.

    A pair matched by a rule gets that rule's verdict, confidence, name and rationale. A pair whose
    meanings are both known but that no rule links gets "no direct influence" (``rule="no_rule"``);
    a pair with a metric of unknown meaning is an abstain, so that another suggester may answer it.
    """

    name = "knowledge"
    provenance = Provenance.KNOWLEDGE

    def __init__(self, rules: Sequence[Rule] | None = None, *, no_edge_confidence: float = 0.6) -> None:
        self.rules = tuple(RULES if rules is None else rules)
        self.no_edge_confidence = float(no_edge_confidence)

    def __repr__(self) -> str:
        return f"KnowledgeSuggester({len(self.rules)} rules)"

    def _repr_html_(self) -> str:
        rows = "".join(f"<li><code>{html.escape(r.name)}</code>: {html.escape(r.text)}</li>" for r in self.rules)
        return f"<div><b>KnowledgeSuggester</b> ({len(self.rules)} rules)<ul>{rows}</ul></div>"

    def suggest(
        self,
        pairs: Sequence[CandidatePair],
        system: SystemModel,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Proposal]:
        meanings: dict[str, Meaning] = {}

        def meaning(node: str) -> Meaning:
            if node not in meanings:
                meanings[node] = meaning_of_node(system, node)
            return meanings[node]

        entity_meanings: dict[str, set[Meaning]] = {}
        for node, info in system.metrics.items():
            entity_meanings.setdefault(info.entity, set()).add(meaning(node))
        imap = interaction_map(system)

        out: list[Proposal] = []
        total = len(pairs)
        for i, pair in enumerate(pairs):
            if cancel is not None and i % 256 == 0:
                cancel.raise_if_cancelled()
            out.append(self._one(pair, system, meaning, entity_meanings, imap))
            if on_progress is not None and (i + 1 == total or (i + 1) % 256 == 0):
                on_progress(i + 1, total)
        return out

    def explain(self, a: str, b: str, system: SystemModel) -> Proposal:
        """The suggester's answer for one pair of nodes, with the rule and why."""
        entity_meanings: dict[str, set[Meaning]] = {}
        for node, info in system.metrics.items():
            entity_meanings.setdefault(info.entity, set()).add(meaning_of_node(system, node))
        return self._one(CandidatePair(a, b), system, lambda n: meaning_of_node(system, n), entity_meanings,
                         interaction_map(system))

    @staticmethod
    def _guard_ok(guard: str | None, cause: str, effect: str, mc: Meaning, imap: InteractionMap,
                  entity_meanings: dict[str, set[Meaning]]) -> bool:
        if guard is None:
            return True
        if guard == "synchronous_call":
            return effect not in imap.links and cause not in imap.response_links and cause not in imap.queues
        if guard == "not_absorbed":
            if cause in imap.response_links or cause in imap.queues:
                return True
            return not any(c not in imap.links and c not in imap.requests and mc in entity_meanings.get(c, set())
                           for c in imap.callers(cause))
        if guard == "not_request":
            return effect not in imap.requests
        raise ValueError(f"unknown rule guard {guard!r}")

    def _one(self, pair: CandidatePair, system: SystemModel, meaning: Callable[[str], Meaning],
             entity_meanings: dict[str, set[Meaning]], imap: InteractionMap) -> Proposal:
        from rcakit.telemetry import split_node

        a, b = pair.a, pair.b
        ma, mb = meaning(a), meaning(b)
        rel = imap.relation(split_node(a)[0], split_node(b)[0])
        evidence: JSONObject = {"meanings": [ma.value, mb.value]}
        if rel is None:
            return Proposal(a, b, Verdict.NO_EDGE, self.provenance, 0.9, rule="not_interacting",
                            rationale="the two components do not interact directly", evidence=evidence,
                            suggester=self.name)
        relation, a_is_source = rel
        evidence["relation"] = relation
        if Meaning.UNKNOWN in (ma, mb):
            unknown = [n for n, m in ((a, ma), (b, mb)) if m is Meaning.UNKNOWN]
            return Proposal(a, b, Verdict.ABSTAIN, self.provenance, 0.0, rule="unknown_meaning",
                            rationale="no known meaning for " + ", ".join(unknown), evidence=evidence,
                            suggester=self.name)
        ea, eb = split_node(a)[0], split_node(b)[0]
        for rule in self.rules:
            if rule.relation not in (relation, "any"):
                continue
            for cause, effect, mc, me, ec, ee, cause_is_source in (
                (a, b, ma, mb, ea, eb, a_is_source),
                (b, a, mb, ma, eb, ea, not a_is_source),
            ):
                if mc not in rule.cause or me not in rule.effect:
                    continue
                if (rule.relation not in ("same", "any") and rule.cause_side != "either"
                        and (rule.cause_side == "source") != cause_is_source):
                    continue
                if not self._guard_ok(rule.guard, ec, ee, mc, imap, entity_meanings):
                    continue
                if rule.needs_observed and not (_observed(system, cause) and _observed(system, effect)):
                    continue
                if rule.mediators:
                    holder = ee if rule.mediator_side == "effect" else ec
                    present = entity_meanings.get(holder, set()) - {mc, me}
                    if present & rule.mediators:
                        continue
                verdict = Verdict.A_CAUSES_B if cause == a else Verdict.B_CAUSES_A
                why = (f"{rule.name}: {cause} ({mc.value}) -> {effect} ({me.value}); {rule.text}"
                       + ("" if relation == "same" else f" [{ec} {relation} {ee}]"
                          if cause_is_source else f" [{ee} {relation} {ec}]"))
                return Proposal(a, b, verdict, self.provenance, rule.confidence, rule=rule.name, rationale=why,
                                evidence=evidence, suggester=self.name)
        return Proposal(a, b, Verdict.NO_EDGE, self.provenance, self.no_edge_confidence, rule="no_rule",
                        rationale=f"no systems rule links {ma.value} and {mb.value} across a {relation} relation",
                        evidence=evidence, suggester=self.name)
