"""PetShop adapter: facts from ../shared/datasets/petshop/SOURCE.txt and target.json."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.telemetry.datasets import (
    load_petshop,
    petshop_call_graph,
    petshop_node,
    read_petshop_metrics,
    safe_entity,
)

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def petshop(petshop_dir: Path) -> list:
    return load_petshop(petshop_dir)


def test_26_low_traffic_issues_8_train_18_test(petshop: list) -> None:
    assert len(petshop) == 26
    splits = Counter(i.meta["split"] for i in petshop)
    assert splits == {"train": 8, "test": 18}
    names = [i.name for i in petshop]
    assert len(set(names)) == 26
    assert "petshop-low_traffic-test-issue_3" in names


def test_truth_and_alarm_match_target_json(petshop: list, petshop_dir: Path) -> None:
    by_name = {i.name: i for i in petshop}
    for split, issue in [("train", "issue_0"), ("test", "issue_0"), ("test", "issue_3"), ("test", "issue_12"),
                         ("test", "issue_17")]:
        target = json.loads((petshop_dir / "dataset" / "low_traffic" / split / issue / "target.json").read_text())
        incident = by_name[f"petshop-low_traffic-{split}-{issue}"]
        assert incident.truth.root_cause_entities == (safe_entity(target["root_cause"]["node"]),)
        t = target["target"]
        assert incident.alarm == f"{t['node']}:{t['metric']}_{t['agg'].lower()}"
        assert incident.meta["target"] == target
        # The alarm's timestamp lies in the issue's recording, in the row the meta names.
        assert incident.incident_window.contains(t["timestamp"])
        row = incident.meta["alarm_row"]
        times = incident.abnormal().series(incident.alarm).get_column("time").dt.epoch("s").to_list()
        assert times[row] <= t["timestamp"] < times[row] + 300


def test_root_causes_of_all_issues(petshop: list) -> None:
    causes = Counter(i.truth.root_cause_entities[0] for i in petshop)
    assert causes["PetSearch_AWS__ECS__Fargate"] == 8  # every train issue
    assert set(causes) == {"PetSearch_AWS__ECS__Fargate", "petInfo_AWS__DynamoDB__Table",
                           "lambdastatusupdater_AWS__Lambda__Function", "petlistadoptions_AWS__ECS__Fargate",
                           "payforadoption_AWS__ECS__Container"}
    graph_nodes = set(petshop[0].truth.graph.nodes)
    assert all(i.truth.root_cause_entities[0] in graph_nodes for i in petshop)


def test_windows_hold_the_right_recordings(petshop: list) -> None:
    incident = petshop[0]
    base, abn = incident.baseline(), incident.abnormal()
    assert set(base.metrics.get_column("recording").unique()) == {"noissue"}
    assert set(abn.metrics.get_column("recording").unique()) == {"issue"}
    assert abn.metrics.get_column("time").n_unique() == 5
    assert base.metrics.get_column("time").n_unique() > 500
    assert not incident.meta["recordings_overlap"]
    # The noissue frame is shared, not re-read per issue.
    assert petshop[0].telemetry.metrics.height > 100_000
    nodes = set(incident.telemetry.nodes())
    for node in ("PetSite:latency_average", "PetSite:availability_average", "PetSite:requests_sum",
                 "PetSite:latency_p90", "PetSearch_AWS__ECS__Fargate:latency_p99"):
        assert node in nodes


def test_call_graph_and_truth_graph(petshop_dir: Path, petshop: list) -> None:
    calls = petshop_call_graph(petshop_dir)
    assert calls.number_of_nodes() == 42
    assert calls.has_edge("PetSite", "PetSearch_AWS__ECS__Fargate") or any(
        calls.has_edge("PetSite", n) for n in calls.successors("PetSite"))
    truth = petshop[0].truth.graph
    assert set(truth.edges) == {(b, a) for a, b in calls.edges}
    assert sorted(map(tuple, petshop[0].call_graph)) == sorted(calls.edges)
    # The alarm component is reachable from every root cause in the causal graph (callee -> caller).
    for incident in petshop:
        assert nx.has_path(truth, incident.truth.root_cause_entities[0], "PetSite")


def test_read_petshop_metrics_has_the_upstream_shape(petshop_dir: Path) -> None:
    frame = read_petshop_metrics(petshop_dir / "dataset" / "low_traffic" / "noissue" / "metrics.csv")
    assert frame.columns.nlevels == 3
    assert frame.index.name == "unix_timestamp"
    assert ("PetSite", "latency", "Average") in frame.columns
    assert frame.shape[1] == 287
    sub = frame.loc[:, (slice(None), ["latency"], ["Average"])]
    assert sub.shape[1] == 41


def test_petshop_node_names() -> None:
    assert petshop_node("PetSite", "latency", "p90") == "PetSite:latency_p90"
    assert petshop_node("PetSearch_AWS::ECS::Fargate", "requests", "Sum") == "PetSearch_AWS__ECS__Fargate:requests_sum"


def test_one_split_and_cache_reuse(petshop_dir: Path, petshop: list) -> None:
    train = load_petshop(petshop_dir, splits="train")
    assert [i.meta["split"] for i in train] == ["train"] * 8
    assert train[0].telemetry.metrics.height == petshop[0].telemetry.metrics.height


def test_wrong_folders_name_the_folder(nezha_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetLayoutError) as info:
        load_petshop(nezha_dir)
    assert str(nezha_dir) in str(info.value)
    assert "dataset/" in str(info.value)
    with pytest.raises(DatasetLayoutError, match="does not exist"):
        load_petshop(tmp_path / "nowhere")


def test_unknown_scenario_lists_the_ones_present(petshop_dir: Path) -> None:
    with pytest.raises(DatasetLayoutError, match="low_traffic"):
        load_petshop(petshop_dir, scenario="high_traffic")


def _mini_copy(petshop_dir: Path, tmp_path: Path) -> Path:
    src = petshop_dir / "dataset" / "low_traffic"
    dst = tmp_path / "petshop" / "dataset" / "low_traffic"
    (dst / "noissue").mkdir(parents=True)
    shutil.copy(src / "graph.csv", dst / "graph.csv")
    shutil.copy(src / "noissue" / "metrics.csv", dst / "noissue" / "metrics.csv")
    (dst / "test").mkdir()
    shutil.copytree(src / "test" / "issue_3", dst / "test" / "issue_3")
    return tmp_path / "petshop"


def test_missing_target_json_is_named(petshop_dir: Path, tmp_path: Path) -> None:
    root = _mini_copy(petshop_dir, tmp_path)
    (root / "dataset" / "low_traffic" / "test" / "issue_3" / "target.json").unlink()
    with pytest.raises(DatasetLayoutError, match=r"target\.json"):
        load_petshop(root, splits=("test",))


def test_broken_metrics_header_is_reported(petshop_dir: Path, tmp_path: Path) -> None:
    root = _mini_copy(petshop_dir, tmp_path)
    path = root / "dataset" / "low_traffic" / "test" / "issue_3" / "metrics.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2], *lines[3:]]) + "\n")  # drop the 'metric' header row
    with pytest.raises(DataError) as info:
        load_petshop(root, splits=("test",))
    assert "metrics.csv" in str(info.value)


def test_overlapping_recordings_drop_normal_rows_in_the_incident_window(petshop_dir: Path, tmp_path: Path) -> None:
    root = _mini_copy(petshop_dir, tmp_path)
    issue = root / "dataset" / "low_traffic" / "test" / "issue_3"
    # Move the issue's 5 rows into the middle of the normal recording (shift timestamps).
    normal_lines = (root / "dataset" / "low_traffic" / "noissue" / "metrics.csv").read_text().splitlines()
    normal_times = [line.split(",", 1)[0] for line in normal_lines[4:]]
    first = float((issue / "metrics.csv").read_text().splitlines()[4].split(",", 1)[0])
    shift = float(normal_times[100]) - first
    lines = (issue / "metrics.csv").read_text().splitlines()
    rows: list[str] = []
    for line in lines[4:]:
        head, rest = line.split(",", 1)
        rows.append(f"{float(head) + shift},{rest}")
    (issue / "metrics.csv").write_text("\n".join([*lines[:4], *rows]) + "\n")
    target = json.loads((issue / "target.json").read_text())
    target["target"]["timestamp"] = int(target["target"]["timestamp"] + shift)
    (issue / "target.json").write_text(json.dumps(target))
    [incident] = load_petshop(root, splits=("test",))
    assert incident.meta["recordings_overlap"]
    assert set(incident.abnormal().metrics.get_column("recording").unique()) == {"issue"}
    assert not incident.baseline_window.overlaps(incident.incident_window)
    dropped = [c for c in incident.telemetry.report if c.dropped]
    assert dropped and dropped[0].rows > 0


def test_non_numbers_are_reported_not_dropped(petshop_dir: Path, tmp_path: Path) -> None:
    root = _mini_copy(petshop_dir, tmp_path)
    path = root / "dataset" / "low_traffic" / "test" / "issue_3" / "metrics.csv"
    lines = path.read_text().splitlines()
    cells = lines[5].split(",")
    cells[9] = "n/a"  # column 9 is PetSite latency Average
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    [incident] = load_petshop(root, splits=("test",))
    found = incident.telemetry.report.find("non-numbers")
    assert [(c.column, c.rows) for c in found] == [("PetSite/latency/Average", 1)]
    series = incident.abnormal().series("PetSite:latency_average")
    assert series.height == 5 and series["value"].null_count() == 1
