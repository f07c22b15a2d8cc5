"""The time grid: a window cut into equal steps, long rows put into those steps, and the wide frame.

Every part of rcakit that needs a series per node on shared timestamps comes here: ``Telemetry.align``
(with its gap bookkeeping), detection, the graph's data suggesters, attribution and the report. A grid
is anchored at its window's start (a window from 11:38:30 with a one-minute step has rows at 11:38:30,
11:39:30, ...); a step holds the rows with ``start + k*step <= time < start + (k+1)*step``.

* :func:`grid_times`: the grid of a window.
* :func:`to_wide`: long rows (``time``, a key column, ``value``) -> ``time`` + one Float64 column per key,
  one row per step, null where a step holds no row.
* :func:`recorded_wide`: the same frame on the timestamps as recorded (no grid), for data that were
  sampled together.
* :func:`bucket`: the grid step a row's time falls in, as a polars expression.
* :func:`node_key`: the ``entity:metric`` expression of a long metric table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry._schema import NODE_SEPARATOR
from rcakit.telemetry.window import TimeWindow

__all__ = ["AGGREGATIONS", "agg_expr", "bucket", "floor_to_step", "grid_times", "node_key", "recorded_wide", "step_micros",
           "to_wide"]

_AGG: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "mean": lambda v: v.mean(),
    "median": lambda v: v.median(),
    "sum": lambda v: v.sum(),
    "min": lambda v: v.min(),
    "max": lambda v: v.max(),
    "first": lambda v: v.drop_nulls().first(),
    "last": lambda v: v.drop_nulls().last(),
    "count": lambda v: v.count().cast(pl.Float64),
    "std": lambda v: v.std(),
}

#: The aggregations a grid step can apply to the rows it holds.
AGGREGATIONS: tuple[str, ...] = tuple(_AGG)


def agg_expr(agg: str, column: str = "value") -> pl.Expr:
    """The polars expression of one aggregation over ``column``, aliased to ``value``."""
    if agg not in _AGG:
        raise DataError(f"unknown aggregation {agg!r}", hint=f"Use one of {', '.join(AGGREGATIONS)}")
    return _AGG[agg](pl.col(column)).alias("value")


def step_micros(step: timedelta) -> int:
    """The step in whole microseconds (at least one)."""
    return max(int(step / timedelta(microseconds=1)), 1)


def grid_times(window: TimeWindow, step: timedelta) -> pl.Series:
    """The grid's row times: ``window.start``, ``start + step``, ... up to (not including) ``window.end``."""
    return pl.datetime_range(window.start, window.end - timedelta(microseconds=1), interval=f"{step_micros(step)}us",
                             eager=True, time_unit="ns", time_zone="UTC").alias("time")


