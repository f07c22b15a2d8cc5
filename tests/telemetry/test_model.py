"""The telemetry model: coercions reported, windows, alignment with gaps, merge, incidents on disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest

from rcakit import DataError, Incident, Telemetry, load_incident
from rcakit.telemetry import GroundTruth, TimeWindow, node_name, split_node


def _metrics(n: int = 60, start: str = "2024-01-01T00:00:00Z") -> pl.DataFrame:
    t0 = datetime.fromisoformat(start.replace("Z", "+00:00"))
    times = [t0 + timedelta(minutes=i) for i in range(n)]
    return pl.DataFrame({
        "time": times * 2,
        "entity": ["api"] * n + ["db"] * n,
        "metric": ["latency"] * n + ["cpu"] * n,
        "value": list(np.arange(n, dtype=float)) + list(np.ones(n)),
    })


def test_node_names_round_trip_and_metric_may_hold_colons() -> None:
    assert node_name("PetSite", "latency") == "PetSite:latency"
    assert split_node("job:http:rate5m") == ("job", "http:rate5m")
    with pytest.raises(DataError, match="entity:metric"):
        split_node("no-colon")


def test_pandas_in_pandas_out_with_utc_times() -> None:
    tel = Telemetry(_metrics().to_pandas())
    out = tel.to_pandas("metrics")
    assert isinstance(out, pd.DataFrame)
    assert str(out["time"].dt.tz) == "UTC"
    assert tel.nodes() == ["api:latency", "db:cpu"]
    assert tel.entities() == ["api", "db"]


def test_every_coercion_is_reported_and_no_row_is_dropped() -> None:
    df = pl.DataFrame({
        "time": ["2024-01-01 00:02:00", "2024-01-01 00:00:00", "2024-01-01 00:01:00", "2024-01-01 00:03:00"],
        "entity": ["a", "a", "a", "host:8080"],
        "metric": ["m"] * 4,
        "value": ["1.5", "oops", "inf", "2"],
    })
    tel = Telemetry(df, source="x.csv")
    assert tel.metrics.height == 4
    actions = " | ".join(c.action for c in tel.report)
    assert "naive" in actions and "non-numbers" in actions and "infinite" in actions
    assert "sorted" in actions and "':'" in actions
    assert tel.report.rows_dropped == 0
    assert tel.metrics.get_column("value").null_count() == 2
    assert "host_8080" in tel.entities()


def test_epoch_units_are_recognised_from_magnitude() -> None:
    base = 1_675_079_501
    for factor, unit in ((1, "s"), (1000, "ms"), (1_000_000, "us"), (1_000_000_000, "ns")):
        tel = Telemetry(pl.DataFrame({"time": [base * factor], "entity": ["a"], "metric": ["m"], "value": [1.0]}))
        assert tel.metrics.get_column("time")[0] == datetime.fromtimestamp(base, tz=UTC)
        assert any(f"epoch {unit}" in c.action for c in tel.report)


def test_missing_column_names_the_column_and_what_exists() -> None:
    with pytest.raises(DataError) as err:
        Telemetry(pl.DataFrame({"timestamp": [1], "entity": ["a"], "metric": ["m"], "value": [1.0]}), source="m.csv")
    assert err.value.column == "time" and "m.csv" in str(err.value) and "timestamp" in str(err.value)


def test_window_is_half_open_and_slices_every_modality() -> None:
    tel = Telemetry(_metrics())
    part = tel.window("2024-01-01T00:10:00Z", "2024-01-01T00:20:00Z")
    assert part.metrics.height == 20
    assert part.metrics.get_column("time").max() == datetime(2024, 1, 1, 0, 19, tzinfo=UTC)


def test_align_reports_gaps_instead_of_hiding_them() -> None:
    df = _metrics().filter(~((pl.col("entity") == "db") & pl.col("time").dt.minute().is_between(20, 24)))
    tel = Telemetry(df)
    aligned = tel.align("1m", "mean")
    assert aligned.frame.height == 60
    gaps = aligned.gaps.filter(pl.col("node") == "db:cpu")
    assert gaps.height == 1 and gaps.get_column("steps")[0] == 5
    assert aligned.frame.get_column("db:cpu").null_count() == 5
    filled = tel.align("1m", "mean", fill="ffill")
    assert filled.filled == {"db:cpu": 5}
    assert filled.frame.get_column("db:cpu").null_count() == 0


def test_align_aggregation_is_explicit_and_per_metric() -> None:
    tel = Telemetry(_metrics())
    five = tel.align("5m", {"latency": "max", "*": "sum"})
    assert five.frame.get_column("api:latency").to_list()[:2] == [4.0, 9.0]
    assert five.frame.get_column("db:cpu").to_list()[:2] == [5.0, 5.0]
    with pytest.raises(DataError, match="aggregation"):
        tel.align("5m", "average")


def test_merge_combines_sources() -> None:
    a = Telemetry(_metrics())
    logs = pl.DataFrame({"time": [datetime(2024, 1, 1, 0, 5, tzinfo=UTC)], "entity": ["api"], "message": ["boom"],
                         "level": ["error"]})
    b = Telemetry(logs=logs)
    both = a.merge(b)
    assert both.metrics.height == a.metrics.height and both.logs.height == 1
    assert both.logs.get_column("level")[0] == "ERROR"
    assert both.modalities == ["metrics", "logs"]


def test_spans_get_duration_roots_and_error_flags() -> None:
    spans = pl.DataFrame({
        "trace_id": ["t", "t"], "span_id": ["1", "2"], "parent_id": ["root", "1"], "entity": ["gw", "svc"],
        "operation": ["GET /", "q"], "start": [1_675_079_501_000_000_000, 1_675_079_501_100_000_000],
        "end": [1_675_079_501_500_000_000, 1_675_079_501_300_000_000], "status": ["OK", "ERROR"],
    })
    tel = Telemetry(spans=spans)
    s = tel.spans
    assert s.get_column("parent_id").to_list() == [None, "1"]
    assert s.get_column("duration").to_list() == pytest.approx([0.5, 0.2])
    assert s.get_column("error").to_list() == [False, True]


def test_incident_checks_alarm_and_round_trips_through_its_folder(tmp_path) -> None:
    tel = Telemetry(_metrics())
    truth = GroundTruth(root_cause_nodes=("db:cpu",), fault_type="cpu")
    truth.graph = __import__("networkx").DiGraph([("db:cpu", "api:latency")])
    with pytest.raises(DataError, match="api:latency"):
        Incident(tel, ("2024-01-01T00:00Z", "2024-01-01T00:30Z"), ("2024-01-01T00:30Z", "2024-01-01T01:00Z"),
                 alarm="api:latncy")
    inc = Incident(tel, ("2024-01-01T00:00Z", "2024-01-01T00:30Z"), ("2024-01-01T00:30Z", "2024-01-01T01:00Z"),
                   alarm="api:latency", truth=truth, name="t1")
    assert inc.root_cause_entities == ("db",)
    base, abnormal = inc.aligned("1m", "mean")
    assert base.frame.height == 30 and abnormal.frame.height == 30 and base.nodes == abnormal.nodes
    for fmt in ("parquet", "csv"):
        folder = inc.save(tmp_path / fmt, fmt=fmt)
        back = load_incident(folder)
        assert back.alarm == "api:latency" and back.truth.fault_type == "cpu"
        assert list(back.truth.graph.edges()) == [("db:cpu", "api:latency")]
        assert back.telemetry.metrics.equals(inc.telemetry.metrics)
        assert back.incident_window == inc.incident_window


def test_windows_reject_reversed_bounds() -> None:
    with pytest.raises(DataError, match="end after it starts"):
        TimeWindow("2024-01-02", "2024-01-01")


def test_incident_fields_for_reference_call_graph_and_placement_survive_save_and_old_files(tmp_path) -> None:
    """The typed fields round-trip through an incident folder, and a file that kept them in meta still loads."""
    import json

    tel = Telemetry(pl.DataFrame({"time": ["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"],
                                  "entity": ["web"] * 3, "metric": ["latency"] * 3, "value": [1.0, 2.0, 3.0]}))
    incident = Incident(tel, ("2024-01-01T00:00:00Z", "2024-01-01T00:01:30Z"),
                        ("2024-01-01T00:01:30Z", "2024-01-01T00:03:00Z"), alarm="web:latency",
                        reference_window=("2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"),
                        call_graph=[["web", "api"]], placement={"api": "node_1"})
    assert incident.call_graph == (("web", "api"),) and incident.placement == {"api": ("node_1",)}
    back = load_incident(incident.save(tmp_path / "inc"))
    assert back.reference_window == incident.reference_window
    assert back.call_graph == incident.call_graph and back.placement == incident.placement
    doc = json.loads((tmp_path / "inc" / "incident.json").read_text())
    doc["meta"] = {"call_graph": doc.pop("call_graph"), "placement": doc.pop("placement"),
                   "reference_window": doc.pop("reference_window")}
    (tmp_path / "inc" / "incident.json").write_text(json.dumps(doc))
    old = load_incident(tmp_path / "inc")
    assert old.call_graph == (("web", "api"),) and old.reference_window == incident.reference_window
    assert old.placement == {"api": ("node_1",)} and "call_graph" not in old.meta
    with pytest.raises(DataError, match="not a \\(caller, callee\\) pair"):
        Incident(tel, incident.baseline_window, incident.incident_window, call_graph=["web"])
