"""Lines of a load report that change no row: which format was read and why, what wrapped the data."""

from __future__ import annotations

from rcakit.telemetry.report import Coercion, LoadReport

__all__ = ["note"]


def note(report: LoadReport, source: str, action: str, reason: str) -> None:
    """Add a report line that touched no row (``LoadReport.add`` skips those: it counts changed rows)."""
    report.coercions.append(Coercion(source, None, action, 0, reason))
