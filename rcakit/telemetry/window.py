"""Time windows and durations as users type them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from rcakit.errors import DataError

if TYPE_CHECKING:
    from rcakit._types import TimeLike

__all__ = ["TimeWindow", "WindowLike", "parse_duration", "to_utc"]

#: What :meth:`TimeWindow.of` reads: a TimeWindow, a ``(start, end)`` pair (tuple or list) or a mapping
#: with ``start`` and ``end``.
WindowLike: TypeAlias = "TimeWindow | tuple[TimeLike, TimeLike] | list[TimeLike] | Mapping[str, TimeLike]"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|sec|m|min|h|hr|d)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0,
    "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0,
}


def parse_duration(value: str | timedelta | float | int) -> timedelta:
    """``"5m"``, ``"30s"``, ``"1h"``, ``"250ms"``, a timedelta, or a number of seconds."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, int | float):
        duration = timedelta(seconds=float(value))
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise DataError(f"cannot read {value!r} as a duration",
                            hint="Write a number and a unit: '30s', '1m', '5min', '1h', '250ms'")
        duration = timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
    else:
        raise TypeError(f"a duration must be a string, timedelta or number of seconds, got {type(value).__name__}")
    if duration <= timedelta(0):
        raise DataError(f"a duration must be positive, got {value!r}")
    return duration


def to_utc(value: TimeLike) -> datetime:
    """A timezone-aware UTC datetime from a datetime, pandas Timestamp, ISO string or epoch seconds.

    Naive values are read as UTC (rcakit keeps every instant in UTC).
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise DataError(f"cannot read {value!r} as a time",
                            hint="Use ISO 8601, for example '2023-01-30T11:51:00Z'") from exc
    elif isinstance(value, int | float):
        dt = datetime.fromtimestamp(float(value), tz=UTC)
    elif hasattr(value, "to_pydatetime"):
        dt = value.to_pydatetime()
    else:
        raise TypeError(f"cannot read a {type(value).__name__} as a time")
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class TimeWindow:
    """A half-open interval of time ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", to_utc(self.start))
        object.__setattr__(self, "end", to_utc(self.end))
        if self.end <= self.start:
            raise DataError(f"a window must end after it starts, got {self.start.isoformat()} .. {self.end.isoformat()}",
                            hint="Swap start and end, or widen the window")

    @classmethod
    def of(cls, value: object) -> TimeWindow:
        """A TimeWindow from a TimeWindow, a (start, end) pair or a dict with start and end (else TypeError)."""
        if isinstance(value, TimeWindow):
            return value
        if isinstance(value, dict):
            return cls(value["start"], value["end"])
        if isinstance(value, tuple | list) and len(value) == 2:
            return cls(value[0], value[1])
        raise TypeError(f"expected a TimeWindow or a (start, end) pair, got {value!r}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def contains(self, instant: TimeLike) -> bool:
        moment = to_utc(instant)
        return self.start <= moment < self.end

    def overlaps(self, other: TimeWindow) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def __str__(self) -> str:
        fmt = "%Y-%m-%d %H:%M:%S"
        return f"{self.start.strftime(fmt)} .. {self.end.strftime(fmt)} UTC ({_human(self.duration)})"


def _human(duration: timedelta) -> str:
    seconds = duration.total_seconds()
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    if seconds < 172800:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} d"
