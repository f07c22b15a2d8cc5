"""Fusing the metrics-graph ranking with the traces/logs ranking: abstention, placement credit, one-view cases."""

from __future__ import annotations

import pytest

from rcakit.attribution import Attribution, RankedCause
from rcakit.attribution.fusion import fuse


def _ranking(method: str, scores: dict[str, float], alarm: str = "web:latency", **kw) -> Attribution:
    causes = [RankedCause(node=n, score=s) for n, s in sorted(scores.items(), key=lambda kv: -kv[1])]
    return Attribution(method=method, alarm=alarm, causes=causes, **kw)


def test_the_graph_leads_and_the_other_modalities_break_its_near_ties() -> None:
    graph = _ranking("structural", {"db:latency": 1.0, "api:latency": 0.95, "web:latency": 0.1})
    services = _ranking("multimodal", {"api:trace.self_time": 1.0, "db:trace.self_time": 0.1})
    fused = fuse(graph, services, weight=0.25)
    assert fused.causes[0].entity == "api"
    assert fuse(graph, services, weight=0.0).causes[0].entity == "db"


def test_the_graph_abstains_when_the_alarm_itself_comes_first() -> None:
    graph = _ranking("structural", {"web:latency": 5.0, "cart:latency": 0.2})
    services = _ranking("multimodal", {"pay:trace.self_time": 1.0, "cart:trace.self_time": 0.5})
    fused = fuse(graph, services)
    assert fused.causes[0].entity == "pay"
    assert any("abstained" in note for note in fused.notes)


def test_the_alarm_entity_through_another_metric_is_still_a_cause() -> None:
    graph = _ranking("structural", {"web:request_rate": 5.0, "web:latency": 1.0})
    services = _ranking("multimodal", {"cart:trace.self_time": 1.0})
    assert fuse(graph, services).causes[0].entity == "web"  # a traffic surge from the client


def test_graph_credit_moves_to_the_resource_a_service_runs_on() -> None:
    graph = _ranking("structural", {"infer:latency": 1.0, "router:latency": 0.2})
    services = _ranking("multimodal", {"gpu:utilization": 0.6, "infer:trace.self_time": 0.1},
                        credited_to={"infer": "gpu"})
    fused = fuse(graph, services)
    assert fused.causes[0].entity == "gpu" and fused.causes[0].node == "gpu:utilization"


@pytest.mark.parametrize("missing", ["graph", "services"])
def test_one_view_alone_decides(missing: str) -> None:
    graph = _ranking("structural", {"db:latency": 1.0, "api:latency": 0.5})
    services = _ranking("multimodal", {"api:trace.self_time": 1.0})
    fused = fuse(None if missing == "graph" else graph, None if missing == "services" else services)
    assert fused.causes[0].entity == ("api" if missing == "graph" else "db")


def test_fusion_ranks_the_injected_gpu_throttle_and_workload_spike_first() -> None:
    """On simulator incidents with traces, the fused ranking names the causes each view alone misses."""
    from rcakit.attribution import AttributionConfig, attribute
    from rcakit.graph import draft_graph
    from rcakit.sim import GpuThrottle, Topology, WorkloadSpike, make_incident

    cfg = AttributionConfig(n_bootstrap=0, fault_type=False)
    for fault in (GpuThrottle("GPU_0", duration="10min", magnitude=2.5), WorkloadSpike(duration="10min")):
        inc = make_incident(Topology.small(), fault, seed=1000, baseline="15min", after="5min", trace_sample=200)
        graph = attribute(draft_graph(inc), inc, config=cfg)
        services = attribute(None, inc, method="multimodal", config=cfg)
        assert fuse(graph, services).causes[0].entity in inc.truth.root_cause_entities


def test_a_callers_latency_moves_to_the_callee_the_traces_show_it_waiting_on() -> None:
    """Traces measure latency along the call: the graph's latency cause moves down; a load cause does not."""
    graph = _ranking("structural", {"execute:latency": 7.0, "web:latency": 0.5})
    services = _ranking("multimodal", {"travel:trace.self_time": 0.9, "execute:trace.self_time": 0.1},
                        waits_on={"execute": "travel"})
    fused = fuse(graph, services)
    assert fused.causes[0].entity == "travel"
    assert any("execute -> travel (the callee it waited on)" in note for note in fused.notes)
    assert fuse(graph, services, follow_calls=False).causes[0].entity == "execute"
    load = _ranking("structural", {"execute:request_rate": 7.0, "web:latency": 0.5})
    assert fuse(load, services).causes[0].entity == "execute"


