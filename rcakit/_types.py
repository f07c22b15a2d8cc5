"""Type aliases several parts share: JSON values, the frames and times a user may pass, polars schemas.

Only names for typing live here; nothing is imported at run time (pandas and polars are named under
``TYPE_CHECKING``), so any part may use them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = ["DurationLike", "FrameLike", "JSONObject", "JSONValue", "PolarsSchema", "SupportsToPydatetime",
           "TimeLike"]

#: A value read from or written as JSON: an object, array, string, number, bool or null, nested freely.
#: Parsed wire data and saved files are navigated by key (``span["tags"][0]["key"]``) and checked where
#: read, so the alias stays ``Any`` underneath; it is the one place rcakit calls a value arbitrary.
JSONValue: TypeAlias = Any
#: A JSON object: what ``to_dict`` returns and ``from_dict`` reads.
JSONObject: TypeAlias = dict[str, JSONValue]


class SupportsToPydatetime(Protocol):
    """A time with ``to_pydatetime()`` (pandas Timestamp, numpy-backed scalars of other libraries)."""

    def to_pydatetime(self) -> datetime: ...


#: An instant: a datetime (pandas Timestamp is one), an ISO 8601 string, epoch seconds, or anything with
#: ``to_pydatetime()``; :func:`rcakit.telemetry.window.to_utc` reads them all.
TimeLike: TypeAlias = "datetime | str | int | float | SupportsToPydatetime"
#: A length of time: a timedelta, a string such as ``"10s"`` or ``"1h30m"``, or seconds.
DurationLike: TypeAlias = "timedelta | str | int | float"
#: A table a user passes in: polars (eager or lazy) or pandas.
FrameLike: TypeAlias = "pl.DataFrame | pl.LazyFrame | pd.DataFrame"
#: Column name -> polars dtype (a dtype class such as ``pl.String`` or an instance such as ``pl.Datetime("ns")``).
PolarsSchema: TypeAlias = "dict[str, pl.DataType | type[pl.DataType]]"
