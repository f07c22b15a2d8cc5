"""From a system (or an incident) to a :class:`CausalDraft`: candidates, suggesters, combination.

:func:`draft_graph` builds the :class:`SystemModel`, enumerates the usual-but-unreported metrics,
forms candidate pairs, asks each suggester, and :func:`combine_proposals` merges the answers into
edges that keep every suggester's provenance, vote and rationale. Where suggesters disagree on the
direction, the heavier side (sum of confidences) wins and the disagreement is recorded in the edge's
evidence (``conflict``) so that validation can put it in front of a human.

The language-model suggester plugs in through :func:`llm_suggester_if_configured`: when the module
``rcakit.graph.suggest_llm`` exists and says an endpoint is configured, it is the default suggester;
otherwise the offline :class:`~rcakit.graph.knowledge.KnowledgeSuggester` answers.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias, TypedDict, cast

from rcakit.errors import DataError
from rcakit.graph.candidates import candidate_pairs, enumerate_metrics, infer_hosts
from rcakit.graph.draft import CausalDraft
from rcakit.graph.knowledge import KnowledgeSuggester
from rcakit.graph.proposal import Proposal, Provenance, Suggester, Verdict
from rcakit.graph.system import SystemModel
from rcakit.telemetry import split_node

if TYPE_CHECKING:
    import networkx as nx

    from rcakit._progress import CancelToken
    from rcakit._types import JSONObject, JSONValue
    from rcakit.graph.data import WideData
    from rcakit.telemetry import Incident, Telemetry
    from rcakit.telemetry.datasets import GraphDataset

__all__ = ["CallGraph", "SystemSource", "build_system", "combine_proposals", "default_suggesters", "draft_graph",
           "llm_suggester_if_configured"]

#: What a system model is built from: an Incident, a GraphDataset, a Telemetry, a SystemModel or an Atlas dict.
SystemSource: TypeAlias = "Incident | GraphDataset | Telemetry | SystemModel | Mapping[str, JSONValue]"
#: Caller -> callee entities: a networkx graph or (caller, callee) pairs.
CallGraph: TypeAlias = "nx.DiGraph | Iterable[tuple[str, str]]"


def llm_suggester_if_configured() -> Suggester | None:
    """The LLM suggester when ``rcakit.graph.suggest_llm`` exists and an endpoint is configured, else None.

    The hook looks, in order, for ``default_suggester()`` in that module (returning a Suggester, or
    None when no endpoint is configured), then for its ``LLMSuggester`` class, built when
    ``rcakit.llm.is_configured()`` says an endpoint is set. Any failure to build it means offline.
    """
    try:
        module = importlib.import_module("rcakit.graph.suggest_llm")
    except ImportError:
        return None
    try:
        factory = getattr(module, "default_suggester", None)
        if callable(factory):
            return factory()  # type: ignore[no-any-return]
        cls = getattr(module, "LLMSuggester", None)
        if cls is None:
            return None
        llm = importlib.import_module("rcakit.llm")
        configured = getattr(llm, "is_configured", None)
        if callable(configured) and configured():
            return cls()  # type: ignore[no-any-return]
    except Exception:
        return None
    return None


def default_suggesters() -> list[Suggester]:
    """The LLM suggester when configured, otherwise the offline systems-knowledge suggester."""
    llm = llm_suggester_if_configured()
    return [llm] if llm is not None else [KnowledgeSuggester()]


# -- the system model ---------------------------------------------------------------------------------
def _observed_nodes(telemetry: Telemetry) -> list[str]:
    try:
        return list(telemetry.nodes())
    except Exception:
        return []


def build_system(source: SystemSource, *, call_graph: CallGraph | None = None) -> SystemModel:
    """The SystemModel of an Incident, GraphDataset, Telemetry, Atlas dict or SystemModel.

    An Atlas-format ``system`` (Incident.system) is used when present, its metrics that the
    telemetry does not report marked unobserved and the telemetry's other metrics added; otherwise
    the model comes from the telemetry's metric nodes and the call graph of its spans.
    ``call_graph`` (a caller -> callee networkx graph of entities, or pairs) adds interactions.
    """
    if isinstance(source, SystemModel):
        system = source
        telemetry: Telemetry | None = None
    elif isinstance(source, Mapping):
        system = SystemModel.from_atlas(source)
        telemetry = None
    else:
        telemetry = getattr(source, "telemetry", None)
        if telemetry is None and hasattr(source, "nodes") and hasattr(source, "spans"):
            telemetry = cast("Telemetry", source)  # anything with nodes() and spans reads as one
        if telemetry is None:
            raise DataError(f"cannot build a system model from {type(source).__name__}",
                            hint="Pass an Incident, a Telemetry, a SystemModel or an Atlas-format dict")
        atlas = getattr(source, "system", None)
        observed = _observed_nodes(telemetry)
        if isinstance(atlas, Mapping) and atlas:
            system = SystemModel.from_atlas(atlas, name=str(getattr(source, "name", "system") or "system"))
            have = set(observed)
            if have:
                for node, info in system.metrics.items():
                    if node not in have:
                        info.observed = False
            for node in observed:
                entity, metric = split_node(node)
                system.add_metric(entity, metric)
        else:
            system = SystemModel.from_telemetry(telemetry, name=str(getattr(source, "name", "system") or "system"))
        known: CallGraph | None = getattr(source, "call_graph", None)
        if call_graph is None and known:
            call_graph = known
    if call_graph is not None:
        edges = call_graph.edges if hasattr(call_graph, "edges") else call_graph
        for caller, callee in edges:
            if str(caller) in system.components and str(callee) in system.components:
                system.add_interaction(str(caller), str(callee))
    return system


# -- combining proposals ------------------------------------------------------------------------------
def combine_proposals(
    proposals: Iterable[Proposal],
    system: SystemModel | None = None,
    *,
    alarm: str | None = None,
    nodes: Iterable[str] = (),
) -> CausalDraft:
    """Merge suggesters' proposals into a draft, one edge per pair at most.

    Per pair: each directed verdict weighs its confidence for its direction, "no direct influence"
    weighs against both; abstains do not count. The heavier direction becomes a proposed edge
    when it outweighs "no direct influence". The edge keeps the provenance, rules and rationale of
    the proposals that back it, vote counts (``forward``, ``reverse``, ``none``) and, when
    suggesters disagreed on the direction, ``evidence["conflict"]`` with both weights and who said what.
    """
    draft = CausalDraft(system=system)
    if system is not None:
        for node, info in system.metrics.items():
            draft.add_node(node, observed=info.observed, description=info.description)
    for node in nodes:
        draft.add_node(node)
    groups: dict[tuple[str, str], list[Proposal]] = {}
    for p in proposals:
        key = (p.a, p.b) if p.a <= p.b else (p.b, p.a)
        groups.setdefault(key, []).append(p)
    declined = 0
    unanswered: list[JSONObject] = []
    for (u, v), props in groups.items():
        # A suggester that got no answer (an LLM that kept failing) abstained: say so, on the edge and the draft.
        failed = {p.suggester or p.provenance.value: p.evidence["unanswered"]["reason"] for p in props
                  if isinstance(p.evidence.get("unanswered"), dict)}
        if failed:
            unanswered.append({"pair": [u, v], "suggesters": failed})
        forward = [p for p in props if p.edge == (u, v)]
        backward = [p for p in props if p.edge == (v, u)]
        none = [p for p in props if p.verdict is Verdict.NO_EDGE]
        wf, wb, wn = (sum(float(p.confidence) for p in group) for group in (forward, backward, none))
        if max(wf, wb) <= 0 or wn >= max(wf, wb):
            if forward or backward:
                declined += 1
            continue
        (src, dst), win, lose, w_win, w_lose = (((u, v), forward, backward, wf, wb) if wf >= wb
                                                else ((v, u), backward, forward, wb, wf))
        total = wf + wb + wn
        confidence = max(float(p.confidence) for p in win) * (w_win / total)
        draft.add_edge(src, dst, confidence=min(1.0, max(0.0, confidence)),
                       **_backing(src, dst, props, win, lose, none, (w_win, w_lose, wn), failed))
    draft.meta["declined_pairs"] = declined
    if unanswered:
        draft.meta["unanswered"] = unanswered
    if alarm is not None:
        if alarm not in draft.nodes:
            draft.add_node(alarm)
        draft.alarm = alarm
    return draft


class _Backing(TypedDict):
    """The keyword arguments of ``CausalDraft.add_edge`` that :func:`_backing` fills."""

    provenance: list[Provenance]
    votes: dict[str, int]
    rationale: str
    rules: list[str]
    evidence: JSONObject


def _backing(src: str, dst: str, props: list[Proposal], win: list[Proposal], lose: list[Proposal],
             none: list[Proposal], weights: tuple[float, float, float], failed: dict[str, JSONValue]) -> _Backing:
    """What the kept edge ``src -> dst`` carries from the proposals that back it (``win``) and the others.

    Provenance, rules and rationale of the backers; every suggester's verdict, the backers' evidence, the
    direction dispute (``lose``), the weight of "no direct influence" and who gave no answer; the votes.
    ``weights``: the kept direction's, the reversed one's and "no direct influence"'s.
    """
    w_win, w_lose, wn = weights
    provenance: list[Provenance] = []
    for p in win:
        if p.provenance not in provenance:
            provenance.append(p.provenance)
    rules = list(dict.fromkeys(p.rule for p in win if p.rule))
    rationale = "\n".join(dict.fromkeys(f"[{p.suggester or p.provenance.value}] {p.rationale}".strip()
                                        for p in win if p.rationale))
    evidence: JSONObject = {"suggesters": {p.suggester or p.provenance.value: p.verdict.value
                                               if p.edge is None else f"{p.edge[0]} -> {p.edge[1]}"
                                               for p in props}}
    for p in win:
        for k, val in p.evidence.items():
            evidence.setdefault(k, val)
    if lose:
        evidence["conflict"] = {
            "kept": f"{src} -> {dst}", "weight_kept": w_win, "weight_reversed": w_lose,
            "reversed_by": sorted({p.suggester or p.provenance.value for p in lose}),
        }
        rationale += (f"\nDirection disputed: {', '.join(evidence['conflict']['reversed_by'])} proposed "
                      f"{dst} -> {src} (weight {w_lose:.2f} against {w_win:.2f}).")
    if none:
        evidence["no_edge_weight"] = wn
    if failed:
        evidence["unanswered"] = failed
        rationale += "\n" + "; ".join(f"[{name}] gave no usable answer: {why}" for name, why in failed.items())
    votes: dict[str, int] = {"forward": len(win), "reverse": len(lose), "none": len(none)}
    for p in win:
        for k, n in p.votes.items():
            votes[f"{p.suggester or p.provenance.value}:{k}"] = int(n)
    return {"provenance": provenance, "votes": votes, "rationale": rationale, "rules": rules, "evidence": evidence}


# -- the whole draft ---------------------------------------------------------------------------------
def _with_data(suggester: Suggester, data: WideData | None) -> Suggester:
    if data is not None and getattr(suggester, "data", 0) is None and hasattr(suggester, "with_data"):
        return suggester.with_data(data)  # type: ignore[no-any-return]
    return suggester


def draft_graph(
    incident_or_system: SystemSource,
    *,
    suggesters: Sequence[Suggester] | None = None,
    data: WideData | None = None,
    alarm: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    enumerate_unobserved: bool = True,
    infer_resources: bool = True,
    corpus: Mapping[str, JSONValue] | None = None,
    call_graph: CallGraph | None = None,
    cancel: CancelToken | None = None,
) -> CausalDraft:
    """Draft the causal graph of a system's metrics.

    ``incident_or_system``: an Incident (its ``system`` Atlas dict if present, else its telemetry's
    metrics and span call graph), a GraphDataset, a Telemetry, a SystemModel or an Atlas dict.
    ``suggesters`` default to :func:`default_suggesters` (LLM when configured, else systems
    knowledge). Without any interaction (no call graph, no description), host-like components
    (only cpu / memory / disk / network metrics) become resources used by the others
    (``infer_resources``, see :func:`~rcakit.graph.candidates.infer_hosts`). ``data`` (a wide aligned frame, one column per node) is handed to data suggesters
    built without data. ``on_progress(done, total)`` counts answered pairs over all suggesters.
    The draft keeps unobserved (enumerated) nodes in its confounder graph; ``draft.observed_graph()``
    collapses them and ``draft.collapsed_places()`` says where.
    """
    started = time.perf_counter()
    system = build_system(incident_or_system, call_graph=call_graph)
    if infer_resources and not system.interactions:
        system = infer_hosts(system)
    if enumerate_unobserved:
        system = enumerate_metrics(system, corpus=corpus)
    if alarm is None:
        alarm = getattr(incident_or_system, "alarm", None)
    pairs = candidate_pairs(system)
    chosen = list(suggesters) if suggesters is not None else default_suggesters()
    chosen = [_with_data(s, data) for s in chosen]
    proposals: list[Proposal] = []
    total = len(pairs) * max(1, len(chosen))
    for i, suggester in enumerate(chosen):
        offset = i * len(pairs)

        def report(done: int, _total: int, offset: int = offset) -> None:
            if on_progress is not None:
                on_progress(offset + done, total)

        proposals += suggester.suggest(pairs, system, on_progress=report, cancel=cancel)
        if cancel is not None:
            cancel.raise_if_cancelled()
    draft = combine_proposals(proposals, system, alarm=alarm)
    draft.meta.update({
        "suggesters": [getattr(s, "name", type(s).__name__) for s in chosen],
        "n_candidates": len(pairs),
        "n_proposals": len(proposals),
        "seconds": round(time.perf_counter() - started, 4),
    })
    if on_progress is not None:
        on_progress(total, total)
    return draft
