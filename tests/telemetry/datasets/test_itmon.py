"""IT monitoring adapters (MoM, Storm): facts from ../shared/datasets/it-monitoring/SOURCE.txt."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from rcakit.errors import DatasetLayoutError
from rcakit.telemetry.datasets import STORM_ALARM, load_mom, load_storm, mom_node, storm_graph_dataset

pytestmark = pytest.mark.shared
MOM = Path("case_studies/data/Middleware_oriented_message_Activity")
STORM = Path("case_studies/data/Storm_Ingestion_Activity")


def _structure(path: Path) -> set[tuple[str, str]]:
    return {tuple(line.split()) for line in path.read_text().splitlines() if line.strip()}  # type: ignore[misc]


def test_mom_7_nodes_10_edges_match_structure_txt(itmon_dir: Path) -> None:
    mom = load_mom(itmon_dir)
    assert mom.graph.number_of_nodes() == 7 and mom.graph.number_of_edges() == 10
    expected = {(mom_node(a), mom_node(b)) for a, b in _structure(itmon_dir / MOM / "structure.txt")}
    assert set(mom.graph.edges) == expected
    assert set(mom.telemetry.nodes()) == set(mom.graph.nodes)
    assert "causality_1:publish_rate" in mom.graph and "server:cpu_global_prct" in mom.graph
    assert sorted(mom.telemetry.metrics["recording"].unique().to_list()) == [1, 2]
    assert mom.meta["columns"]["publish_rate_causality_1"] == "causality_1:publish_rate"
    aligned = mom.telemetry.align("1s", "mean", start=mom.meta["recordings"][1]["start"],
                                  end=mom.meta["recordings"][1]["end"])
    assert aligned.frame.height > 250


def test_mom_accepts_its_own_folder(itmon_dir: Path) -> None:
    assert load_mom(itmon_dir / MOM).graph.number_of_edges() == 10


def test_storm_incident_rows_root_causes_and_graph(itmon_dir: Path) -> None:
    incident = load_storm(itmon_dir)
    assert set(incident.truth.root_cause_entities) == {"capacity_elastic_search_bolt", "pre_Message_dispatcher_bolt"}
    abnormal_rows = sorted(incident.abnormal().metrics["row"].unique().to_list())
    assert abnormal_rows == list(range(46683, 46784))
    assert len(abnormal_rows) == 101
    assert incident.baseline().metrics["row"].max() == 46682
    graph = incident.truth.graph
    expected = {(f"{a}:value", f"{b}:value") for a, b in _structure(itmon_dir / STORM / "storm_structure.txt")}
    assert set(graph.edges) == expected and len(expected) == 9
    assert graph.number_of_nodes() == 8
    # The alarm is downstream of a root cause, and not a root cause itself.
    assert incident.alarm == STORM_ALARM
    assert incident.alarm not in incident.truth.root_cause_nodes
    assert any(nx.has_path(graph, rc, incident.alarm) for rc in incident.truth.root_cause_nodes)
    assert incident.meta["normal_file_matches_incident_rows"] is True


def test_storm_graph_dataset(itmon_dir: Path) -> None:
    data = storm_graph_dataset(itmon_dir)
    assert data.graph.number_of_edges() == 9
    assert data.telemetry.metrics["row"].n_unique() == 991


def test_wrong_folders_name_them(dowhy_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetLayoutError) as info:
        load_mom(dowhy_dir)
    assert str(dowhy_dir) in str(info.value) and "structure.txt" in str(info.value)
    with pytest.raises(DatasetLayoutError) as info:
        load_storm(dowhy_dir)
    assert str(dowhy_dir) in str(info.value) and "storm_structure.txt" in str(info.value)


def test_graph_dataset_edges_as_a_table(itmon_dir: Path) -> None:
    frame = load_mom(itmon_dir).to_frame()
    assert frame.columns == ["cause", "effect"] and frame.height == 10
    assert ("causality_1:publish_rate", "causality_1:messages") in set(frame.iter_rows())
