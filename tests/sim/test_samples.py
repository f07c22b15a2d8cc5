"""The committed sample incidents load through the public loader and match their generator."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

import rcakit
from rcakit.sim.samples import SAMPLES, compare, default_folder, generate

ROOT = default_folder()


@pytest.mark.parametrize("name", [s.name for s in SAMPLES])
def test_sample_incident_loads_with_truth(name: str) -> None:
    incident = rcakit.load_incident(ROOT / name)
    assert incident.name == name
    assert incident.alarm in {"Client:latency", "Client:error_rate"}
    assert incident.truth is not None and incident.truth.fault_type
    assert incident.truth.graph is not None and incident.truth.graph.number_of_edges() > 10
    assert incident.system is not None and incident.system["atlas_version"] == 1
    base, abnormal = incident.aligned("10s", "mean")
    assert base.frame.height >= 90 and abnormal.frame.height == 60
    # the alarm fires: the alarm node is higher during the incident than before it
    before = base.frame.get_column(incident.alarm).mean()
    during = abnormal.frame.get_column(incident.alarm).mean()
    assert during > 1.1 * before + 1e-3  # type: ignore[operator]
    # the root cause is an observed node, or an entity whose hidden node the truth says is hidden
    observed = set(incident.telemetry.nodes())
    for node in incident.truth.root_cause_nodes:
        assert node in observed or node in incident.meta["hidden_nodes"]


def test_multimodal_sample_has_logs_and_traces() -> None:
    incident = rcakit.load_incident(ROOT / "sim-M-multimodal")
    tel = incident.telemetry
    assert set(tel.modalities) == {"metrics", "logs", "spans"}
    throttled = tel.logs.filter(pl.col("message").str.contains("throttled"))
    assert set(throttled.get_column("entity").unique().to_list()) == {"GPU_2"}
    assert "GPU_2:power" not in tel.nodes()        # the cause is unobserved in the metrics ...
    assert incident.truth is not None and incident.truth.root_cause_entities == ("GPU_2",)
    spans = incident.abnormal().spans.filter(pl.col("operation") == "infer")
    slow = spans.group_by("entity").agg(pl.col("duration").mean()).sort("duration", descending=True)
    assert slow.get_column("entity")[0] == "ModelInference_2"   # ... but the traces show where


def test_samples_are_small() -> None:
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    assert 0 < total < 2 * 1024 * 1024


@pytest.mark.slow
def test_samples_regenerate_the_same_data(tmp_path: Path) -> None:
    generate(tmp_path)
    differences, _last_bits = compare(tmp_path, ROOT)
    assert differences == []


def test_compare_tells_rounding_from_a_change(tmp_path: Path) -> None:
    shutil.copytree(ROOT, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "sim-S-batch-size" / "metrics.parquet"
    table = pl.read_parquet(path)
    value = table.get_column("value")
    assert compare(tmp_path, ROOT) == ([], [])
    # the last bit of one value: the same data
    table.with_columns(value.scatter(5, value[5] * (1 + 2e-16))).write_parquet(path)
    differences, last_bits = compare(tmp_path, ROOT)
    assert differences == [] and last_bits and "1 float value(s)" in last_bits[0]
    # a real change of one value, and of one entity name: reported with the file, column and row
    table.with_columns(value.scatter(7, value[7] * 1.001)).write_parquet(path)
    differences, _ = compare(tmp_path, ROOT)
    assert differences and "sim-S-batch-size/metrics.parquet" in differences[0] and "'value'" in differences[0]
    assert "row 7" in differences[0]
    table.with_columns(table.get_column("entity").scatter(3, "Elsewhere")).write_parquet(path)
    differences, _ = compare(tmp_path, ROOT)
    assert "'entity'" in differences[0] and "row 3" in differences[0]