def bucket(column: str, start: datetime | pl.Expr, step: timedelta) -> pl.Expr:
    """The start of the grid step (anchored at ``start``, a datetime or an expression) that ``column``'s time
    falls in, aliased ``time``."""
    us = step_micros(step)
    anchor = start if isinstance(start, pl.Expr) else pl.lit(start)
    return (anchor + pl.duration(microseconds=(pl.col(column) - anchor).dt.total_microseconds() // us * us)
            ).dt.cast_time_unit("ns").alias("time")


def node_key(entity: str = "entity", metric: str = "metric") -> pl.Expr:
    """``entity:metric`` from the two columns of a long table, aliased ``node``."""
    return pl.concat_str([pl.col(entity), pl.lit(NODE_SEPARATOR), pl.col(metric)]).alias("node")


def _resolve_agg(agg: str | Mapping[str, str], keys: Sequence[str]) -> dict[str, list[str]]:
    """Aggregation -> the keys it applies to (a mapping names every key's own aggregation)."""
    if isinstance(agg, str):
        agg_expr(agg)
        return {agg: list(keys)}
    groups: dict[str, list[str]] = {}
    for key in keys:
        how = agg.get(key)
        if how is None:
            raise DataError(f"no aggregation for {key!r}", hint="Give one for every column of the grid")
        agg_expr(how)
        groups.setdefault(how, []).append(key)
    return groups


def to_wide(
    long: pl.DataFrame,
    window: TimeWindow,
    step: timedelta,
    *,
    key: str = "node",
    agg: str | Mapping[str, str] = "mean",
    columns: Sequence[str] | None = None,
    time: str = "time",
) -> pl.DataFrame:
    """Long rows in ``window`` on its grid: ``time`` + one Float64 column per key, in ``columns`` order.

    ``long`` holds a time column, a ``key`` column (``node`` by default; see :func:`node_key`) and
    ``value``. Rows of a step are combined by ``agg`` (one name, or one per key). ``columns`` fixes the
    columns (keys without rows become all-null columns, rows of other keys are left out); by default
    every key present, sorted. Rows are placed by index arithmetic, not a pivot and a join: with
    hundreds of keys the wide frame costs one group-by and one scatter.
    """
    times = grid_times(window, step)
    rows = long.filter(pl.col(time).is_between(window.start, window.end, closed="left"))
    if columns is not None:
        keys = list(columns)
        rows = rows.filter(pl.col(key).is_in(keys))
    else:
        keys = sorted(rows.get_column(key).unique().to_list()) if rows.height else []
    matrix = np.full((len(times), len(keys)), np.nan)
    if rows.height and keys:
        us = step_micros(step)
        located = rows.select(((pl.col(time) - pl.lit(window.start)).dt.total_microseconds() // us).alias("row"),
                              pl.col(key).alias("key"), pl.col("value").cast(pl.Float64))
        index = pl.DataFrame({"key": keys, "col": np.arange(len(keys))}, schema={"key": located.schema["key"],
                                                                                 "col": pl.Int64})
        for how, members in _resolve_agg(agg, keys).items():
            part = located if len(members) == len(keys) else located.filter(pl.col("key").is_in(members))
            cells = part.group_by("row", "key").agg(agg_expr(how)).join(index, on="key", how="inner")
            r = cells.get_column("row").to_numpy()
            c = cells.get_column("col").to_numpy()
            matrix[r, c] = cells.get_column("value").cast(pl.Float64).fill_null(np.nan).to_numpy()
    frame = pl.DataFrame(matrix, schema=[str(k) for k in keys], orient="row").fill_nan(None)
    return frame.insert_column(0, times)


def recorded_wide(long: pl.DataFrame, window: TimeWindow, *, key: str = "node",
                  columns: Sequence[str] | None = None, time: str = "time") -> pl.DataFrame:
    """``time`` + one column per key on the timestamps as recorded in ``window`` (rows of one time averaged).

    For data sampled together (one scrape per step for every node); irregular data belong on a grid
    (:func:`to_wide`), or each node's values sit on rows of their own.
    """
    rows = long.filter(pl.col(time).is_between(window.start, window.end, closed="left"))
    if columns is not None:
        rows = rows.filter(pl.col(key).is_in(list(columns)))
    if rows.height:
        frame = (rows.select(pl.col(time).alias("time"), pl.col(key).alias("key"), pl.col("value").cast(pl.Float64))
                 .pivot(on="key", index="time", values="value", aggregate_function="mean").sort("time"))
    else:
        frame = pl.DataFrame({"time": pl.Series([], dtype=pl.Datetime("ns", "UTC"))})
    keys = list(columns) if columns is not None else sorted(c for c in frame.columns if c != "time")
    missing = [pl.lit(None, dtype=pl.Float64).alias(k) for k in keys if k not in frame.columns]
    if missing:
        frame = frame.with_columns(missing)
    return frame.select("time", *[pl.col(k).cast(pl.Float64) for k in keys])


def floor_to_step(moment: datetime, step: timedelta) -> datetime:
    """``moment`` floored to a whole number of steps since the epoch (11:38:52 -> 11:38:00 for a minute)."""
    us = step_micros(step)
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return epoch + timedelta(microseconds=((moment - epoch) // timedelta(microseconds=1)) // us * us)
