"""Events recorded on spans (OTLP span events, Jaeger span logs, Zipkin annotations) as log lines.

An exception recorded on a span (``span.record_exception``: an event named ``exception`` with
``exception.type`` and ``exception.message``) is often the only place where a service says what
went wrong; it becomes a log line of the span's service at level ERROR, linked to the span.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from rcakit._types import JSONValue

__all__ = ["LOG_COLUMNS", "event_line", "logs_frame"]

LOG_COLUMNS = ("time", "entity", "level", "message", "trace_id", "span_id")

_LEVEL_KEYS = ("level", "log.severity", "severity")
_MESSAGE_KEYS = ("message", "event", "log.message", "msg")


def event_line(name: str | None, attributes: Mapping[str, JSONValue]) -> tuple[str | None, str]:
    """(level, message) of one span event with its attributes."""
    attrs = {str(k): v for k, v in attributes.items()}
    if name == "exception" or "exception.type" in attrs or "exception.message" in attrs:
        kind = attrs.get("exception.type") or "exception"
        text = attrs.get("exception.message")
        return "ERROR", f"{kind}: {text}" if text else str(kind)
    level = next((str(attrs[k]).upper() for k in _LEVEL_KEYS if attrs.get(k)), None)
    used = set(_LEVEL_KEYS)
    message = next((str(attrs[k]) for k in _MESSAGE_KEYS if attrs.get(k) not in (None, "")), None)
    if message is not None:
        used |= {next(k for k in _MESSAGE_KEYS if attrs.get(k) not in (None, ""))}
        if name and name != message:
            message = f"{name}: {message}"
    else:
        message = name or ""
    rest = " ".join(f"{k}={attrs[k]}" for k in sorted(attrs) if k not in used)
    if level is None and str(attrs.get("event", name or "")).lower() == "error":
        level = "ERROR"
    return level, (f"{message} {rest}".strip() if rest else message)


def logs_frame(columns: Mapping[str, list[object]], *, time_factor: int = 1) -> pl.DataFrame:
    """The logs table of gathered event lines (times as integers; ``time_factor`` turns them into ns)."""
    times = pl.Series(columns["time"], dtype=pl.Int64) * time_factor
    return pl.DataFrame({
        "time": times.cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
        **{k: pl.Series(columns[k], dtype=pl.String) for k in LOG_COLUMNS if k != "time"},
    })
