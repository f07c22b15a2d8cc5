"""ReportPanel driven through its public methods (no browser)."""

from __future__ import annotations

from rcakit.report import Cause, ReportFacts, template_report
from rcakit.ui import ReportPanel


def _report(name: str = "inc<1>") -> object:
    facts = ReportFacts(incident=name, alarm="a:latency", baseline_window="b", incident_window="i",
                        modalities_present=["metrics"], causes=[Cause("db:cpu", 1.0, entity="db")])
    return template_report(facts)


def test_panel_shows_escaped_report_saves_and_rewrites(tmp_path) -> None:
    calls = []

    def rewrite():
        calls.append(1)
        return _report("second")

    panel = ReportPanel(_report(), rewrite=rewrite, folder=tmp_path)
    assert "db:cpu" in panel.body.value and "inc<1>" not in panel.body.value
    html_path = panel.save("html")
    md_path = panel.save("md")
    assert html_path.exists() and md_path.read_text().startswith("# Incident report")
    panel.rewrite_button.click()
    assert calls == [1] and "second" in panel.body.value


def test_panel_shows_each_chart_as_a_plotly_output() -> None:
    from pathlib import Path

    from rcakit import analyze, load_incident

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "sim-S-gpu-throttle"
    report = analyze(load_incident(sample), llm=None).report
    panel = ReportPanel(report)
    kinds = [out.outputs[0]["data"]["application/vnd.plotly.v1+json"]["layout"]["title"]["text"]
             for out in panel.charts.children]
    assert len(kinds) == 3 and kinds[0].startswith("Anomalous series") and kinds[2].startswith("Root-cause scores")
    assert "Plotly.newPlot" not in panel.body.value, "no script in an HTML widget (it would not run)"
    assert "3 charts" in panel.status.value