def test_first_entities_are_what_the_fusion_weighs() -> None:
    from rcakit.attribution.fusion import first_entities

    services = _ranking("multimodal", {"gpu:utilization": 0.6, "api:trace.self_time": 0.5},
                        credited_to={"infer": "gpu"})
    moved = _ranking("structural", {"infer:latency": 1.0, "api:latency": 0.2})
    assert first_entities(moved, services) == ("gpu", "gpu")  # the graph's cause moved to the resource behind it
    abstaining = _ranking("structural", {"web:latency": 5.0, "api:latency": 0.2})
    assert first_entities(abstaining, services) == (None, "gpu")
    other = _ranking("structural", {"db:latency": 1.0})
    assert first_entities(other, services) == ("db", "gpu") and first_entities(other, None) == ("db", None)


@pytest.mark.parametrize(("node", "moves"), [("checkout:pool_utilization", True), ("checkout:latency", True),
                                             ("checkout:request_rate", False), ("checkout:cpu", False)])
def test_a_callers_backlog_moves_with_its_wait_to_the_callee(node: str, moves: bool) -> None:
    """Workers held while waiting on a slow callee fill the caller's pool; a load rise or its own CPU stays."""
    graph = _ranking("structural", {node: 1.0, "cart:latency": 0.3})
    services = _ranking("multimodal", {"shipping:trace.self_time": 0.4, "cart:trace.self_time": 0.35},
                        waits_on={"checkout": "shipping"})
    assert fuse(graph, services).causes[0].entity == ("shipping" if moves else "checkout")


def _with_intervals(method: str, causes: list[tuple[str, float, float]], alarm: str = "web:latency") -> Attribution:
    """A ranking whose causes carry (score, low end of the interval over baseline resamples)."""
    return Attribution(method=method, alarm=alarm,
                       causes=[RankedCause(node=n, score=s, low=lo, high=s * 1.5) for n, s, lo in causes])


def test_an_unsure_first_graph_cause_leaves_the_decision_to_the_traces() -> None:
    # a few baseline rows made api's latency look large; resampled, it nearly vanishes (low end 0.2 of 6)
    graph = _with_intervals("structural", [("api:latency", 6.0, 0.2), ("db:cpu", 2.0, 1.5)])
    services = _ranking("multimodal", {"pay:trace.self_time": 1.0, "api:trace.self_time": 0.1})
    fused = fuse(graph, services)
    assert fused.causes[0].entity == "pay"
    assert any("abstained" in n and "api:latency is unsure" in n for n in fused.notes)
    # without the rule (or without resamples) the graph leads with its point scores, as before
    assert fuse(graph, services, unsure=None).causes[0].entity == "api"
    no_intervals = _ranking("structural", {"api:latency": 6.0, "db:cpu": 2.0})
    assert fuse(no_intervals, services).causes[0].entity == "api"


def test_graph_causes_count_by_the_low_end_of_their_intervals() -> None:
    # api first by its point score, but db keeps more of its score on an unlucky resample
    graph = _with_intervals("structural", [("api:latency", 6.0, 2.0), ("db:cpu", 5.0, 4.5)])
    services = _ranking("multimodal", {"api:trace.self_time": 0.3, "db:trace.self_time": 0.3})
    fused = fuse(graph, services)
    assert fused.causes[0].entity == "db" and not any("abstained" in n for n in fused.notes)
    assert any("low end of their intervals" in n for n in fused.notes)
    assert fuse(graph, services, unsure=None).causes[0].entity == "api"
    # with no other view the graph decides alone, unsure or not
    assert fuse(graph, None).causes[0].entity == "db"
    assert fuse(_with_intervals("structural", [("api:latency", 6.0, 0.1)]), None).causes[0].entity == "api"


