"""Many incidents and large windows on a Dask cluster (``pip install rcakit[dask]``).

* :func:`analyze_many`: :func:`rcakit.pipeline.analyze` over many incidents, each loaded by a
  worker from its :class:`IncidentSpec` (a folder, a window of a store, a function); results folder
  with one JSON per incident, resumable, failures named.
* :func:`featurize_many`: per-entity features of many windows of a store, one window per task.
* :class:`TaskRunner`: run calls here or on a cluster (what ``python -m rcakit.bench localize --dask`` uses).

A LocalCluster by default; any scheduler address (``address="tcp://scheduler:8786"``) or Client.
Importing this package does not import Dask; the functions raise an ImportError naming the extra
when it is missing.
"""

from rcakit.scale.batch import (
    AnalyzeOptions,
    BatchError,
    BatchResult,
    IncidentOutcome,
    analyze_many,
    run_incident,
)
from rcakit.scale.features import featurize_many, featurize_window, split_window
from rcakit.scale.runner import Pending, TaskRunner
from rcakit.scale.specs import IncidentSpec, incident_from_store

__all__ = [
    "AnalyzeOptions",
    "BatchError",
    "BatchResult",
    "IncidentOutcome",
    "IncidentSpec",
    "Pending",
    "TaskRunner",
    "analyze_many",
    "featurize_many",
    "featurize_window",
    "incident_from_store",
    "run_incident",
    "split_window",
]
