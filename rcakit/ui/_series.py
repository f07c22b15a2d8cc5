"""What the explorer's charts are given: series bounded in points, times as plotly's date-axis strings, gaps.

:func:`downsample` keeps each bucket's minimum and maximum so spikes survive; :func:`_plotly_times`
and :func:`_plotly_time` write instants as date-axis strings in UTC, :func:`_parse_plotly_time` reads a
selection's ends back; :func:`_finite_or_none` turns NaN into the None plotly draws as a gap.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from rcakit.errors import DataError
from rcakit.telemetry.window import to_utc

if TYPE_CHECKING:
    from rcakit._types import TimeLike

__all__ = ["_finite_or_none", "_parse_plotly_time", "_plotly_time", "_plotly_times", "downsample"]


def downsample(times: np.ndarray, values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: per bucket its minimum and maximum, in time order (keeps spikes)."""
    n = len(values)
    if n <= max_points or max_points < 4:
        return times, values
    buckets = int(np.ceil(n / (max_points // 2)))
    keep: list[int] = []
    for lo in range(0, n, buckets):
        chunk = values[lo:lo + buckets]
        if np.all(np.isnan(chunk)):
            keep.append(lo)
            continue
        a, b = lo + int(np.nanargmin(chunk)), lo + int(np.nanargmax(chunk))
        keep.extend(sorted({a, b}))
    idx = np.asarray(keep)
    return times[idx], values[idx]


_PLOTLY_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?)?"
                          r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$")


def _parse_plotly_time(value: TimeLike | np.integer | np.floating) -> datetime:
    """A selection end as plotly sends it, in UTC.

    On a date axis plotly sends strings like ``'2025-01-06 09:21:30.5'`` (any number of fraction digits,
    seconds or minutes may be missing; the axis shows UTC here); numbers are epoch milliseconds.
    """
    if isinstance(value, bool):
        raise DataError(f"cannot read {value!r} as a time from the chart")
    if isinstance(value, int | float | np.integer | np.floating):
        return to_utc(float(value) / 1000.0)
    if isinstance(value, str):
        found = _PLOTLY_DATE.match(value)
        if found is None:
            raise DataError(f"cannot read {value!r} as a time from the chart",
                            hint="select a range on the series chart's date axis, or call set_incident_window")
        year, month, day, hour, minute, second, fraction, zone = found.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return dt.replace(tzinfo=UTC)
    return to_utc(value)


def _plotly_time(value: TimeLike) -> str:
    """One instant as plotly's date-axis string in UTC ('2025-01-06 09:21:30.500000'), no offset."""
    return to_utc(value).astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _plotly_times(times: np.ndarray) -> list[str]:
    """Datetimes (numpy datetime64 in UTC, as polars gives them) as date-axis strings.

    Passing datetime64 arrays to plotly 7 sends them as raw nanosecond integers (the axis then showed
    1.7e18); strings make plotly.js use a date axis.
    """
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return [t.replace("T", " ") for t in np.datetime_as_string(arr.astype("datetime64[us]"), unit="us")]
    return [_plotly_time(t) for t in arr.tolist()]


def _finite_or_none(values: npt.ArrayLike) -> list[float | None]:
    """Numbers with NaN/inf as None: plotly draws a gap for None, but NaN reached SVG paths as 'MNaN'."""
    return [float(v) if v is not None and np.isfinite(v) else None for v in np.asarray(values, dtype=float).tolist()]
