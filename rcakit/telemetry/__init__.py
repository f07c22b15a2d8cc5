"""The telemetry model: metrics, logs and spans of a system, and incidents over them.

Loaders for files and wire formats are in :mod:`rcakit.telemetry.loaders`; adapters for public
datasets with ground truth in :mod:`rcakit.telemetry.datasets`.
"""

from rcakit.telemetry import grid
from rcakit.telemetry._schema import (
    LOG_SCHEMA,
    METRIC_SCHEMA,
    SPAN_SCHEMA,
    TIME_DTYPE,
    node_name,
    split_node,
)
from rcakit.telemetry.incident import GroundTruth, Incident
from rcakit.telemetry.incident_io import load_incident, save_incident
from rcakit.telemetry.model import AGGREGATIONS, AlignedMetrics, Telemetry
from rcakit.telemetry.report import Coercion, LoadReport
from rcakit.telemetry.window import TimeWindow, parse_duration, to_utc

__all__ = [
    "AGGREGATIONS",
    "LOG_SCHEMA",
    "METRIC_SCHEMA",
    "SPAN_SCHEMA",
    "TIME_DTYPE",
    "AlignedMetrics",
    "Coercion",
    "GroundTruth",
    "Incident",
    "LoadReport",
    "Telemetry",
    "TimeWindow",
    "grid",
    "load_incident",
    "node_name",
    "parse_duration",
    "save_incident",
    "split_node",
    "to_utc",
]
