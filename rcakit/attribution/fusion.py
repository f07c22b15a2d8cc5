"""One service ranking from two views of an incident: the metrics graph and the traces/logs/resources ranking.

The structural ranking (metrics on the drafted graph) and ``Method.MULTIMODAL`` (trace exclusive time,
resource metrics, log templates) see different modalities and fail differently: the graph finds a
workload surge or a misconfigured batch size that traces blame on a queue; traces find a slow pod
among 46 that the graph, drafted from metric names, cannot place. :func:`fuse` combines them per entity:

1. Each ranking becomes shares over entities (an entity's best positive score, divided by the sum).
   A graph cause moves to the entity the traces say is behind it: a service's share to the resource
   ``Method.MULTIMODAL`` credited its slower self time to (``Attribution.credited_to``), and, with
   ``follow_calls``, a service's *latency or backlog* to the callee the traces show it waiting on
   (``Attribution.waits_on``: the caller's own added latency is at most half the callee's). A caller
   that waits longer holds its workers longer, so its pool in use and its queue grow with the wait
   (Little's law: in use = arrival rate x time held); both are the callee's. So is a rise of the caller's
   *error rate* when the traces count no failures beginning in its own spans (``Attribution.fails_on``): its
   calls to the slow callee failed or timed out on the way. Traces
   measure latency along the call; they say nothing about a rise in load or a changed setting, which
   stay where the graph put them.
   With baseline resamples (``AttributionConfig.n_bootstrap``, 30 in ``analyze``), a graph cause counts by
   the low end of its interval, not its point score: a cause that a few baseline rows made look large
   (a robust spread from a handful of values) weighs what it still scores on an unlucky resample.
2. **The graph abstains when its first cause is the alarm node itself**: nothing upstream moved
   enough to explain the alarm, so it says nothing about which other service is at fault (the alarm's
   *entity* may still be a cause through another metric: a client's request rate). **It also abstains
   when its first cause is unsure**: the low end of that cause's interval is at most ``unsure`` times its
   score, so resampling the baseline takes most of it away. Then, and when there is no graph ranking,
   the multimodal shares decide alone; with no multimodal ranking, the graph's decide.
3. Otherwise ``fused = graph share + weight * multimodal share``: the graph leads, the other modalities
   break its near-ties and add entities it cannot see.

The defaults (``FUSION_WEIGHT``, ``FUSION_FOLLOW_CALLS``, ``FUSION_UNSURE``) are the best of
``FUSION_CANDIDATES`` on the tuning sets only; ``python -m rcakit.bench localize --datasets fusion`` prints the comparison and which sets
were tuning sets.
"""

from __future__ import annotations

from typing import TypeAlias

from rcakit.attribution.result import Attribution, RankedCause
from rcakit.graph.meanings import Meaning, metric_meaning
from rcakit.telemetry import split_node

__all__ = ["FUSION_CANDIDATES", "FUSION_FOLLOW_CALLS", "FUSION_UNSURE", "FUSION_WEIGHT", "Candidate",
           "first_entities", "fuse"]

FUSION_WEIGHT = 0.25
FUSION_FOLLOW_CALLS = True
#: The graph abstains when its first cause's interval starts at or below this share of its score; None: graph
#: causes count by their point scores and never abstain for being unsure (the fusion before intervals).
FUSION_UNSURE: float | None = 0.25
#: One fusion setting: (weight, follow_calls, unsure).
Candidate: TypeAlias = tuple[float, bool, float | None]
#: The settings the bench compares on the tuning sets (the default is the best there).
FUSION_CANDIDATES: tuple[Candidate, ...] = tuple(
    (w, f, u) for f in (False, True) for w in (0.25, 0.5, 1.0, 2.0) for u in (None, 0.0, 0.1, 0.25, 0.5))


#: What a caller's wait on its callee moves (see the module doc): its latency and its backlog (pool in use, queue).
_WAIT_EFFECTS = frozenset({Meaning.LATENCY, Meaning.SATURATION})


def _is_wait_effect(node: str) -> bool:
    return metric_meaning(split_node(node)[1]) in _WAIT_EFFECTS


def _low(cause: RankedCause) -> float:
    """The low end of a cause's interval from baseline resamples; its score when the run drew none."""
    return float(cause.low) if cause.low == cause.low else float(cause.score)


def _graph_shares(graph: Attribution | None, credited: dict[str, str], waits: dict[str, str],
                  low: bool = False, fails: dict[str, str] | None = None,
                  ) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    """Entity shares of the graph ranking with causes moved to the entity behind them, each entity's best node,
    and the moves made (entity -> where its credit went). ``low``: causes count by their interval's low end."""
    best: dict[str, float] = {}
    node: dict[str, str] = {}
    moved: dict[str, str] = {}
    for cause in (graph.causes if graph is not None else []):
        entity = credited.get(cause.entity, cause.entity)
        if entity in waits and _is_wait_effect(cause.node):
            entity = waits[entity]
        elif fails and entity in fails and metric_meaning(split_node(cause.node)[1]) is Meaning.ERROR_RATE:
            entity = fails[entity]
        if entity != cause.entity:
            moved[cause.entity] = entity
        value = _low(cause) if low else float(cause.score)
        score = max(value, 0.0) if value == value else 0.0
        best[entity] = max(best.get(entity, -1.0), score)
        if entity == cause.entity:
            node.setdefault(entity, cause.node)
    total = sum(best.values())
    return ({e: v / total for e, v in best.items()} if total > 0 else {}), node, moved


