"""rcakit: incident root-cause analysis in Jupyter.

The whole flow in one hop::

    import rcakit

    incident = rcakit.sample_incident("sim-M-network")   # or rcakit.load_incident(folder), rcakit.load(file)
    anomalies = rcakit.detect_anomalies(incident)         # what went abnormal, and how
    draft = rcakit.draft_graph(incident)                  # knowledge | llm | data suggestions
    session = rcakit.ReviewSession(draft)                 # accept / reject / reverse / add, autosaved
    result = rcakit.attribute(session.draft, incident)    # ranked root causes
    report = rcakit.write_report(incident, attribution=result, draft=session.draft)
    analysis = rcakit.analyze(incident)                   # all of the above with the defaults

Each step's subpackage holds its options and its parts: :mod:`rcakit.telemetry` (the model, loaders,
dataset adapters), :mod:`rcakit.detect`, :mod:`rcakit.graph`, :mod:`rcakit.review`,
:mod:`rcakit.attribution`, :mod:`rcakit.report`; notebook widgets live in :mod:`rcakit.ui`, which
imports the rest; nothing else imports a widget library. The step functions are imported on first use,
so ``import rcakit`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from rcakit._progress import Cancelled, CancelToken, progress_enabled, set_progress
from rcakit._version import __version__
from rcakit.errors import DataError, DatasetLayoutError, GraphChangedError, RcakitError, SchemaError
from rcakit.samples import sample_incident, sample_names
from rcakit.telemetry import (
    GroundTruth,
    Incident,
    LoadReport,
    Telemetry,
    TimeWindow,
    load_incident,
    node_name,
    split_node,
)

if TYPE_CHECKING:  # pragma: no cover - the names below are resolved lazily by __getattr__
    from rcakit.attribution import attribute
    from rcakit.detect import detect_anomalies
    from rcakit.graph import draft_graph
    from rcakit.pipeline import analyze
    from rcakit.report import write_report
    from rcakit.review import ReviewSession
    from rcakit.telemetry.loaders import load

#: Name -> module of the flow's entry points, imported on first access.
_LAZY: dict[str, str] = {
    "load": "rcakit.telemetry.loaders",
    "detect_anomalies": "rcakit.detect",
    "draft_graph": "rcakit.graph",
    "ReviewSession": "rcakit.review",
    "attribute": "rcakit.attribution",
    "write_report": "rcakit.report",
    "analyze": "rcakit.pipeline",
}

__all__ = [
    "CancelToken",
    "Cancelled",
    "DataError",
    "DatasetLayoutError",
    "GraphChangedError",
    "GroundTruth",
    "Incident",
    "LoadReport",
    "RcakitError",
    "ReviewSession",
    "SchemaError",
    "Telemetry",
    "TimeWindow",
    "__version__",
    "analyze",
    "attribute",
    "detect_anomalies",
    "draft_graph",
    "load",
    "load_incident",
    "node_name",
    "progress_enabled",
    "sample_incident",
    "sample_names",
    "set_progress",
    "split_node",
    "write_report",
]


def __getattr__(name: str) -> object:  # the names are typed for checkers by the TYPE_CHECKING imports above
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rcakit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
