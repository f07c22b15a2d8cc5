"""The canonical tables of rcakit and the coercions that bring user data into them.

Three long tables, polars inside, times as ``Datetime("ns", "UTC")``:

* metrics: ``time, entity, metric, value`` (value Float64, null where the source had no number)
* logs:    ``time, entity, level, message, trace_id, span_id``
* spans:   ``trace_id, span_id, parent_id, entity, operation, start, end, duration, error, status``
  (``duration`` in seconds as Float64; ``parent_id`` null for a root span; ``error`` Boolean)

Metrics and logs are in time order; spans keep the order of their source, where exporters write a
trace's spans together (select them by time with ``Telemetry.window``, never by row position).

Every coercion (a naive time read as UTC, epoch milliseconds recognised, a non-number set to null, a
row sorted into place) is written to a :class:`~rcakit.telemetry.report.LoadReport`; nothing is
dropped without a line there. Reading instants is :mod:`rcakit.telemetry._times`' job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from rcakit.errors import DataError, SchemaError
from rcakit.telemetry._times import _EPOCH_UNITS as _EPOCH_UNITS  # loaders._scan reads the units here
from rcakit.telemetry._times import TIME_DTYPE, coerce_time, parse_zoned_times
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from rcakit._types import FrameLike

__all__ = [
    "LOG_SCHEMA",
    "METRIC_SCHEMA",
    "SPAN_SCHEMA",
    "TIME_DTYPE",
    "coerce_time",
    "is_spelled_root",
    "node_name",
    "normalize_logs",
    "normalize_metrics",
    "normalize_spans",
    "parse_zoned_times",
    "split_node",
]

METRIC_SCHEMA: dict[str, pl.DataType] = {
    "time": TIME_DTYPE,
    "entity": pl.String(),
    "metric": pl.String(),
    "value": pl.Float64(),
}
LOG_SCHEMA: dict[str, pl.DataType] = {
    "time": TIME_DTYPE,
    "entity": pl.String(),
    "level": pl.String(),
    "message": pl.String(),
    "trace_id": pl.String(),
    "span_id": pl.String(),
}
SPAN_SCHEMA: dict[str, pl.DataType] = {
    "trace_id": pl.String(),
    "span_id": pl.String(),
    "parent_id": pl.String(),
    "entity": pl.String(),
    "operation": pl.String(),
    "start": TIME_DTYPE,
    "end": TIME_DTYPE,
    "duration": pl.Float64(),
    "error": pl.Boolean(),
    "status": pl.String(),
}

NODE_SEPARATOR = ":"
# A parent id that means "no parent" (after stripping spaces): '', 'root', '0', 16 zeros, 'None', 'null'.
_ROOT_PARENT = r"^\s*(root|0|0000000000000000|None|null)?\s*$"


def is_spelled_root(parent_ids: pl.Series) -> pl.Series:
    """True where a parent id means "no parent": '', 'root', '0', 16 zeros, 'None' or 'null' (spaces
    around allowed); False where it is null or any other id."""
    return parent_ids.str.contains(_ROOT_PARENT).fill_null(False)


def node_name(entity: str, metric: str) -> str:
    """The graph node of a metric: ``entity:metric`` (``PetSite:latency``)."""
    return f"{entity}{NODE_SEPARATOR}{metric}"


def split_node(node: str) -> tuple[str, str]:
    """Split ``entity:metric`` at its first colon (entities never contain one; metrics may)."""
    entity, sep, metric = node.partition(NODE_SEPARATOR)
    if not sep or not entity or not metric:
        raise DataError(
            f"{node!r} is not a metric node name",
            hint="Name metric nodes 'entity:metric', for example 'PetSite:latency'",
        )
    return entity, metric


def _to_polars(frame: FrameLike, what: str, source: str) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(frame, pd.DataFrame):
        pdf = frame
        if not isinstance(pdf.index, pd.RangeIndex):
            pdf = pdf.reset_index()
        try:
            return pl.from_pandas(pdf)
        except Exception:  # pyarrow refuses object columns mixing kinds (floats and text)
            mixed = [c for c in pdf.columns if pdf[c].dtype == object]
            if not mixed:
                raise
            # Read them as text: the numeric and time checks then report each value they cannot use.
            pdf = pdf.assign(**{str(c): pdf[c].map(lambda v: None if v is None or v != v else str(v)) for c in mixed})
            return pl.from_pandas(pdf)
    raise TypeError(
        f"{what} must be a polars or pandas DataFrame, got {type(frame).__name__} (from {source})"
    )


def _require(df: pl.DataFrame, columns: list[str], what: str, source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"the {what} table has no column {missing[0]!r} (it has {', '.join(map(repr, df.columns)) or 'no columns'})",
            source=source,
            column=missing[0],
            hint=f"Rename your columns or pass a column mapping; {what} need {', '.join(columns)}",
        )


def _coerce_numeric(df: pl.DataFrame, column: str, source: str, report: LoadReport) -> pl.DataFrame:
    series = df.get_column(column)
    if series.dtype == pl.String:
        cleaned = series.str.strip_chars()
        numbers = cleaned.cast(pl.Float64, strict=False)
        bad = numbers.is_null() & cleaned.is_not_null() & (cleaned != "")
        if bad.any():
            first = int(bad.arg_max() or 0)
            report.add(source, column, "set non-numbers to null", int(bad.sum()),
                       f"text that is not a number, first at row {first}: {cleaned[first]!r:.40}")
        series = numbers
    elif series.dtype == pl.Boolean:
        report.add(source, column, "read true/false as 1/0", int(series.is_not_null().sum()),
                   "the column holds booleans, not measurements")
        series = series.cast(pl.Float64)
    elif series.dtype.is_numeric() or series.dtype == pl.Null:
        series = series.cast(pl.Float64)
    else:
        raise DataError(f"cannot read a column of type {series.dtype} as numbers", source=source,
                        column=column, hint="Give numeric values")
    nan = series.is_nan().fill_null(False)
    if nan.any():
        report.add(source, column, "set NaN to null", int(nan.sum()), "NaN marks a missing value")
    inf = series.is_infinite().fill_null(False)
    if inf.any():
        first = int(inf.arg_max() or 0)
        report.add(source, column, "set infinite values to null", int(inf.sum()),
                   f"an infinite value is not a measurement (first at row {first})")
    finite_only = pl.when(series.is_finite()).then(series).otherwise(None)
    return df.with_columns(pl.Series(column, df.select(finite_only).to_series(), dtype=pl.Float64))


def _coerce_strings(df: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    casts = [pl.col(c).cast(pl.String) for c in columns if c in df.columns and df.schema[c] != pl.String]
    return df.with_columns(casts) if casts else df


def _distinct(values: pl.Series) -> pl.Series:
    """The distinct values of a column of few distinct values (entities, levels), nulls included.

    The first row of each distinct 64-bit hash: about half the time of ``unique()`` on strings (1 M
    rows, polars 2.1). Two values sharing a hash, one chance in 2**64 per pair, would show as one.
    """
    return values.gather(values.hash(seed=3).arg_unique())


def _check_entities(df: pl.DataFrame, source: str, report: LoadReport, column: str = "entity") -> pl.DataFrame:
    # Entities repeat across millions of rows: check the distinct names, touch rows only on a problem.
    names = _distinct(df.get_column(column))
    bad_names = names.is_null() | (names.str.strip_chars() == "")
    if bad_names.any():
        entity = df.get_column(column)
        missing = entity.is_null() | (entity.str.strip_chars() == "")
        row = int(missing.arg_max() or 0)
        raise DataError("an entity name is empty", source=source, column=column, row=row,
                        hint="Every row needs the component it belongs to; fill or remove that row")
    if names.str.contains(NODE_SEPARATOR, literal=True).any():
        colon = df.get_column(column).str.contains(NODE_SEPARATOR, literal=True)
        report.add(source, column, "replaced ':' in entity names by '_'", int(colon.sum()),
                   "':' separates entity and metric in node names (entity:metric)")
        df = df.with_columns(pl.col(column).str.replace_all(NODE_SEPARATOR, "_", literal=True))
    return df


def _sort_by_time(df: pl.DataFrame, column: str, source: str, report: LoadReport) -> pl.DataFrame:
    if df.height > 1 and not df.get_column(column).is_sorted():
        report.add(source, column, "sorted rows by time", df.height, "the rows were not in time order")
        df = df.sort(column, maintain_order=True)
    return df


def normalize_metrics(frame: FrameLike, *, source: str, report: LoadReport, time_unit: str | None = None) -> pl.DataFrame:
    df = _to_polars(frame, "metrics", source)
    _require(df, ["time", "entity", "metric", "value"], "metrics", source)
    if df.height == 0:
        return _empty(METRIC_SCHEMA, df)
    df = _coerce_strings(df, ["entity", "metric"])
    df = df.with_columns(coerce_time(df.get_column("time"), source=source, column="time", report=report,
                                     unit=time_unit).alias("time"))
    df = _check_entities(df, source, report)
    metric = df.get_column("metric")
    empty_metric = metric.is_null() | (metric.str.strip_chars() == "")
    if empty_metric.any():
        raise DataError("a metric name is empty", source=source, column="metric",
                        row=int(empty_metric.arg_max() or 0), hint="Name every metric")
    df = _coerce_numeric(df, "value", source, report)
    df = _sort_by_time(df, "time", source, report)
    dup = df.select(pl.struct("time", "entity", "metric").is_duplicated()).to_series()
    if dup.any():
        report.add(source, "time", "kept duplicate (time, entity, metric) rows", int(dup.sum()),
                   "align() combines them with its aggregation; deduplicate upstream if they are errors")
    return _order(df, METRIC_SCHEMA)


def normalize_logs(frame: FrameLike, *, source: str, report: LoadReport, time_unit: str | None = None) -> pl.DataFrame:
    df = _to_polars(frame, "logs", source)
    _require(df, ["time", "entity", "message"], "logs", source)
    if df.height == 0:
        return _empty(LOG_SCHEMA, df)
    for optional in ("level", "trace_id", "span_id"):
        if optional not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    df = _coerce_strings(df, ["entity", "level", "message", "trace_id", "span_id"])
    df = df.with_columns(coerce_time(df.get_column("time"), source=source, column="time", report=report,
                                     unit=time_unit).alias("time"))
    df = _check_entities(df, source, report)
    null_messages = df.get_column("message").is_null()
    if null_messages.any():
        report.add(source, "message", "read empty messages as ''", int(null_messages.sum()), "the log line had no text")
        df = df.with_columns(pl.col("message").fill_null(""))
    if df.schema["level"] == pl.String:
        # Levels repeat: check the distinct values and rewrite the column only when one needs it.
        levels = _distinct(df.get_column("level")).drop_nulls()
        if not levels.equals(levels.str.strip_chars().str.to_uppercase()):
            df = df.with_columns(pl.col("level").str.strip_chars().str.to_uppercase())
    df = _sort_by_time(df, "time", source, report)
    return _order(df, LOG_SCHEMA)


def normalize_spans(frame: FrameLike, *, source: str, report: LoadReport, time_unit: str | None = None,
                    find_roots: bool = True) -> pl.DataFrame:
    """The spans table in canonical form. ``find_roots=False`` leaves parent ids that spell a root
    ('root', '0', ...) to the caller: the loaders read them only among the parent ids no span has
    (``rcakit.telemetry.loaders._spans.check_span_tree``), not in a pass over every row."""
    df = _to_polars(frame, "spans", source)
    _require(df, ["trace_id", "span_id", "entity", "start"], "spans", source)
    if "end" not in df.columns and "duration" not in df.columns:
        raise SchemaError("the spans table has neither 'end' nor 'duration'", source=source, column="end",
                          hint="Give the end time or the duration (in seconds) of every span")
    if df.height == 0:
        return _empty(SPAN_SCHEMA, df)
    frame_columns = set(df.columns)
    for optional in ("parent_id", "operation", "status"):
        if optional not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    df = _coerce_strings(df, ["trace_id", "span_id", "parent_id", "entity", "operation", "status"])
    df = df.with_columns(coerce_time(df.get_column("start"), source=source, column="start", report=report,
                                     unit=time_unit).alias("start"))
    if "end" in df.columns:
        df = df.with_columns(coerce_time(df.get_column("end"), source=source, column="end", report=report,
                                         unit=time_unit).alias("end"))
        if "duration" not in df.columns:
            df = df.with_columns(((pl.col("end") - pl.col("start")).dt.total_nanoseconds() / 1e9).alias("duration"))
        else:
            df = _coerce_numeric(df, "duration", source, report)
    else:
        df = _coerce_numeric(df, "duration", source, report)
        df = df.with_columns(
            (pl.col("start") + pl.duration(nanoseconds=(pl.col("duration") * 1e9).round(0).cast(pl.Int64))).alias("end")
        )
    negative = (pl.col("end") < pl.col("start"))
    n_negative = int(df.select(negative.sum()).item())
    if n_negative:
        row = int(df.select(negative.arg_max()).item())
        if "end" in frame_columns:
            raise DataError("a span ends before it starts", source=source, column="end", row=row,
                            hint="Check the unit of the start and end columns (seconds, ms, us or ns)")
        raise DataError(f"a span has a negative duration ({df.get_column('duration')[row]})", source=source,
                        column="duration", row=row, hint="Durations are seconds from the span's start; fix the "
                        "exporter, or drop that span")
    df = _check_entities(df, source, report)
    ids = df.get_column("span_id")
    if ids.is_null().any():
        raise DataError("a span has no span_id", source=source, column="span_id",
                        row=int(ids.is_null().arg_max() or 0), hint="Every span needs an id")
    # Roots are spelled many ways upstream ('root', '', '0', all zeros); make them null. One regex pass
    # finds them (no stripped copy of the column); the column is rewritten only when there are any.
    spelled_root = pl.col("parent_id").str.contains(_ROOT_PARENT).fill_null(False)
    if find_roots and df.select(spelled_root.any()).item():
        df = df.with_columns(pl.when(spelled_root).then(None).otherwise(pl.col("parent_id")).alias("parent_id"))
    if "error" in df.columns:
        err = df.get_column("error")
        if err.dtype != pl.Boolean:
            if err.dtype == pl.String:
                err = err.str.to_lowercase().is_in(["true", "1", "error", "yes"])
            else:
                err = err.cast(pl.Boolean, strict=False)
            df = df.with_columns(err.fill_null(False).alias("error"))
    else:
        status = pl.col("status").str.to_uppercase()
        df = df.with_columns(
            (status.str.contains("ERROR") | status.str.contains(r"^[5]\d\d$")).fill_null(False).alias("error")
        )
    # Spans keep their order: exports write a trace's spans together, and every analysis selects
    # spans by time or trace, never by row position (a time sort cost a quarter of a load).
    return _order(df, SPAN_SCHEMA)


def _order(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Required columns first in canonical order and types; extra columns kept after them."""
    casts = [pl.col(name).cast(dtype) for name, dtype in schema.items()]
    extra = [c for c in df.columns if c not in schema]
    return df.select([*casts, *extra])


def _empty(schema: dict[str, pl.DataType], df: pl.DataFrame) -> pl.DataFrame:
    extra = {c: df.schema[c] for c in df.columns if c not in schema}
    return pl.DataFrame(schema={**schema, **extra})
