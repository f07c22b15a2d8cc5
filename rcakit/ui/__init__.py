"""Notebook widgets: thin views over Telemetry, ReviewSession and attribution runs.

Widgets are imported lazily so that ``import rcakit.ui`` stays cheap and a missing front-end
dependency only matters for the widget that needs it. Every button of every widget calls a public
method that tests call without a browser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcakit.ui.attribution_panel import AttributionPanel
    from rcakit.ui.dashboard import IncidentDashboard
    from rcakit.ui.explorer import TelemetryExplorer
    from rcakit.ui.report_panel import ReportPanel
    from rcakit.ui.reviewer import GraphReviewer

__all__ = ["AttributionPanel", "GraphReviewer", "IncidentDashboard", "ReportPanel", "TelemetryExplorer"]

_LAZY = {
    "TelemetryExplorer": "rcakit.ui.explorer",
    "GraphReviewer": "rcakit.ui.reviewer",
    "AttributionPanel": "rcakit.ui.attribution_panel",
    "ReportPanel": "rcakit.ui.report_panel",
    "IncidentDashboard": "rcakit.ui.dashboard",
}


def __getattr__(name: str) -> type:  # every lazy name is a widget class
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rcakit.ui' has no attribute {name!r}")
    widget_class: type = getattr(importlib.import_module(module), name)
    return widget_class


def __dir__() -> list[str]:
    return sorted(__all__)