def _shares(result: Attribution | None) -> tuple[dict[str, float], dict[str, str]]:
    """Entity shares of a ranking (best positive score per entity / sum) and each entity's best node."""
    shares, node, _ = _graph_shares(result, {}, {})
    return shares, node


def _alarm_of(graph: Attribution | None, services: Attribution | None, alarm: str | None) -> str | None:
    return alarm or (graph.alarm if graph is not None else None) or (services.alarm if services else None)


def _abstention(graph: Attribution | None, alarm: str | None, unsure: float | None = None) -> str | None:
    """Why the graph says nothing about which entity is at fault (None: it does not abstain): no ranking, the
    alarm itself first, or a first cause that loses most of its score on an unlucky baseline resample."""
    if graph is None or not graph.causes:
        return "there is no graph ranking"
    first = graph.causes[0]
    if alarm is not None and first.node == alarm:
        return "its first cause is the alarm itself"
    if unsure is not None and first.low == first.low and first.low <= unsure * first.score:
        return (f"its first cause {first.node} is unsure: {first.score:.3g}, but {first.low:.3g} at the low end "
                "of its interval over baseline resamples")
    return None


def first_entities(graph: Attribution | None, services: Attribution | None, *, alarm: str | None = None,
                   follow_calls: bool = FUSION_FOLLOW_CALLS,
                   unsure: float | None = FUSION_UNSURE) -> tuple[str | None, str | None]:
    """The entity each view puts first, as :func:`fuse` sees them: the graph's after its causes moved to the
    entity the traces put behind them (None when it abstains or has no cause), the multimodal one's."""
    if _abstention(graph, _alarm_of(graph, services, alarm), unsure) is not None:
        g: dict[str, float] = {}
    else:
        g, _, _ = _graph_shares(graph, services.credited_to if services is not None else {},
                                services.waits_on if services is not None and follow_calls else {},
                                low=unsure is not None,
                                fails=services.fails_on if services is not None and follow_calls else {})
    m, _ = _shares(services)

    def first(shares: dict[str, float]) -> str | None:
        return min(shares, key=lambda e: (-shares[e], e)) if shares else None

    return first(g), first(m)


def fuse(graph: Attribution | None, services: Attribution | None, *, alarm: str | None = None,
         weight: float = FUSION_WEIGHT, follow_calls: bool = FUSION_FOLLOW_CALLS,
         unsure: float | None = FUSION_UNSURE) -> Attribution:
    """The fused entity ranking of a graph ranking and a ``Method.MULTIMODAL`` ranking (see the module doc).

    Causes are one per entity (the node named is the graph's best node of that entity, else the
    multimodal one); ``notes`` say which views were used, whether the graph abstained and why, and which
    graph causes moved to the entity behind them. ``unsure``: None scores graph causes by their point
    scores and keeps an unsure first cause (a graph ranked without baseline resamples behaves so anyway).
    """
    if weight < 0:
        raise ValueError(f"weight must be >= 0, got {weight}")
    alarm = _alarm_of(graph, services, alarm)
    credited = services.credited_to if services is not None else {}
    waits = services.waits_on if services is not None and follow_calls else {}
    fails = services.fails_on if services is not None and follow_calls else {}
    g, g_nodes, moved = _graph_shares(graph, credited, waits, low=unsure is not None, fails=fails)
    m, m_nodes = _shares(services)
    notes = []
    why = _abstention(graph, alarm, unsure)
    abstains = why is not None
    if abstains and m:
        fused = dict(m)
        notes.append(f"the graph ranking abstained ({why}): traces, logs and resources decide")
    elif not m:
        fused = dict(g)
        notes.append("no traces or logs ranking: the metrics graph decides")
    else:
        fused = {e: g.get(e, 0.0) + weight * m.get(e, 0.0) for e in set(g) | set(m)}
        notes.append(f"fused = graph share + {weight:g} x traces/logs/resources share"
                     + (" (graph causes by the low end of their intervals over baseline resamples)"
                        if unsure is not None and graph is not None and any(c.low == c.low for c in graph.causes)
                        else ""))
    if moved and not abstains:
        notes.append("graph credit moved to the entity the traces put behind it: " + ", ".join(
            f"{s} -> {t} ({'the resource it runs on' if credited.get(s) == t else 'the callee it waited on'})"
            for s, t in sorted(moved.items())))
    ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
    causes = [RankedCause(node=g_nodes.get(e) or m_nodes.get(e) or f"{e}:fused", score=float(v))
              for e, v in ranked]
    source = graph if graph is not None else services
    return Attribution(method="fused", alarm=alarm, causes=causes, incident=source.incident if source else "",
                       notes=notes, credited_to=dict(credited), waits_on=dict(waits), fails_on=dict(fails))
