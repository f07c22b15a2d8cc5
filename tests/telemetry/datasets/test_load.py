"""Dataset recognition (load / detect) and the graph-dataset bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcakit.errors import DatasetLayoutError
from rcakit.telemetry.datasets import detect, load, load_graph_datasets

pytestmark = pytest.mark.shared


def test_detect_each_dataset(dowhy_dir: Path, petshop_dir: Path, nezha_dir: Path, itmon_dir: Path) -> None:
    assert detect(dowhy_dir) == "dowhy"
    assert detect(petshop_dir) == "petshop"
    assert detect(nezha_dir) == "nezha"
    assert detect(itmon_dir) == "it-monitoring"


def test_load_dispatches(dowhy_dir: Path, petshop_dir: Path, itmon_dir: Path) -> None:
    assert [i.name for i in load(dowhy_dir)] == ["dowhy-outlier", "dowhy-shift-1000"]
    assert len(load(petshop_dir)) == 26
    scenario = petshop_dir / "dataset" / "low_traffic"
    assert detect(scenario) == "petshop" and len(load(scenario)) == 26
    assert [i.name for i in load(itmon_dir)] == ["storm-incident"]


def test_unknown_folder_says_what_was_expected_and_found(shared_datasets: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetLayoutError) as info:
        load(shared_datasets)
    message = str(info.value)
    assert str(shared_datasets) in message
    assert "rca_data" in message and "graph.csv" in message  # what was expected
    assert "petshop/" in message  # what was found
    with pytest.raises(DatasetLayoutError, match="empty folder"):
        load(tmp_path)


def test_graph_datasets(shared_datasets: Path) -> None:
    data = load_graph_datasets(shared_datasets)
    assert set(data) == {"mom", "storm", "dowhy", "petshop-latency"}
    assert (data["mom"].graph.number_of_nodes(), data["mom"].graph.number_of_edges()) == (7, 10)
    assert data["storm"].graph.number_of_edges() == 9
    assert data["dowhy"].graph.number_of_edges() == 13
    assert data["dowhy"].telemetry.metrics.height == 110_000
    petshop = data["petshop-latency"]
    assert all(n.endswith(":latency_average") for n in petshop.graph.nodes)
    assert set(petshop.graph.nodes) <= set(petshop.telemetry.nodes())
    assert ("PetSearch_AWS__ECS__Fargate:latency_average", "PetSite:latency_average") in petshop.graph.edges \
        or petshop.graph.number_of_edges() > 40
    for item in data.values():
        assert "<b>GraphDataset</b>" in item._repr_html_()


def test_graph_datasets_missing_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "petshop").mkdir()
    with pytest.raises(DatasetLayoutError, match="dowhy-microservice"):
        load_graph_datasets(tmp_path)


@pytest.mark.slow
def test_incidents_describe_themselves_as_json(dowhy_dir: Path, petshop_dir: Path, itmon_dir: Path,
                                               nezha_dir: Path) -> None:
    import json

    from rcakit.telemetry.datasets import load_dowhy_microservice, load_nezha, load_petshop, load_storm

    incidents = [*load_dowhy_microservice(dowhy_dir), load_petshop(petshop_dir, splits="test")[0],
                 load_storm(itmon_dir), load_nezha(nezha_dir)[0]]
    for incident in incidents:
        data = json.loads(json.dumps(incident.to_dict()))
        assert data["alarm"] == incident.alarm and data["truth"]["root_cause_entities"]
        assert incident.description and "<b>Incident</b>" in incident._repr_html_()


def test_incidents_table(dowhy_dir: Path) -> None:
    from rcakit.telemetry.datasets import incidents_table, load_dowhy_microservice

    table = incidents_table(load_dowhy_microservice(dowhy_dir))
    assert table["name"].to_list() == ["dowhy-outlier", "dowhy-shift-1000"]
    assert table["root_cause_entities"].to_list() == ["Caching Service"] * 2
    assert (table["incident_start"] >= table["baseline_end"]).all()
