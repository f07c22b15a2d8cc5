"""rcakit.sim.families: every family x fault builds a valid incident whose root cause moves, and noise works."""

from __future__ import annotations

import networkx as nx
import numpy as np
import polars as pl
import pytest

from rcakit.errors import DataError
from rcakit.sim import FAMILIES, FAULT_KINDS, SCORING_SEEDS, TUNING_SEEDS, family_cases, family_incident
from rcakit.sim.families import eligible_targets, family_topology
from rcakit.telemetry import Incident, Telemetry

CASES = [(f, k) for f in FAMILIES for k in FAULT_KINDS]


def _series(inc: Incident, node: str) -> tuple[np.ndarray, np.ndarray]:
    entity, metric = node.split(":", 1)
    rows = inc.telemetry.metrics.filter((pl.col("entity") == entity) & (pl.col("metric") == metric))
    base = rows.filter(pl.col("time") < inc.baseline_window.end)["value"].to_numpy()
    late = rows.filter(pl.col("time") >= inc.incident_window.start)["value"].to_numpy()
    return base, late


def _robust_z(base: np.ndarray, values: np.ndarray) -> float:
    centre = float(np.median(base))
    scale = max(1.4826 * float(np.median(np.abs(base - centre))), 0.01 * abs(centre), 1e-6)
    return (float(np.median(values)) - centre) / scale


