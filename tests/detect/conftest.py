"""The synthetic multimodal incident the log, trace, feature and description tests share."""

from __future__ import annotations

import pytest

from rcakit.telemetry import Incident

from ._synth import multimodal_incident


@pytest.fixture(scope="module")
def incident() -> Incident:
    return multimodal_incident()
