"""Multimodal features per entity (rcakit.detect.features) on a synthetic incident."""

from __future__ import annotations

import polars as pl

from rcakit.detect.features import entity_features, feature_table

from ._synth import STEP, T0


def test_entity_features_align_all_modalities(incident) -> None:
    tables = entity_features(incident, freq="1m")
    assert set(tables) == {"frontend", "api", "db", "cache"}
    db = tables["db"]
    assert db.height == 60 and db.get_column("time").is_sorted()
    assert {"cpu", "latency", "log.lines", "log.errors", "log.new_templates", "trace.latency_mean",
            "trace.calls"} <= set(db.columns)
    assert all(t.height == 60 for t in tables.values())
    assert db.filter(pl.col("time") < T0 + 40 * STEP).get_column("log.errors").sum() == 0
    assert db.filter(pl.col("time") >= T0 + 40 * STEP).get_column("log.errors").sum() > 0
    assert db.get_column("trace.calls").sum() == 600
    # cache has spans only in the incident: its call count is 0 where traces were observed, not null
    assert tables["cache"].get_column("trace.calls").null_count() == 0
    long = feature_table(incident, freq="1m")
    assert set(long.columns) == {"time", "entity", "feature", "value"}
