"""Log templates (rcakit.detect.logs) on a synthetic incident: masking, new and error templates, TF-IDF, miner state."""

from __future__ import annotations

import polars as pl
import pytest

from rcakit.detect.logs import LogTemplateMiner, analyze_logs, mask_messages, prepare_logs, template_counts
from rcakit.errors import DataError

from ._synth import STEP, T0


def test_masks_ids_numbers_ips_hex_and_uuids() -> None:
    frame = pl.DataFrame({"m": ["user 42 from 10.1.2.3:8080 req 123e4567-e89b-12d3-a456-426614174000 "
                                "span 04ba577c01a08838 addr 0xdeadbeef took 3.5 ms"]})
    masked = frame.select(mask_messages(pl.col("m"))).item()
    assert masked == "user <NUM> from <IP> req <UUID> span <HEX> addr <HEX> took <NUM> ms"


def test_json_wrapped_lines_are_unwrapped_and_levels_found() -> None:
    logs = pl.DataFrame({"message": ['{"log":"12:00:01.5 ERROR c.Foo#12 boom\\n","stream":"stdout"}', "plain INFO line"],
                         "level": [None, None]}, schema={"message": pl.String, "level": pl.String})
    prepared = prepare_logs(logs)
    assert prepared.get_column("message").to_list() == ["12:00:01.5 ERROR c.Foo#12 boom", "plain INFO line"]
    assert prepared.get_column("level").to_list() == ["ERROR", "INFO"]


def test_templates_new_and_error_flags_and_tfidf(incident) -> None:
    analysis = analyze_logs(incident)
    templates = analysis.templates
    assert templates.height >= 3
    new = analysis.new_templates()
    assert new.height == 1 and "connection pool exhausted" in new.get_column("example")[0]
    assert new.get_column("is_error")[0]
    assert new.get_column("entities")[0].to_list() == ["db"]
    # db logs two templates in the incident (routine query, new error), both only its own: both rank high
    top = analysis.top_templates("db", 2).get_column("template_id").to_list()
    assert new.get_column("template_id")[0] in top
    api_top = analysis.top_templates("api", 5).get_column("template_id").to_list()
    assert new.get_column("template_id")[0] not in api_top
    keywords = analysis.top_keywords("db", 5).get_column("keyword").to_list()
    assert {"connection", "pool", "exhausted"} & set(keywords)
    lines = analysis.describe()
    assert any("new and error" in line and "db" in line for line in lines)
    assert "LogAnalysis" in analysis._repr_html_()


def test_template_counts_per_entity_per_bin(incident) -> None:
    analysis = analyze_logs(incident, freq="5m")
    counts = analysis.counts
    per_bin = counts.group_by("time").agg(pl.col("count").sum()).sort("time")
    assert per_bin.height == 12  # 60 minutes in 5-minute bins
    assert counts.get_column("count").sum() == analysis.lines.height
    direct = template_counts(analysis.lines.select("time", "entity", "template_id"), "10m")
    assert direct.get_column("count").sum() == analysis.lines.height


def test_miner_state_saves_and_loads(tmp_path, incident) -> None:
    miner = LogTemplateMiner()
    mined = miner.fit(incident.telemetry.logs)
    path = miner.save(tmp_path / "templates.json")
    restored = LogTemplateMiner.load(path)
    assert restored.templates().equals(miner.templates())
    again = restored.assign(incident.telemetry.logs)
    assert again.get_column("template_id").to_list() == mined.get_column("template_id").to_list()
    unseen = restored.assign(pl.DataFrame({"message": ["completely different words here"]}))
    assert unseen.get_column("template_id").to_list() == [-1]
    with pytest.raises(DataError, match="no log-template state"):
        LogTemplateMiner.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(DataError, match="not JSON"):
        LogTemplateMiner.load(tmp_path / "bad.json")


def test_logs_without_lines_in_either_window_is_a_data_error(incident) -> None:
    far = (T0 + 1000 * STEP, T0 + 1001 * STEP)
    with pytest.raises(DataError, match="no log lines"):
        analyze_logs(incident.telemetry, baseline_window=far, incident_window=(T0 + 1002 * STEP, T0 + 1003 * STEP))
