"""See what went abnormal: metric anomalies and their patterns, descriptions, log templates, traces, features.

>>> from rcakit.detect import detect_anomalies, DetectConfig, Method   # doctest: +SKIP
>>> anomalies = detect_anomalies(incident, method=Method.ROBUST_Z)     # doctest: +SKIP
>>> anomalies.entity_ranking()                                         # doctest: +SKIP
"""

from rcakit.detect.anomalies import Anomalies, Anomaly, detect_anomalies, infer_freq, score_timeline
from rcakit.detect.config import DetectConfig, Method, Modality, Pattern, PatternConfig, Status
from rcakit.detect.detectors import CusumDetector, Detector, NSigmaDetector, RobustZDetector, get_detector
from rcakit.detect.patterns import classify_pattern

__all__ = [
    "Anomalies",
    "Anomaly",
    "CusumDetector",
    "DetectConfig",
    "Detector",
    "Method",
    "Modality",
    "NSigmaDetector",
    "Pattern",
    "PatternConfig",
    "RobustZDetector",
    "Status",
    "classify_pattern",
    "detect_anomalies",
    "get_detector",
    "infer_freq",
    "score_timeline",
]
