from __future__ import annotations

import json

import networkx as nx
import pandas as pd
import pytest

from rcakit.errors import DataError
from rcakit.integrations.petshop import analyze_root_causes


def _scenario(petshop_dir):
    folder = petshop_dir / "dataset" / "low_traffic"
    graph = nx.from_pandas_adjacency(pd.read_csv(folder / "graph.csv", index_col=0), create_using=nx.DiGraph)
    normal = pd.read_csv(folder / "noissue" / "metrics.csv", header=[0, 1, 2], index_col=0)
    return folder, graph, normal


def _issue(folder, split, name):
    target = json.loads((folder / split / name / "target.json").read_text())
    abnormal = pd.read_csv(folder / split / name / "metrics.csv", header=[0, 1, 2], index_col=0)
    return target, abnormal


def test_one_issue_in_petshop_shape_ranks_the_true_component_first(petshop_dir) -> None:
    folder, graph, normal = _scenario(petshop_dir)
    target, abnormal = _issue(folder, "test", "issue_2")
    t = target["target"]
    found = analyze_root_causes(graph, t["node"], t["metric"], t["agg"], normal, abnormal)
    best = max(found, key=lambda c: c.score)
    assert best.node == target["root_cause"]["node"]
    assert best.metric == "latency"


def test_no_issue_gives_an_empty_list(petshop_dir) -> None:
    _, graph, normal = _scenario(petshop_dir)
    half = len(normal) // 2
    found = analyze_root_causes(graph, "PetSite", "latency", "Average", normal.iloc[:half], normal.iloc[half:half + 5])
    assert isinstance(found, list)


def test_wrong_header_is_a_clear_error(petshop_dir) -> None:
    _, graph, normal = _scenario(petshop_dir)
    flat = normal.copy()
    flat.columns = ["/".join(c) for c in flat.columns]
    with pytest.raises(DataError, match="3"):
        analyze_root_causes(graph, "PetSite", "latency", "Average", flat, flat)


@pytest.mark.slow
def test_petshop_low_traffic_top1_beats_the_best_peer(petshop_dir) -> None:
    folder, graph, normal = _scenario(petshop_dir)
    hits: dict[str, list[bool]] = {}
    for split in ("train", "test"):
        for issue in sorted(p.name for p in (folder / split).iterdir()):
            target, abnormal = _issue(folder, split, issue)
            t = target["target"]
            found = sorted(analyze_root_causes(graph, t["node"], t["metric"], t["agg"], normal, abnormal),
                           key=lambda c: -c.score)
            hits.setdefault(t["metric"], []).append(bool(found) and found[0].node == target["root_cause"]["node"])
    assert sum(hits["latency"]) / len(hits["latency"]) > 0.57  # best peer: graph traversal
    assert sum(hits["availability"]) / len(hits["availability"]) > 0.75  # best peer: ranked correlation
