"""Descriptions of anomalies in words (rcakit.detect.describe) at the three levels."""

from __future__ import annotations

import pytest

from rcakit.detect import detect_anomalies
from rcakit.detect.describe import describe_anomalies
from rcakit.errors import DataError


def test_descriptions_at_three_levels_are_deterministic(incident) -> None:
    anomalies = detect_anomalies(incident)
    series = describe_anomalies(anomalies, level="series")
    assert series == describe_anomalies(detect_anomalies(incident), level="series")
    assert series[0].startswith("The ") and "is abnormal, displaying an anomaly pattern characterized by" in series[0]
    for needle in ("began on", "ended at", "duration", "peak of", "previous value", "%)", "anomaly score is"):
        assert needle in series[0]
    entity = anomalies.describe("entity")
    assert entity[0].startswith("db: ")
    assert len(anomalies.describe("incident")) == 1
    with pytest.raises(DataError, match="level"):
        anomalies.describe("everything")