@pytest.mark.parametrize(("target", "seed"), [("search-1", 7), ("search-2", 8), ("search-lb", 7), ("search-lb", 8)])
def test_an_untraced_balancer_waits_on_the_one_slow_replica_behind_it(target: str, seed: int) -> None:
    """The balancer emits no spans; the service map puts it between the gateway and the replicas.

    A network delay in front of one replica (no network metrics) shows in the metrics first as the
    balancer's latency, and in the traces as that replica's. One replica holding most of the added
    latency explains the balancer's rise; a delay in front of the balancer slows the replicas alike
    and keeps it first.
    """
    from rcakit.attribution import AttributionConfig, Method, attribute
    from rcakit.graph import draft_graph
    from rcakit.sim import families

    noise = (*families.DEFAULT_NOISE, "no_network_metrics")
    inc = families.family_incident("replicated", "network_delay", seed=seed, target=target, noise=noise)
    assert "search-lb" not in set(inc.telemetry.spans.get_column("entity").to_list())
    assert ("search-lb", target if target != "search-lb" else "search-0") in inc.call_graph
    services = attribute(None, inc, method=Method.MULTIMODAL, config=AttributionConfig(n_bootstrap=0, fault_type=False))
    graph = attribute(draft_graph(inc, alarm=inc.alarm), inc, config=AttributionConfig(fault_type=False))
    assert graph.causes[0].entity == "search-lb"  # the metrics alone blame the balancer either way
    fused = fuse(graph, services)
    assert fused.causes[0].entity == target
    if target != "search-lb":
        assert services.waits_on.get("search-lb") == target
        assert any(f"search-lb -> {target} (the callee it waited on)" in n for n in fused.notes)
    else:
        assert "search-lb" not in services.waits_on


def test_a_callers_errors_move_to_the_callee_only_when_its_own_spans_do_not_fail_first() -> None:
    """A caller whose error rate rose while it waited on a slow callee failed its calls to it (timeouts, lost
    requests): the callee's doing. When the traces show failures beginning at the caller, the errors stay."""
    graph = _ranking("structural", {"checkout:error_rate": 5.0, "checkout:latency": 0.2, "web:latency": 0.1})
    services = _ranking("multimodal", {"shipping:trace.self_time": 0.9, "checkout:trace.self_time": 0.1},
                        waits_on={"checkout": "shipping"}, fails_on={"checkout": "shipping"})
    fused = fuse(graph, services)
    assert fused.causes[0].entity == "shipping" and fused.fails_on == {"checkout": "shipping"}
    counted = _ranking("multimodal", {"shipping:trace.self_time": 0.9, "checkout:errors": 0.5},
                       waits_on={"checkout": "shipping"})  # the traces count failures beginning at checkout
    assert fuse(graph, counted).causes[0].entity == "checkout"
    assert fuse(graph, services, follow_calls=False).causes[0].entity == "checkout"


@pytest.mark.parametrize(("kind", "target", "seed"), [("packet_loss", "shipping", 3), ("packet_loss", "shipping", 4),
                                                      ("error_injection", "checkout", 1),
                                                      ("error_injection", "checkout", 2)])
def test_lost_calls_blame_the_callee_and_injected_errors_the_caller(kind: str, target: str, seed: int) -> None:
    """Packet loss on the path to shipping (no network metrics) fails checkout's calls: the metrics see checkout's
    error rate first, the traces no failure beginning there. Errors injected into checkout begin in its spans."""
    from rcakit.attribution import AttributionConfig, Method, attribute
    from rcakit.graph import draft_graph
    from rcakit.sim import families

    noise = (*families.DEFAULT_NOISE, "no_network_metrics")
    inc = families.family_incident("webshop", kind, seed=seed, target=target, noise=noise)
    services = attribute(None, inc, method=Method.MULTIMODAL, config=AttributionConfig(n_bootstrap=0, fault_type=False))
    graph = attribute(draft_graph(inc, alarm=inc.alarm), inc, config=AttributionConfig(fault_type=False))
    assert graph.causes[0].node == "checkout:error_rate"
    assert fuse(graph, services).causes[0].entity == target
    assert ("checkout" in services.fails_on) == (kind == "packet_loss")
