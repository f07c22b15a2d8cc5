"""analyze_many and featurize_many: the same answers on a LocalCluster of 2 workers as in one process;
results kept per incident, reruns resume, failures (an exception, a dying worker) named."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rcakit.errors import DataError, MissingDependencyError
from rcakit.scale import BatchError, IncidentSpec, analyze_many, featurize_many, split_window
from rcakit.telemetry import Incident


def sim_incident(fault: str, seed: int) -> Incident:
    """A simulator incident, built on the worker from two small arguments."""
    from rcakit.sim import ErrorBurst, GpuThrottle, Topology, WorkloadSpike, make_incident

    faults = {"gpu": GpuThrottle("GPU_0", duration="10min"), "spike": WorkloadSpike(duration="10min"),
              "errors": ErrorBurst("ModelInference_0", duration="10min")}
    return make_incident(Topology.small(), faults[fault], seed=seed, baseline="30min")


def family_incident(family: str, fault: str, seed: int) -> Incident:
    from rcakit.sim import families

    return families.family_incident(family, fault, seed=seed)


def dies_while(marker: str, fault: str, seed: int) -> Incident:
    """Kills the process that runs it (as an out-of-memory kill would) while ``marker`` exists."""
    if Path(marker).exists():
        os._exit(3)
    return sim_incident(fault, seed)


def fails(path: str) -> Incident:
    raise DataError("no such file", source=path, hint="Check the path")


SPECS = [
    IncidentSpec.call(sim_incident, name="gpu-1", fault="gpu", seed=1),
    IncidentSpec.call(sim_incident, name="spike-2", fault="spike", seed=2),
    IncidentSpec.call(sim_incident, name="errors-3", fault="errors", seed=3),
    IncidentSpec.call(family_incident, name="webshop-cpu", family="webshop", fault="cpu", seed=3),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _same_rankings(a: Any, b: Any) -> None:
    for name in ("ranking", "entities", "services", "fused"):
        left, right = getattr(a, name), getattr(b, name)
        assert [n for n, _ in left] == [n for n, _ in right], f"{a.name}: {name} differs"
        for (_, x), (_, y) in zip(left, right, strict=True):
            assert x == pytest.approx(y, rel=1e-9, abs=1e-12, nan_ok=True), f"{a.name}: {name} scores differ"
    assert (a.top_cause, a.top_entity, a.fault_type, a.truth_rank) == (b.top_cause, b.top_entity, b.fault_type,
                                                                     b.truth_rank)


@pytest.mark.slow
def test_dask_rankings_equal_the_single_process_path(client: Any, tmp_path: Path) -> None:
    from rcakit.pipeline import analyze

    on_dask = analyze_many(SPECS, client=client, results=tmp_path / "results")
    serial = analyze_many(SPECS, serial=True)
    assert [o.name for o in on_dask.outcomes] == [s.name for s in SPECS]
    assert all(o.ok for o in on_dask.outcomes) and not on_dask.resumed
    for a, b in zip(on_dask.outcomes, serial.outcomes, strict=True):
        _same_rankings(a, b)
        assert a.ranking and a.worker != b.worker
    # and the plain single-process call, on the incident built here
    direct = analyze(sim_incident("gpu", 1), llm=None)
    assert [c.node for c in direct.attribution.causes] == [n for n, _ in on_dask["gpu-1"].ranking]
    assert [e for e, _ in direct.fused.entities] == [n for n, _ in on_dask["gpu-1"].fused]
    assert on_dask["webshop-cpu"].services and on_dask["webshop-cpu"].rows["spans"] > 0
    # one JSON per incident, readable without rcakit
    files = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert files == sorted(s.filename for s in SPECS)
    saved = json.loads((tmp_path / "results" / "gpu-1.json").read_text())
    assert saved["status"] == "ok" and saved["ranking"][0][0] == on_dask["gpu-1"].top_cause


@pytest.mark.slow
def test_incidents_read_lazily_from_a_store_on_workers(client: Any, tmp_path: Path) -> None:
    from rcakit.bench.scale import read_manifest, write_store

    root = write_store(tmp_path / "store", 200_000, n_faults=3, seed=3)
    _, faults = read_manifest(root)
    specs = [IncidentSpec.store(root, name=f"fault-{i}", baseline=f.baseline, window=(f.start, f.end),
                                alarm="svc-00:latency", truth={"root_cause_entities": [f.service]})
             for i, f in enumerate(faults)]
    on_dask = analyze_many(specs, client=client)
    serial = analyze_many(specs, serial=True)
    for a, b in zip(on_dask.outcomes, serial.outcomes, strict=True):
        _same_rankings(a, b)
        assert a.rows["spans"] > 10_000
    # featurization of windows of the store, one window per task, equals entity_features window by window
    windows = split_window((faults[0].baseline[0], faults[0].end), "20min")
    tables = featurize_many(root, windows, client=client, entities=["svc-00", faults[0].service])
    alone = featurize_many(root, windows, serial=True, entities=["svc-00", faults[0].service])
    assert len(tables) == len(windows) == 2
    for got, want in zip(tables, alone, strict=True):
        assert sorted(got) == sorted(want) == sorted(["svc-00", faults[0].service])
        for entity in got:
            assert got[entity].equals(want[entity])
            assert "trace.latency_mean" in got[entity].columns and "log.lines" in got[entity].columns


@pytest.mark.slow
def test_a_rerun_skips_finished_incidents(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    specs = SPECS[:2]
    first = analyze_many(specs, serial=True, results=folder)
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = analyze_many(specs, serial=True, results=folder)
    assert [o.name for o in again.resumed] == ["gpu-1", "spike-2"]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps  # nothing rewritten
    for a, b in zip(first.outcomes, again.outcomes, strict=True):
        _same_rankings(a, b)
    # a changed recipe under the same name is analysed again; resume=False redoes everything
    changed = [IncidentSpec.call(sim_incident, name="gpu-1", fault="gpu", seed=4), specs[1]]
    third = analyze_many(changed, serial=True, results=folder)
    assert [o.name for o in third.resumed] == ["spike-2"]
    assert not analyze_many(specs[:1], serial=True, results=folder, resume=False).resumed


def test_a_failing_incident_is_named_and_the_others_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    specs = [SPECS[0], IncidentSpec.call(fails, name="broken/one", path="/data/missing.parquet")]
    with pytest.raises(BatchError, match=r"1 of 2 incidents failed.*broken/one: DataError: no such file") as info:
        analyze_many(specs, serial=True, results=folder)
    assert "/data/missing.parquet" in str(info.value) and str(folder) in str(info.value)
    result = info.value.result
    assert [o.name for o in result.ok] == ["gpu-1"] and (folder / "gpu-1.json").is_file()
    assert "Traceback" in (result["broken/one"].error or "")
    kept = analyze_many(specs, serial=True, results=folder, errors="keep")
    assert [o.name for o in kept.resumed] == ["gpu-1"] and [o.name for o in kept.failed] == ["broken/one"]
    assert kept.to_frame().height == 2 and "broken/one" in kept._repr_html_()


@pytest.mark.slow
def test_a_worker_that_dies_mid_batch(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    import dask

    marker = tmp_path / "die"
    marker.write_text("")
    specs = [SPECS[0], IncidentSpec.call(dies_while, name="killer", marker=str(marker), fault="spike", seed=2),
             SPECS[2]]
    folder = tmp_path / "results"
    # a task is declared lost after its worker died twice under it (the default is 4 times)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.scheduler.worker-saturation": 1.0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
        client = distributed.Client(cluster)
        try:
            with pytest.raises(BatchError, match="the worker analysing incident 'killer' died") as info:
                analyze_many(specs, client=client, results=folder)
            result = info.value.result
            assert sorted(o.name for o in result.ok) == ["errors-3", "gpu-1"]
            stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.name != "killer.json"}
            assert sorted(stamps) == ["errors-3.json", "gpu-1.json"]
            failed = json.loads((folder / "killer.json").read_text())  # kept too, to read why
            assert failed["status"] == "failed" and "died" in failed["error"]
            # the cause is gone: the same call resumes with the incident that did not finish
            marker.unlink()
            again = analyze_many(specs, client=client, results=folder)
        finally:
            client.close()
            cluster.close()
    assert sorted(o.name for o in again.resumed) == ["errors-3", "gpu-1"]
    assert again["killer"].ok and not again["killer"].resumed
    assert stamps == {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.name != "killer.json"}


def test_names_must_be_unique_and_specs_checked() -> None:
    with pytest.raises(ValueError, match="share the name 'gpu-1'"):
        analyze_many([SPECS[0], SPECS[0]], serial=True)
    with pytest.raises(TypeError, match="IncidentSpec"):
        analyze_many(["incident-folder"], serial=True)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="non-empty name"):
        IncidentSpec.call(sim_incident, name=" ")


def test_without_dask_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from rcakit.scale._dask import require_distributed

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match=r"pip install rcakit\[dask\]"):
        require_distributed()
    with pytest.raises(ImportError, match=r"rcakit\[dask\]"):
        analyze_many(SPECS[:1])
