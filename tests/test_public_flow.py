"""The whole flow through ``rcakit.<name>`` alone, as the package docstring shows it."""

from __future__ import annotations

from pathlib import Path

import rcakit


def test_the_flow_from_the_top_level_names_finds_the_injected_root_cause(tmp_path: Path) -> None:
    incident = rcakit.sample_incident("sim-M-network")
    truth = set(incident.truth.root_cause_entities)
    anomalies = rcakit.detect_anomalies(incident)
    assert len(anomalies.entity_ranking()) > 0
    draft = rcakit.draft_graph(incident)
    session = rcakit.ReviewSession(draft, path=tmp_path / "review.json")
    result = rcakit.attribute(session.draft, incident)
    top = [rcakit.split_node(cause.node)[0] for cause in result.top(3)]
    assert truth & set(top), f"injected {truth} not in the top 3 {top}"
    report = rcakit.write_report(incident, attribution=result, draft=session.draft)
    assert any(entity in report.to_markdown() for entity in truth)
