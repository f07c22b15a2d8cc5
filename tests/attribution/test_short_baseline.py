"""A baseline too short for robust z-scores is said: in the ranking's notes, the report's limits and the summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rcakit.attribution import Method, attribute
from rcakit.attribution._run import SHORT_BASELINE_NOTE, SHORT_BASELINE_ROWS, short_baseline_note
from rcakit.telemetry import Incident, Telemetry


def _incident(baseline_rows: int) -> Incident:
    rng = np.random.default_rng(0)
    n = baseline_rows + 10
    t = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) * 60, "s")
    web = np.r_[rng.normal(1, 0.1, baseline_rows), np.full(10, 3.0)]
    db = np.r_[rng.normal(5, 0.5, baseline_rows), rng.normal(5, 0.5, 10)]
    frame = pd.DataFrame({"time": t, "web:latency": web, "db:cpu": db})
    return Incident(Telemetry.from_wide(frame), (t[0], t[baseline_rows]), (t[baseline_rows], t[-1]),
                    alarm="web:latency")


def test_a_five_row_baseline_is_said_with_how_rough_its_spread_is() -> None:
    result = attribute(None, _incident(5), method=Method.ROBUST_Z)
    notes = [n for n in result.notes if n.startswith(SHORT_BASELINE_NOTE)]
    assert len(notes) == 1
    assert "(5 row(s) per series" in notes[0] and "52%" in notes[0] and "widen the baseline" in notes[0]
    assert result.causes[0].node == "web:latency"  # said, not acted on: the ranking is unchanged


def test_a_long_baseline_says_nothing() -> None:
    assert not [n for n in attribute(None, _incident(80), method=Method.ROBUST_Z).notes
                if n.startswith(SHORT_BASELINE_NOTE)]


@pytest.mark.parametrize(("rows", "said"), [(SHORT_BASELINE_ROWS - 1, True), (SHORT_BASELINE_ROWS, False)])
def test_the_bound_is_rows_per_series_not_the_frame(rows: int, said: bool) -> None:
    base = pd.DataFrame({"a": np.arange(rows, dtype=float), "b": np.arange(rows, dtype=float),
                         "never": np.nan})  # a series never recorded does not pull the median down
    assert (short_baseline_note(base) is not None) is said


def test_the_report_lists_it_among_its_limits() -> None:
    from rcakit.pipeline import analyze

    short = analyze(_incident(5), llm=None)
    assert f"{SHORT_BASELINE_NOTE} (5 row(s) per series" in short.report.section("Data and its limits")
    assert SHORT_BASELINE_NOTE in short.summary().split("lacked: ", 1)[1]  # the one-line summary says it too
    long = analyze(_incident(80), llm=None)
    assert SHORT_BASELINE_NOTE not in long.report.section("Data and its limits") and SHORT_BASELINE_NOTE not in long.summary()
