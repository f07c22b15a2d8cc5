"""The facts an incident report is written from, gathered once for the template and the LLM expert alike.

Both writers read the same :class:`ReportFacts`, so an offline template report and an LLM-written one
never disagree on what was observed; only the prose differs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["Cause", "ReportFacts"]

MODALITIES = ("metrics", "logs", "traces")


@dataclass
class Cause:
    """One ranked root-cause candidate."""

    name: str  # an entity, or an entity:metric node
    score: float
    entity: str = ""
    node: str | None = None
    path_to_alarm: list[str] = field(default_factory=list)
    interval: tuple[float, float] | None = None
    unmeasured_via: list[str] = field(default_factory=list)


@dataclass
class ReportFacts:
    """Everything a report states. Gathered by :func:`rcakit.report.gather_facts`."""

    incident: str
    alarm: str | None
    baseline_window: str
    incident_window: str
    modalities_present: list[str]
    causes: list[Cause] = field(default_factory=list)
    method: str = ""
    fault_type: str | None = None
    fault_type_confidence: float | None = None
    fault_type_evidence: list[str] = field(default_factory=list)
    related_entities: list[str] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    architecture: list[str] = field(default_factory=list)
    entry_points: list[str] | None = None  # components nobody calls (from the call structure); None: unknown
    limits: list[str] = field(default_factory=list)  # what the analysis lacked beyond a modality (rcakit.pipeline.coverage)
    log_context: list[str] = field(default_factory=list)
    trace_context: list[str] = field(default_factory=list)
    service_ranking: list[Cause] = field(default_factory=list)
    service_evidence: list[str] = field(default_factory=list)
    graph_lead: str | None = None  # the graph ranking's first cause when the service ranking leads instead
    # "alarm": the graph abstained (its first was the alarm itself, or it had none); "resource": the graph's
    # first runs on the fused first, whose metrics moved; "callee": the traces show the graph's first waiting on
    # the fused first; "fused": the two views together favour another entity
    graph_lead_reason: str = ""
    unmeasured_suspects: list[str] = field(default_factory=list)
    graph_summary: str = ""
    description: str = ""
    truth: JSONObject | None = None

    @property
    def modalities_missing(self) -> list[str]:
        return [m for m in MODALITIES if m not in self.modalities_present]

    @property
    def top(self) -> Cause | None:
        return self.causes[0] if self.causes else None

    def confidence(self) -> str:
        """A plain-language confidence: high, medium or low, from the score margin and the data we had."""
        if not self.causes:
            return "low"
        first = self.causes[0].score
        second = self.causes[1].score if len(self.causes) > 1 else 0.0
        margin = (first - second) / first if first > 0 else 0.0
        level = 2 if margin > 0.5 else 1 if margin > 0.15 else 0
        if len(self.modalities_missing) >= 2:
            level -= 1
        return ("low", "medium", "high")[max(0, min(2, level))]

    def to_dict(self) -> JSONObject:
        out = asdict(self)
        out["modalities_missing"] = self.modalities_missing
        out["confidence"] = self.confidence()
        return out
