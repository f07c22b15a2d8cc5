"""rcakit: incident root-cause analysis in Jupyter.

Load telemetry (:mod:`rcakit.telemetry`), see what went abnormal (:mod:`rcakit.detect`), draft and
review a causal graph (:mod:`rcakit.graph`), attribute the incident to root causes
(:mod:`rcakit.attribution`) and write the story (:mod:`rcakit.report`). Notebook widgets live in
:mod:`rcakit.ui`, which imports the rest; nothing else imports a widget library.
"""

from rcakit._progress import Cancelled, CancelToken, progress_enabled, set_progress
from rcakit._version import __version__
from rcakit.errors import DataError, DatasetLayoutError, GraphChangedError, RcakitError, SchemaError
from rcakit.samples import sample_incident, sample_names
from rcakit.telemetry import GroundTruth, Incident, LoadReport, Telemetry, TimeWindow, load_incident

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
    "SchemaError",
    "Telemetry",
    "TimeWindow",
    "__version__",
    "load_incident",
    "progress_enabled",
    "sample_incident",
    "sample_names",
    "set_progress",
]
