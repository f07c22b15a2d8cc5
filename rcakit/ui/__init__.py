"""Notebook widgets: thin views over Telemetry, ReviewSession and attribution runs.

Widgets are imported lazily so that ``import rcakit.ui`` stays cheap and a missing front-end
dependency only matters for the widget that needs it. Every button of every widget calls a public
method that tests call without a browser.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["AttributionPanel", "GraphReviewer", "IncidentDashboard", "ReportPanel", "TelemetryExplorer"]

_LAZY = {
    "TelemetryExplorer": "rcakit.ui.explorer",
    "GraphReviewer": "rcakit.ui.reviewer",
    "AttributionPanel": "rcakit.ui.attribution_panel",
    "ReportPanel": "rcakit.ui.report_panel",
    "IncidentDashboard": "rcakit.ui.dashboard",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rcakit.ui' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
