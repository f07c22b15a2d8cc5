"""Nezha TrainTicket adapter: facts from ../shared/datasets/nezha-trainticket/SOURCE.txt."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.telemetry.datasets import (
    NEZHA_ALARM,
    load_nezha,
    nezha_days,
    nezha_metric_name,
    nezha_service,
)

pytestmark = pytest.mark.shared
DAY = "2023-01-30"


def test_names() -> None:
    assert nezha_service("ts-contacts-service-866bd68c97-dzqgd") == "ts-contacts-service"
    assert nezha_service("redis-cart-74594bd569-2jb7r") == "redis-cart"
    assert nezha_metric_name("CpuUsageRate(%)") == "cpu_usage_rate"
    assert nezha_metric_name("PodClientLatencyP90(s)") == "pod_client_latency_p90"
    assert nezha_metric_name("NetworkP90(ms)") == "network_p90"
    assert nezha_metric_name("SyscallRead") == "syscall_read"


def _subset(nezha_dir: Path, tmp_path: Path, minutes: tuple[str, ...] = ("11_51", "11_52", "11_53")) -> Path:
    """A small copy (symlinks) of the day: fault list, 3 pod metric files, the frontend, a few minutes."""
    src = nezha_dir / "rca_data" / DAY
    dst = tmp_path / "nezha" / "rca_data" / DAY
    for sub in ("metric", "log", "trace"):
        (dst / sub).mkdir(parents=True)
    fault_list = json.loads((src / f"{DAY}-fault_list.json").read_text())
    (dst / f"{DAY}-fault_list.json").write_text(json.dumps({"11": fault_list["11"][:1]}))
    metric_files = sorted((src / "metric").iterdir())
    keep = [p for p in metric_files if p.name.startswith(("front_service", "ts-contacts-service", "ts-basic-service",
                                                          "ts-gateway-service"))]
    for path in keep:
        os.symlink(path, dst / "metric" / path.name)
    for minute in minutes:
        for sub, kind in (("log", "log"), ("trace", "trace")):
            for path in (src / sub).glob(f"{minute}_{kind}.csv*"):
                os.symlink(path, dst / sub / path.name)
    ref_src = nezha_dir / "construct_data"
    ref_dst = tmp_path / "nezha" / "construct_data"
    shutil.copytree(ref_src, ref_dst, symlinks=True)
    return tmp_path / "nezha"


def test_smoke_one_fault_from_a_subset(nezha_dir: Path, tmp_path: Path) -> None:
    root = _subset(nezha_dir, tmp_path)
    [incident] = load_nezha(root)
    assert incident.truth.root_cause_entities == ("ts-contacts-service",)
    assert incident.truth.fault_type == "network_delay"
    assert incident.alarm == NEZHA_ALARM
    tel = incident.telemetry
    assert set(tel.entities()) >= {"frontend", "ts-contacts-service", "ts-basic-service", "ts-gateway-service"}
    assert "ts-contacts-service:cpu_usage_rate" in tel.nodes()
    assert incident.meta["metric_headers"]["cpu_usage_rate"] == "CpuUsageRate(%)"
    # Logs: JSON unwrapped, levels parsed, pod kept.
    logs = incident.abnormal().logs
    assert logs.height > 1000
    assert not logs.get_column("message").str.starts_with('{"log"').any()
    assert set(logs.get_column("level").drop_nulls().unique()) <= {"INFO", "WARN", "ERROR", "DEBUG"}
    assert logs.get_column("pod").str.starts_with(logs.get_column("entity")).all()
    # Spans: roots have no parent; duration from start/end agrees with upstream microseconds.
    spans = incident.abnormal().spans
    assert spans.height > 1000
    assert spans.get_column("parent_id").null_count() > 0
    ratio = spans.filter(pl.col("duration_us") > 0).select(pl.col("duration") * 1e6 / pl.col("duration_us"))
    assert 0.999 < ratio.to_series().median() < 1.01
    assert incident.meta["span_duration_unit"] == "us"
    # The fault-free reference minute is loaded and named.
    ref = incident.reference_window
    assert ref is not None and ref.start.isoformat().startswith(f"{DAY}T11:3")
    assert tel.window(ref.start, ref.end).spans.height > 0


def test_wrong_folders_name_the_folder(petshop_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetLayoutError) as info:
        load_nezha(petshop_dir)
    assert str(petshop_dir) in str(info.value) and "rca_data" in str(info.value)
    (tmp_path / "rca_data" / DAY / "metric").mkdir(parents=True)
    (tmp_path / "rca_data" / DAY / f"{DAY}-fault_list.json").write_text("{}")
    with pytest.raises(DatasetLayoutError) as info:
        load_nezha(tmp_path)
    assert "log/" in str(info.value) and "trace/" in str(info.value)


def test_unknown_day_lists_the_days(nezha_dir: Path) -> None:
    assert nezha_days(nezha_dir) == [DAY]
    with pytest.raises(DatasetLayoutError, match=DAY):
        load_nezha(nezha_dir, day="2022-08-22")


@pytest.mark.slow
def test_full_day_17_faults(nezha_dir: Path) -> None:
    incidents = load_nezha(nezha_dir)
    assert len(incidents) == 17
    assert Counter(i.truth.fault_type for i in incidents) == {"network_delay": 14, "cpu_contention": 3}
    fault_list = json.loads((nezha_dir / "rca_data" / DAY / f"{DAY}-fault_list.json").read_text())
    expected = sorted(("-".join(f["inject_pod"].split("-")[:-2]), f["inject_type"])
                      for faults in fault_list.values() for f in faults)
    assert sorted((i.truth.root_cause_entities[0], i.truth.fault_type) for i in incidents) == expected
    # One Telemetry shared by the day's incidents, not 17 copies.
    assert len({id(i.telemetry) for i in incidents}) == 1
    tel = incidents[0].telemetry
    assert tel.metrics.get_column("pod").drop_nulls().n_unique() == 46
    assert len(set(tel.metrics.get_column("entity").unique())) == 47  # 46 services + frontend
    assert tel.logs.height > 90_000 and tel.spans.height > 170_000
    for incident in incidents:
        assert incident.incident_window.duration.total_seconds() == 180
        assert incident.baseline_window.end == incident.incident_window.start
        # Each incident window holds the logs and traces of its three minute files.
        abnormal = incident.abnormal()
        assert abnormal.logs.height > 0 and abnormal.spans.height > 0
        assert abnormal.series(NEZHA_ALARM).height == 3
        labels = incident.meta["inner_service_labels"]
        assert incident.meta["inner_service_label"] == labels.get(incident.truth.fault_type)
    cpu = [i for i in incidents if i.truth.fault_type == "cpu_contention"]
    assert all(i.truth.root_cause_nodes == (f"{i.truth.root_cause_entities[0]}:cpu_usage_rate",) for i in cpu)
    # Baselines never reach into the previous fault's incident window.
    for before, after in itertools.pairwise(incidents):
        assert not after.baseline_window.overlaps(before.incident_window)


def test_full_upstream_copy_with_more_days_and_plain_csv(nezha_dir: Path, tmp_path: Path) -> None:
    """Upstream keeps plain .csv files and several days; every day gets its own shared Telemetry."""
    root = _subset(nezha_dir, tmp_path)
    day_dir = root / "rca_data" / DAY
    # Upstream's files are not gzipped: replace one log file by its plain form.
    link = next((day_dir / "log").glob("11_52_log.csv.gz"))
    plain = day_dir / "log" / "11_52_log.csv"
    plain.write_bytes(gzip.decompress(link.read_bytes()))
    link.unlink()
    # A second day: the same files under another date, with its own fault list.
    other = root / "rca_data" / "2023-01-31"
    shutil.copytree(day_dir, other, symlinks=True)
    (other / f"{DAY}-fault_list.json").rename(other / "2023-01-31-fault_list.json")
    assert nezha_days(root) == [DAY, "2023-01-31"]
    incidents = load_nezha(root)
    assert [i.meta["day"] for i in incidents] == [DAY, "2023-01-31"]
    assert incidents[0].telemetry is not incidents[1].telemetry
    assert incidents[0].abnormal().logs.height == incidents[1].abnormal().logs.height > 0
    assert [i.meta["day"] for i in load_nezha(root, day="2023-01-31")] == ["2023-01-31"]


def test_truncated_gzip_names_the_file(nezha_dir: Path, tmp_path: Path) -> None:
    root = _subset(nezha_dir, tmp_path)
    link = next((root / "rca_data" / DAY / "trace").glob("11_53_trace.csv.gz"))
    data = link.read_bytes()
    link.unlink()
    link.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError) as info:
        load_nezha(root)
    assert "11_53_trace.csv.gz" in str(info.value)


def test_fault_list_without_pod_is_named(nezha_dir: Path, tmp_path: Path) -> None:
    root = _subset(nezha_dir, tmp_path)
    path = root / "rca_data" / DAY / f"{DAY}-fault_list.json"
    path.write_text(json.dumps({"11": [{"inject_timestamp": "1675079506", "inject_type": "network_delay"}]}))
    with pytest.raises(DataError, match="inject_pod"):
        load_nezha(root)
