"""The window logs and traces are judged against: the incident's baseline, or ``Incident.reference_window`` (a
declared fault-free recording) when the baseline holds almost none of them."""

from __future__ import annotations

import polars as pl

from rcakit.detect.config import Modality
from rcakit.telemetry import Incident
from rcakit.telemetry.window import TimeWindow

__all__ = ["reference_window", "rows_in"]


def rows_in(incident: Incident, window: TimeWindow, modalities: tuple[Modality, ...]) -> int:
    """Rows of the given modalities inside ``window`` (spans counted by their start)."""
    tel = incident.telemetry
    total = 0
    for modality, table, column in ((Modality.METRICS, tel.metrics, "time"), (Modality.LOGS, tel.logs, "time"),
                                    (Modality.TRACES, tel.spans, "start")):
        if modality in modalities and table.height:
            total += table.filter(pl.col(column).is_between(window.start, window.end, closed="left")).height
    return total


def reference_window(incident: Incident, modalities: tuple[Modality, ...]) -> TimeWindow:
    """The window to judge ``modalities`` against: the baseline window, or the incident's declared
    ``reference_window`` when that holds more than ten times the baseline's rows of them (a baseline
    with a few stray spans that began before a recorded minute is no baseline)."""
    window = incident.baseline_window
    reference = incident.reference_window
    if reference is not None and rows_in(incident, reference, modalities) > 10 * rows_in(incident, window, modalities):
        return reference
    return window
