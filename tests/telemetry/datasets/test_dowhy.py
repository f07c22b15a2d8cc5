"""DoWhy microservice adapter: facts from ../shared/datasets/dowhy-microservice/SOURCE.txt."""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import pytest

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.graph.system import SystemModel
from rcakit.telemetry.datasets import (
    dowhy_call_graph,
    dowhy_graph,
    dowhy_system,
    load_dowhy_microservice,
)

pytestmark = pytest.mark.shared


def _source_edges(dowhy_dir: Path) -> set[tuple[str, str]]:
    """The 13 'cause -> effect' lines of SOURCE.txt."""
    edges = set()
    for line in (dowhy_dir / "SOURCE.txt").read_text().splitlines():
        if "->" in line and "Ground truth" not in line and "i.e." not in line:
            cause, effect = (part.strip() for part in line.split("->"))
            edges.add((cause, effect))
    return edges


def test_graph_is_the_13_edges_of_source_txt(dowhy_dir: Path) -> None:
    edges = _source_edges(dowhy_dir)
    assert len(edges) == 13
    graph = dowhy_graph()
    assert set(graph.edges) == {(f"{a}:latency", f"{b}:latency") for a, b in edges}
    assert nx.is_directed_acyclic_graph(graph)
    calls = dowhy_call_graph()
    assert set(calls.edges) == {(b, a) for a, b in edges}


def test_two_incidents_with_truth_and_alarm(dowhy_dir: Path) -> None:
    outlier, shift = load_dowhy_microservice(dowhy_dir)
    assert (outlier.name, shift.name) == ("dowhy-outlier", "dowhy-shift-1000")
    for incident in (outlier, shift):
        assert incident.alarm == "Website:latency"
        assert incident.truth.root_cause_entities == ("Caching Service",)
        assert incident.truth.root_cause_nodes == ("Caching Service:latency",)
        assert incident.truth.fault_type == "latency shift"
        assert incident.truth.graph.number_of_edges() == 13
        assert nx.has_path(incident.truth.graph, "Caching Service:latency", incident.alarm)
        assert "synthetic" in incident.description and incident.meta["time_is_synthetic"]
        assert len(incident.telemetry.nodes()) == 11
        assert "Caching Service:latency" in incident.telemetry.nodes()
    base, abn = shift.aligned("1s", "mean")
    assert base.frame.height == 10_000 and abn.frame.height == 1_000
    assert base.gaps.height == 0 and abn.gaps.height == 0
    _, o_abn = outlier.aligned("1s", "mean")
    assert o_abn.frame.height == 1
    # The anomalous rows really are slower at the root cause (shifted by about 2 s).
    caching = "Caching Service:latency"
    assert abn.frame[caching].mean() - base.frame[caching].mean() > 1.5


def test_rows_keep_file_order(dowhy_dir: Path) -> None:
    _, shift = load_dowhy_microservice(dowhy_dir)
    first_line = (dowhy_dir / "rca_microservice_architecture_anomaly_1000.csv").read_text().splitlines()[1]
    header = (dowhy_dir / "rca_microservice_architecture_anomaly_1000.csv").read_text().splitlines()[0].split(",")
    values = dict(zip(header, map(float, first_line.split(",")), strict=True))
    abn = shift.abnormal().metrics
    first = abn.filter(abn["row"] == 0)
    for entity, value in zip(first["entity"], first["value"], strict=True):
        assert value == pytest.approx(values[entity])


def test_system_description_reads_as_atlas_input() -> None:
    model = SystemModel.from_atlas(dowhy_system())
    assert "Caching Service" in model.components


def test_wrong_folder_names_it(petshop_dir: Path, tmp_path: Path, dowhy_dir: Path) -> None:
    with pytest.raises(DatasetLayoutError) as info:
        load_dowhy_microservice(petshop_dir)
    assert str(petshop_dir) in str(info.value)
    assert "rca_microservice_architecture_latencies.csv" in str(info.value)
    for name in ("rca_microservice_architecture_latencies.csv", "rca_microservice_architecture_anomaly.csv"):
        shutil.copy(dowhy_dir / name, tmp_path / name)
    (tmp_path / "rca_microservice_architecture_anomaly_1000.csv").write_text("Website;www\n1;2\n")
    with pytest.raises(DataError, match="anomaly_1000"):
        load_dowhy_microservice(tmp_path)