@pytest.mark.parametrize(("family", "fault"), CASES)
def test_every_case_builds_a_valid_incident_whose_root_cause_moves(family: str, fault: str) -> None:
    inc = family_incident(family, fault, seed=TUNING_SEEDS[0], noise=())
    tel = inc.telemetry
    again = Telemetry(tel.metrics, tel.logs, tel.spans)   # the full validation path
    assert again.metrics.height == tel.metrics.height and again.spans.height == tel.spans.height
    assert inc.truth is not None and inc.truth.fault_type == fault
    assert inc.meta["family"] == family and inc.meta["fault"] == fault
    assert inc.alarm in (f"{inc.meta['entry']}:latency", f"{inc.meta['entry']}:error_rate")
    graph = inc.truth.graph
    assert nx.is_directed_acyclic_graph(graph)
    assert set(graph.nodes) == set(tel.nodes())
    node = inc.truth.root_cause_nodes[0]
    assert any(nx.has_path(graph, n, inc.alarm) for n in inc.truth.root_cause_nodes)
    base, late = _series(inc, node)
    first_half, second_half = base[: len(base) // 2], base[len(base) // 2:]
    assert abs(_robust_z(first_half, second_half)) < 4          # quiet in the baseline
    assert abs(_robust_z(base, late)) > 4                        # moved in the incident
    pairs = set(inc.call_graph)
    assert pairs and all(a in family_topology(family).services and b in family_topology(family).services
                         for a, b in pairs)


def test_uninstrumented_callees_have_only_caller_side_metrics_and_no_spans_or_logs() -> None:
    for family in FAMILIES:
        inc = family_incident(family, "dependency_outage", seed=TUNING_SEEDS[1], noise=())
        hidden = inc.meta["uninstrumented"]
        assert hidden
        tel = inc.telemetry
        for name in hidden:
            assert set(tel.metric_names(name)) == {"latency", "errors"}
            assert tel.spans.filter(pl.col("entity") == name).height == 0
            assert tel.logs.filter(pl.col("entity") == name).height == 0
            calls = tel.spans.filter(pl.col("operation").str.ends_with(f" {name}"))
            assert calls.height > 0                              # the callers' client spans
            if family_topology(family).services[name].kind == "external":
                children = tel.spans.filter(pl.col("parent_id").is_in(calls["span_id"].implode()))
                assert children.height == 0                      # no server span below them


def test_network_fault_moves_only_the_faulty_link() -> None:
    inc = family_incident("webshop", "network_delay", seed=5, target="shipping", noise=())
    assert inc.meta["fault_detail"]["caller"] == "checkout" and inc.root_cause_entities == ("shipping",)
    assert abs(_robust_z(*_series(inc, "shipping:latency"))) < 4    # the callee's own time did not change
    assert _robust_z(*_series(inc, "checkout:latency")) > 4
    assert _robust_z(*_series(inc, "shipping:net_rtt")) > 4


def test_same_seed_same_telemetry_and_different_seeds_differ() -> None:
    a = family_incident("replicated", "cpu", seed=7, noise=("missing_scrapes", "clock_skew", "unrelated_deploy"))
    b = family_incident("replicated", "cpu", seed=7, noise=("missing_scrapes", "clock_skew", "unrelated_deploy"))
    c = family_incident("replicated", "cpu", seed=8, noise=("missing_scrapes", "clock_skew", "unrelated_deploy"))
    for kind in ("metrics", "logs", "spans"):
        assert getattr(a.telemetry, kind).equals(getattr(b.telemetry, kind))
    assert not a.telemetry.metrics.equals(c.telemetry.metrics)
    assert a.truth is not None and b.truth is not None and a.truth.root_cause_nodes == b.truth.root_cause_nodes


def test_missing_scrapes_leave_gaps() -> None:
    clean = family_incident("shared_db", "disk", seed=3, noise=())
    holes = family_incident("shared_db", "disk", seed=3, noise=("missing_scrapes",))
    detail = holes.meta["noise_detail"]["missing_scrapes"]
    assert holes.telemetry.metrics.height == clean.telemetry.metrics.height - detail["dropped_rows"] > 0
    gap = holes.telemetry.window(detail["gap"]["start"], detail["gap"]["end"]).metrics
    assert gap.filter(pl.col("entity") == detail["entity"]).height == 0
    assert clean.telemetry.window(detail["gap"]["start"], detail["gap"]["end"]).metrics \
        .filter(pl.col("entity") == detail["entity"]).height > 0


def test_no_network_metrics_drops_only_the_network_metrics() -> None:
    from rcakit.sim.families import NETWORK_METRICS

    clean = family_incident("webshop", "network_delay", seed=5, target="shipping", noise=())
    blind = family_incident("webshop", "network_delay", seed=5, target="shipping", noise=("no_network_metrics",))
    network = pl.col("metric").is_in(list(NETWORK_METRICS))
    assert clean.telemetry.metrics.filter(network).height > 0 and blind.telemetry.metrics.filter(network).height == 0
    assert blind.telemetry.metrics.equals(clean.telemetry.metrics.filter(~network))  # nothing else changes
    assert blind.telemetry.spans.equals(clean.telemetry.spans)
    assert blind.meta["noise_detail"]["no_network_metrics"] == {"dropped": list(NETWORK_METRICS)}


def test_clock_skew_shifts_one_hosts_timestamps() -> None:
    clean = family_incident("webshop", "cpu", seed=4, noise=())
    skewed = family_incident("webshop", "cpu", seed=4, noise=("clock_skew",))
    host, seconds = (skewed.meta["noise_detail"]["clock_skew"][k] for k in ("entity", "seconds"))
    assert 20 <= abs(seconds) <= 90

    def first(inc: Incident, kind: str, column: str, entity: str) -> float:
        frame = getattr(inc.telemetry, kind).filter(pl.col("entity") == entity)
        return float(frame[column].min().timestamp())

    for kind, column in (("metrics", "time"), ("logs", "time"), ("spans", "start")):
        assert first(skewed, kind, column, host) - first(clean, kind, column, host) == pytest.approx(seconds, abs=1e-3)
    other = next(e for e in clean.telemetry.entities() if e != host and e in clean.telemetry.metrics["entity"])
    assert first(skewed, "metrics", "time", other) == first(clean, "metrics", "time", other)


def test_seasonality_moves_traffic_and_a_deploy_logs_a_line() -> None:
    flat = family_incident("pipeline", "cpu", seed=2, noise=())
    wavy = family_incident("pipeline", "cpu", seed=2, noise=("seasonality", "unrelated_deploy"))
    rate_flat = np.concatenate(_series(flat, "ingest-api:request_rate"))
    rate_wavy = np.concatenate(_series(wavy, "ingest-api:request_rate"))
    assert np.ptp(rate_wavy) > 1.5 * np.ptp(rate_flat)
    deployed = wavy.meta["noise_detail"]["unrelated_deploy"]["entity"]
    assert deployed != wavy.root_cause_entities[0]
    lines = wavy.telemetry.logs.filter((pl.col("entity") == deployed) & pl.col("message").str.starts_with("deploying"))
    assert lines.height == 1 and lines["time"][0] >= wavy.incident_window.start


def test_traces_agree_with_the_metrics() -> None:
    inc = family_incident("webshop", "error_injection", seed=11, target="cart", noise=())
    spans = inc.telemetry.spans
    roots = spans.filter(pl.col("parent_id").is_null())
    assert set(roots["entity"]) == {"frontend"}
    assert set(spans["span_id"]).issuperset(set(spans["parent_id"].drop_nulls()))
    late = roots.filter(pl.col("start") >= inc.incident_window.start)["error"].mean()
    early = roots.filter(pl.col("start") < inc.baseline_window.end)["error"].mean()
    assert late > early + 0.1
    assert inc.telemetry.logs.filter((pl.col("level") == "ERROR") & (pl.col("entity") == "cart")).height > 0


def test_cases_seeds_targets_and_errors() -> None:
    assert set(TUNING_SEEDS).isdisjoint(SCORING_SEEDS)
    cases = family_cases(TUNING_SEEDS)
    assert len(cases) == len(FAMILIES) * len(FAULT_KINDS) * len(TUNING_SEEDS)
    assert family_cases([1], families=["pipeline"], faults=["disk"]) == [("pipeline", "disk", 1)]
    assert "reports" not in eligible_targets(family_topology("shared_db"), "cpu")   # never reaches the entry
    with pytest.raises(DataError, match="unknown family"):
        family_incident("bank", "cpu", seed=1)
    with pytest.raises(DataError, match="cannot be injected"):
        family_incident("webshop", "disk", seed=1, target="frontend")
    with pytest.raises(DataError, match="unknown noise"):
        family_incident("webshop", "cpu", seed=1, noise=("cosmic_rays",))
    big = family_incident("replicated", "packet_loss", seed=1, size="M", step=30)
    assert len(big.meta["entity_kinds"]) > len(family_topology("replicated").services)
