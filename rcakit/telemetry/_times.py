"""Instants read into ``Datetime("ns", "UTC")``: epoch numbers in any unit, ISO 8601 strings with or without
a zone, naive and aware datetimes, dates; every reading is reported to a
:class:`~rcakit.telemetry.report.LoadReport` and implausible instants are kept but named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.report import LoadReport

__all__ = ["TIME_DTYPE", "coerce_time", "parse_zoned_times"]

TIME_DTYPE = pl.Datetime("ns", "UTC")

# Epoch magnitudes: a present-day instant is ~1.7e9 s, ~1.7e12 ms, ~1.7e15 us, ~1.7e18 ns.
_EPOCH_UNITS = (("s", 1e11), ("ms", 1e14), ("us", 1e17), ("ns", float("inf")))


def coerce_time(
    series: pl.Series, *, source: str, column: str, report: LoadReport, unit: str | None = None
) -> pl.Series:
    """Bring a column of instants to ``Datetime("ns", "UTC")`` and report how.

    Numbers are epochs whose unit is ``unit`` or guessed from their magnitude; strings are parsed
    as ISO 8601 (offsets honoured, naive values read as UTC); naive datetimes are read as UTC and
    aware ones converted. Values that cannot be read raise a DataError naming the first bad row.
    """
    name = series.name
    dtype = series.dtype
    n = len(series)
    if n == 0:
        return pl.Series(name, [], dtype=TIME_DTYPE)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            report.add(source, column, "read naive times as UTC", n, "the column carries no time zone")
            out = series.dt.replace_time_zone("UTC")
        else:
            out = series.dt.convert_time_zone("UTC")
        return _check_plausible(out.dt.cast_time_unit("ns"), source, column, report)
    if dtype == pl.Date:
        report.add(source, column, "read dates as midnight UTC", n, "the column holds dates without times")
        return series.cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")
    if dtype.is_numeric():
        return _epoch_times(series, source=source, column=column, report=report, unit=unit)
    if dtype == pl.String:
        return _string_times(series, source=source, column=column, report=report)
    raise DataError(
        f"cannot use a column of type {dtype} as time", source=source, column=column,
        hint="Give epoch numbers, ISO 8601 strings or datetimes",
    )


def _epoch_times(series: pl.Series, *, source: str, column: str, report: LoadReport, unit: str | None) -> pl.Series:
    """Epoch numbers in ``unit`` (guessed from the median magnitude when None) as UTC nanoseconds."""
    name = series.name
    dtype = series.dtype
    n = len(series)
    # Integers cannot be NaN or infinite: check nulls and take the median without a float copy.
    values = series if dtype.is_integer() else series.cast(pl.Float64)
    usable = values.drop_nulls() if dtype.is_integer() else values.filter(values.is_finite())
    if len(usable) == 0:
        raise DataError(
            "no usable time value", source=source, column=column,
            hint="The time column is empty, NaN or infinite; give epoch numbers or ISO 8601 strings",
        )
    if len(usable) < n:
        bad = values.is_null() if dtype.is_integer() else (~values.is_finite()) | values.is_null()
        raise DataError(
            "a time value is missing, NaN or infinite", source=source, column=column,
            row=int(bad.arg_max() or 0), hint="Every row needs a time; remove or fix that row",
        )
    if unit is None:
        magnitude = float(cast(float, usable.abs().median()) or 0.0)
        unit = next(u for u, limit in _EPOCH_UNITS if magnitude < limit)
        report.add(source, column, f"read numbers as epoch {unit}", n,
                   f"median magnitude {magnitude:.3g} fits epoch {unit}; pass time_unit= to override")
    factor = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
    if dtype.is_integer():
        ns = series.cast(pl.Int64) if factor == 1 else series.cast(pl.Int64) * factor
    else:
        ns = (values * factor).round(0).cast(pl.Int64)
    out = ns.cast(pl.Datetime("ns")).dt.replace_time_zone("UTC").alias(name)
    return _check_plausible(out, source, column, report)


def _string_times(series: pl.Series, *, source: str, column: str, report: LoadReport) -> pl.Series:
    """ISO 8601 strings as UTC nanoseconds: zoned ones through Arrow, the rest each with its own offset
    (naive ones read as UTC and reported)."""
    name = series.name
    zoned = parse_zoned_times(series)
    if zoned is not None and zoned.null_count() == 0:
        return _check_plausible(zoned.alias(name), source, column, report)
    # Fast path: RFC 3339 in UTC ('2023-01-30T11:51:00.123Z'), what exporters write.
    fast = series.str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.fZ", strict=False, time_unit="ns", time_zone="UTC")
    if fast.null_count() == series.null_count():
        return _check_plausible(fast.alias(name), source, column, report)
    stripped = series.str.strip_chars()
    parsed = _parse_time_strings(stripped)
    failed = parsed.is_null() & stripped.is_not_null() & (stripped != "")
    if failed.any():
        row = int(failed.arg_max() or 0)
        raise DataError(
            f"cannot read {stripped[row]!r} as a time", source=source, column=column, row=row,
            hint="Use ISO 8601 (2023-01-30T11:51:00Z) or epoch numbers, or pass time_format= to the loader "
                 "(rcakit.telemetry.loaders.read_csv)",
        )
    empty = parsed.is_null()
    if empty.any():
        row = int(empty.arg_max() or 0)
        raise DataError("a time value is empty", source=source, column=column, row=row,
                        hint="Every row needs a time; remove or fix that row")
    has_offset = stripped.str.contains(r"(Z|[+-]\d\d:?\d\d)$")
    naive = int((~has_offset).sum())
    if naive:
        report.add(source, column, "read naive time strings as UTC", naive,
                   "no offset or Z in the text; pass times with an offset to be explicit")
    return _check_plausible(parsed.alias(name), source, column, report)


def parse_zoned_times(series: pl.Series) -> pl.Series | None:
    """ISO 8601 times that all carry a zone (``Z`` or ``+02:00``) as UTC nanoseconds, or None.

    Arrow's parser reads ten million such strings in about a tenth of the time polars' strptime
    takes. It is strict: one value without a zone designator, with spaces around it, or otherwise
    unreadable fails the whole column (None), and the caller goes on with the slower parsers that
    read, report or reject each variant. Nulls stay null (the caller decides about them).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        parsed = pc.cast(series.to_arrow(), pa.timestamp("ns", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    out = pl.Series(series.name, parsed)
    if out.dtype != TIME_DTYPE:  # pragma: no cover - depends only on the pyarrow version
        return None
    return out


_PLAUSIBLE = (datetime(1980, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


def _check_plausible(times: pl.Series, source: str, column: str, report: LoadReport) -> pl.Series:
    """Keep implausible instants (before 1980 or after 2200) but say so: they are usually a zero or
    sentinel value upstream (Go's zero time, -1), or an epoch read in the wrong unit."""
    if times.null_count():  # every path ends here: a null time would sit outside every window unseen
        row = int(times.is_null().arg_max() or 0)
        raise DataError("a time value is missing", source=source, column=column, row=row,
                        hint="Every row needs a time; remove or fix that row")
    outside = (times < _PLAUSIBLE[0]) | (times > _PLAUSIBLE[1])
    count = int(outside.sum() or 0)
    if count:
        row = int(outside.fill_null(False).arg_max() or 0)
        report.add(source, column, "kept implausible times (before 1980 or after 2200)", count,
                   f"first at row {row}: {times[row]}; probably a sentinel value or a wrong epoch unit")
    return times


def _parse_time_strings(strings: pl.Series) -> pl.Series:
    """Parse ISO-like strings, each with its own offset, to UTC nanoseconds (null where unreadable)."""
    frame = strings.to_frame("s")
    # Normalise the common variants to one shape before parsing: 'T' or ' ' between date and time,
    # 'Z' or '+HH:MM' or '+HHMM' or nothing at the end, a trailing ' UTC'.
    text = (
        pl.col("s")
        .str.replace(r"\s+UTC$", "Z")
        .str.replace(r" \+0000 UTC.*$", "Z")
        .str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"([+-]\d\d)(\d\d)$", "${1}:${2}")
    )
    with_offset = text.str.contains(r"[+-]\d\d:\d\d$")
    aware = text.str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="ns", time_zone="UTC"
    )
    naive = text.str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="ns").dt.replace_time_zone(
        "UTC"
    )
    date_only = text.str.to_datetime(format="%Y-%m-%d", strict=False, time_unit="ns").dt.replace_time_zone("UTC")
    out = frame.select(
        pl.when(with_offset).then(aware).otherwise(pl.coalesce(naive, date_only)).alias("t")
    ).to_series()
    return out
