"""The offline report: its structure, its confidence statement, and escaping of hostile names."""

from __future__ import annotations

from rcakit.report import Cause, ReportFacts, template_report


def _facts(**kw) -> ReportFacts:
    base = dict(
        incident="checkout slow", alarm="frontend:latency_p90", baseline_window="b", incident_window="i",
        modalities_present=["metrics", "logs", "traces"],
        causes=[Cause("ts-order-service", 0.8, entity="ts-order-service",
                      path_to_alarm=["ts-order-service:latency", "frontend:latency_p90"]),
                Cause("ts-auth-service", 0.1, entity="ts-auth-service")],
        method="distribution change", fault_type="network_delay",
        symptoms=["ts-order-service latency rose by 320 % (level shift up) from 11:52"],
        log_context=["ERROR timeout calling ts-order-service"],
    )
    base.update(kw)
    return ReportFacts(**base)


def test_template_has_the_story_sections_and_names_the_cause() -> None:
    report = template_report(_facts())
    headings = [h for h, _ in report.sections]
    for needed in ("Observation", "Reasoning", "Final answer", "Root-cause analysis", "Type and level of failure",
                   "Repair", "Prevention", "Data and its limits"):
        assert needed in headings
    assert "ts-order-service" in report.section("Final answer")
    assert "network" in report.section("Repair").lower()
    assert report.facts.confidence() == "high"
    assert report.writer.startswith("template")


def test_every_fault_type_the_classifier_names_gets_its_own_repair() -> None:
    """Each type classify_fault can answer has a playbook, so no report falls back to the generic advice."""
    from rcakit.attribution.faults import FAMILIES

    generic = template_report(_facts(fault_type="unknown")).section("Repair")
    for family, (fault_type, _) in FAMILIES.items():
        repair = template_report(_facts(fault_type=fault_type)).section("Repair")
        assert repair != generic, (family, fault_type)
    assert "volume" in template_report(_facts(fault_type="disk")).section("Repair").lower()
    assert "retransmission" in template_report(_facts(fault_type="packet_loss")).section("Repair").lower()
    assert "pool" in template_report(_facts(fault_type="configuration")).section("Repair").lower()


def test_missing_modalities_lower_confidence_and_are_named() -> None:
    facts = _facts(modalities_present=["metrics"],
                   causes=[Cause("a", 0.5), Cause("b", 0.4)])
    report = template_report(facts)
    limits = report.section("Data and its limits")
    assert "no logs" in limits and "no traces" in limits
    assert facts.confidence() == "low"


def test_hostile_names_and_log_lines_are_shown_not_run(tmp_path) -> None:
    evil = "<script>alert(1)</script>"
    facts = _facts(incident=evil, causes=[Cause(evil, 1.0, entity=evil)], log_context=[f"```\n{evil}"],
                   symptoms=[f"{evil} went up"])
    report = template_report(facts)
    page = report.to_html()
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
    out = report.save(tmp_path / "r.html")
    assert "<script>alert" not in out.read_text()
    md = report.save(tmp_path / "r.md").read_text()
    assert md.startswith("# Incident report")


def test_failure_level_comes_from_the_call_structure_not_from_names() -> None:
    entry = template_report(_facts(alarm="alpha:latency", entry_points=["alpha"])).section("Type and level of failure")
    assert "user-facing" in entry
    called = template_report(_facts(alarm="frontend:latency_p90", entry_points=["edge"])).section(
        "Type and level of failure")
    assert "user-facing" not in called and "other components call" in called
    unknown = template_report(_facts(entry_points=None)).section("Type and level of failure")
    assert "no call structure" in unknown
