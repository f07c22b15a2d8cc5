"""Wide tables (a time column and one column per node) to the canonical long metric table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from rcakit.errors import DataError, SchemaError
from rcakit.telemetry._schema import NODE_SEPARATOR, _to_polars
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from rcakit._types import FrameLike

__all__ = ["wide_to_long"]


def wide_to_long(
    frame: FrameLike,
    *,
    time: str,
    source: str,
    report: LoadReport,
    entity: str | None = None,
) -> pl.DataFrame:
    """Melt a wide table into ``time, entity, metric, value``.

    Column names are ``entity:metric``; a column without a colon belongs to ``entity`` when given
    (else the column name is the entity and the metric is ``value``, reported).
    """
    df = _to_polars(frame, "metrics", source)
    if time not in df.columns:
        raise SchemaError(f"the wide table has no time column {time!r} (it has {', '.join(map(repr, df.columns[:8]))})",
                          source=source, column=time, hint="Pass time='<name of your time column>'")
    value_columns = [c for c in df.columns if c != time]
    if not value_columns:
        raise DataError("the wide table has a time column but no metric columns", source=source,
                        hint="Add one column per metric, named 'entity:metric'")
    renamed: dict[str, str] = {}
    bare = []
    for column in value_columns:
        if NODE_SEPARATOR in column:
            continue
        bare.append(column)
        renamed[column] = f"{entity}{NODE_SEPARATOR}{column}" if entity else f"{column}{NODE_SEPARATOR}value"
    if bare:
        how = f"metrics of entity {entity!r}" if entity else "entities with one metric named 'value'"
        report.add(source, None, f"read {len(bare)} columns without 'entity:' as {how}", len(bare),
                   "column names of a wide table are 'entity:metric'")
    df = df.rename(renamed)
    # Cast every value column to Float64 leniently so that the long table has one type; the
    # normalizer reports non-numbers and infinities per column afterwards.
    casts = []
    for column in df.columns:
        if column == time:
            continue
        dtype = df.schema[column]
        if dtype == pl.String:
            casts.append(pl.col(column).str.strip_chars().cast(pl.Float64, strict=False).alias(column))
            bad = df.select(
                (pl.col(column).cast(pl.Float64, strict=False).is_null() & pl.col(column).is_not_null()
                 & (pl.col(column).str.strip_chars() != "")).sum()
            ).item()
            if bad:
                report.add(source, column, "set non-numbers to null", int(bad), "text that is not a number")
        else:
            casts.append(pl.col(column).cast(pl.Float64, strict=False).alias(column))
    df = df.with_columns(casts)
    long = df.unpivot(index=time, variable_name="node", value_name="value").rename({time: "time"})
    parts = pl.col("node").str.splitn(NODE_SEPARATOR, 2)
    return long.select(
        "time",
        parts.struct.field("field_0").alias("entity"),
        parts.struct.field("field_1").alias("metric"),
        "value",
    )
