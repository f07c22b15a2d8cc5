"""The incident's story: observations, reasoning, root cause, fault type, repair and prevention.

``write_report(incident, attribution=..., ...)`` gathers the facts once and hands them to the LLM expert
when an endpoint is configured, or to the offline template otherwise; the report says which wrote it.
"""

from rcakit.report.document import Report, md_escape
from rcakit.report.expert import expert_messages, expert_report, write_report
from rcakit.report.facts import Cause, ReportFacts
from rcakit.report.gather import gather_facts
from rcakit.report.template import FAULT_PLAYBOOK, template_report

__all__ = [
    "FAULT_PLAYBOOK",
    "Cause",
    "Report",
    "ReportFacts",
    "expert_messages",
    "expert_report",
    "gather_facts",
    "md_escape",
    "template_report",
    "write_report",
]
