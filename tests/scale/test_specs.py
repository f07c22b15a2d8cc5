"""Incident specs, the task runner and window splitting, without a cluster."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from rcakit.scale import IncidentSpec, TaskRunner, featurize_many, run_incident, split_window
from rcakit.telemetry import load_incident
from rcakit.telemetry.window import TimeWindow


def test_a_folder_spec_loads_the_saved_incident(tmp_path: Path) -> None:
    from rcakit.sim import families

    incident = families.family_incident("pipeline", "cpu", seed=5)
    incident.save(tmp_path / "inc")
    spec = IncidentSpec.folder(tmp_path / "inc")
    loaded = spec.load()
    assert spec.name == "inc" and loaded.name == load_incident(tmp_path / "inc").name
    assert loaded.telemetry.spans.equals(load_incident(tmp_path / "inc").telemetry.spans)
    outcome = run_incident(spec)
    assert outcome["status"] == "ok" and outcome["truth"] == list(incident.truth.root_cause_entities)
    assert outcome["rows"]["spans"] == incident.telemetry.spans.height and outcome["report"].startswith("#")


def test_file_names_are_safe_and_keys_follow_the_recipe() -> None:
    a = IncidentSpec("checkout/INC 7", "rcakit.telemetry.incident_io:load_incident", {"folder": "x"})
    b = IncidentSpec("checkout_INC_7", "rcakit.telemetry.incident_io:load_incident", {"folder": "x"})
    assert a.filename != b.filename and "/" not in a.filename and b.filename == "checkout_INC_7.json"
    c = IncidentSpec("checkout_INC_7", "rcakit.telemetry.incident_io:load_incident", {"folder": "y"})
    assert b.key != c.key and b.key == IncidentSpec(b.name, b.loader, dict(b.kwargs)).key
    with pytest.raises(ValueError, match="module:function"):
        IncidentSpec("x", "load_incident")
    with pytest.raises(ValueError, match="no function 'nothing'"):
        IncidentSpec("x", "rcakit.telemetry:nothing").load()


def test_split_window_covers_the_window() -> None:
    parts = split_window(("2026-01-05T00:00Z", "2026-01-05T05:30Z"), "2h")
    assert [p.duration for p in parts] == [timedelta(hours=2), timedelta(hours=2), timedelta(hours=1.5)]
    assert parts[0].start == TimeWindow.of(("2026-01-05T00:00Z", "2026-01-05T01:00Z")).start
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))


def test_serial_runner_runs_each_call_when_its_result_is_asked(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[int] = []

    def work(x: int) -> int:
        calls.append(x)
        print(f"working on {x}")
        return x * 2

    with TaskRunner() as runner:
        assert runner.serial
        first, second = runner.submit(work, 1), runner.submit(work, x=2)
        assert calls == []
        assert second.result() == 4 and calls == [2]
        assert first.result() == 2 and first.result() == 2 and calls == [2, 1]
    assert capsys.readouterr().out == "working on 2\nworking on 1\n"


def test_featurize_many_serial_equals_entity_features(tmp_path: Path) -> None:
    from rcakit.bench.scale import write_store
    from rcakit.detect.features import entity_features
    from rcakit.telemetry.loaders.lazy import TelemetryStore

    root = write_store(tmp_path / "store", 60_000, n_faults=1)
    windows = split_window(("2026-01-05T00:10Z", "2026-01-05T00:40Z"), "15min")
    got = featurize_many(root, windows, serial=True, entities=["svc-00", "svc-01"], freq="1m")
    store = TelemetryStore.open(root)
    for window, tables in zip(windows, got, strict=True):
        want = entity_features(store.incident(window, ["svc-00", "svc-01"]), window=window, freq="1m")
        assert sorted(tables) == sorted(want) == ["svc-00", "svc-01"]
        assert all(tables[e].equals(want[e]) and tables[e].height == 15 for e in want)
