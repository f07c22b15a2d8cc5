"""See what went abnormal: metric anomalies and their patterns, descriptions, log templates, traces, features.

* :func:`detect_anomalies` -> :class:`Anomalies` (n-sigma, robust z, CUSUM, or your own :class:`Detector`)
* :func:`classify_pattern`: spike, dip, level shift, gradual change, fluctuation, none
* :func:`describe_anomalies`, :func:`describe_traces`, :func:`describe_logs`: LocaleXpert-style sentences
* :func:`analyze_logs` -> :class:`LogAnalysis` (drain3 templates, new / error templates, TF-IDF)
* :func:`analyze_traces` -> :class:`TraceAnalysis` (call graph, slow traces, new call paths)
* :func:`entity_features`: one aligned table per entity of metrics, log counts and trace series
* :func:`infer_freq`, :func:`reference_window`: the grid step and the window logs and traces are judged against

>>> from rcakit.detect import detect_anomalies, Method          # doctest: +SKIP
>>> anomalies = detect_anomalies(incident, method=Method.ROBUST_Z)  # doctest: +SKIP
>>> anomalies.entity_ranking()                                  # doctest: +SKIP
"""

from rcakit.detect.anomalies import Anomalies, Anomaly, detect_anomalies, score_timeline
from rcakit.detect.config import DetectConfig, Method, Modality, Pattern, PatternConfig, Status
from rcakit.detect.describe import describe_anomalies, describe_anomaly, describe_logs, describe_traces
from rcakit.detect.detectors import CusumDetector, Detector, NSigmaDetector, RobustZDetector, get_detector
from rcakit.detect.features import entity_features, feature_frame, feature_table
from rcakit.detect.logs import LogAnalysis, LogTemplateMiner, analyze_logs, prepare_logs, template_counts
from rcakit.detect.patterns import classify_pattern
from rcakit.detect.reference import reference_window
from rcakit.detect.traces import (
    TraceAnalysis,
    analyze_traces,
    call_counts,
    call_graph,
    call_paths,
    operation_baselines,
    service_series,
)
from rcakit.detect.windows import infer_freq

__all__ = [
    "Anomalies",
    "Anomaly",
    "CusumDetector",
    "DetectConfig",
    "Detector",
    "LogAnalysis",
    "LogTemplateMiner",
    "Method",
    "Modality",
    "NSigmaDetector",
    "Pattern",
    "PatternConfig",
    "RobustZDetector",
    "Status",
    "TraceAnalysis",
    "analyze_logs",
    "analyze_traces",
    "call_counts",
    "call_graph",
    "call_paths",
    "classify_pattern",
    "describe_anomalies",
    "describe_anomaly",
    "describe_logs",
    "describe_traces",
    "detect_anomalies",
    "entity_features",
    "feature_frame",
    "feature_table",
    "get_detector",
    "infer_freq",
    "operation_baselines",
    "prepare_logs",
    "reference_window",
    "score_timeline",
    "service_series",
    "template_counts",
]
