"""Raw tables (as a CSV or Parquet file holds them) into canonical columns, then into one Telemetry.

:func:`prepare_table` renames the columns by the mapping, parses text times (with ``time_format``
or as RFC 3339) and melts a wide metrics table; :func:`finish_tables` concatenates the prepared
tables of several files, normalizes them once and names the file and row of an error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
import pyarrow.compute  # noqa: F401  (parses ISO 8601 time columns; imported with the loaders, not on first read)

from rcakit.errors import DataError
from rcakit.telemetry._schema import parse_zoned_times
from rcakit.telemetry._wide import wide_to_long
from rcakit.telemetry.loaders._common import apply_mapping, build_telemetry
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import Coercion, LoadReport

__all__ = ["finish_tables", "prepare_table"]


def prepare_table(
    df: pl.DataFrame,
    *,
    kind: str,
    layout: str,
    columns: Mapping[str, str] | None,
    entity: str | None,
    source: str,
    report: LoadReport,
    time_format: str | None = None,
) -> pl.DataFrame:
    """The raw table renamed to canonical columns (melted when wide), ready for the constructor."""
    renames = apply_mapping(df.columns, kind=kind, columns=columns, source=source, report=report, layout=layout)
    if renames:
        df = df.rename(renames)
    times = ("start", "end") if kind == "spans" and layout == "long" else ("time",)
    if time_format is not None:
        df = _parse_with_format(df, times, time_format, source, report)
    if layout == "wide":
        if kind != "metrics":
            raise ValueError(f"layout='wide' is for metrics only, got kind={kind!r}")
        return wide_to_long(df, time="time", source=source, report=report, entity=entity)
    if layout != "long":
        raise ValueError(f"layout must be 'long' or 'wide', got {layout!r}")
    return _parse_utc_strings(df, ("start", "end") if kind == "spans" else ("time",), source, report)


_SMALL_CHUNK_ROWS = 65_536


def finish_tables(
    frames: list[tuple[pl.DataFrame, str, LoadReport]],
    *,
    kind: str,
    layout: str,
    time_unit: str | None,
) -> Telemetry:
    """One Telemetry from prepared tables of one or more files.

    Several files are concatenated and normalized once (much faster than one model per file); a
    DataError about a row of the concatenation is re-raised naming the file and its own row.
    """
    kind_table = "metrics" if layout == "wide" else kind
    if len(frames) == 1:
        df, source, report = frames.pop()
        owned = [df]
        del df
        # Melting a wide table lists one column after another; putting the rows back in time order
        # is not a change to the user's data, so it is not reported.
        return build_telemetry(kind_table, owned, source=source, report=report, time_unit=time_unit,
                               report_sort=layout != "wide")
    sources = [source for _, source, _ in frames]
    offsets = np.cumsum([0] + [df.height for df, _, _ in frames])
    report = _combine_reports([r for _, _, r in frames], len(frames))
    combined = f"{sources[0]} (+{len(sources) - 1} more files)"
    combined_frame = pl.concat([df for df, _, _ in frames], how="diagonal_relaxed")
    frames.clear()
    first = combined_frame.get_column(combined_frame.columns[0])
    if first.n_chunks() > 1 and combined_frame.height < _SMALL_CHUNK_ROWS * first.n_chunks():
        # Many small files leave many small chunks, and every later pass pays per chunk: one rechunk
        # (string views copied, not their bytes) made the Nezha day's spans normalize 4x faster.
        combined_frame = combined_frame.rechunk()
    owned = [combined_frame]
    del combined_frame, first
    try:
        return build_telemetry(kind_table, owned, source=combined, report=report, time_unit=time_unit,
                               report_sort=layout != "wide")
    except DataError as exc:
        if exc.row is None or exc.source != combined:
            raise
        index = int(np.searchsorted(offsets, exc.row, side="right")) - 1
        raise type(exc)(exc.problem, source=sources[index], column=exc.column, row=int(exc.row - offsets[index]),
                        hint=exc.hint) from exc


def _combine_reports(reports: list[LoadReport], files: int) -> LoadReport:
    """One report for several files: a coercion made alike in several files becomes one line."""
    grouped: dict[tuple[str | None, str, bool], list[Coercion]] = {}
    for report in reports:
        for c in report:
            grouped.setdefault((c.column, c.action, c.dropped), []).append(c)
    out = LoadReport()
    for (column, action, dropped), items in grouped.items():
        if len(items) == 1:
            out.coercions.append(items[0])
            continue
        source = f"{len(items)} of {files} files ({items[0].source}, ...)"
        out.add(source, column, action, sum(c.rows for c in items), items[0].reason, dropped=dropped)
    return out


def _parse_with_format(df: pl.DataFrame, columns: tuple[str, ...], time_format: str, source: str,
                       report: LoadReport) -> pl.DataFrame:
    """Parse text time columns with a strptime format (``%d/%m/%Y %H:%M:%S``); naive results are UTC."""
    aware = "%z" in time_format or "%Z" in time_format
    for name in columns:
        if name not in df.columns:
            continue
        text = df.get_column(name).cast(pl.String)
        if aware:
            parsed = text.str.to_datetime(time_format, strict=False, time_unit="ns", time_zone="UTC")
        else:
            parsed = text.str.to_datetime(time_format, strict=False, time_unit="ns").dt.replace_time_zone("UTC")
        failed = parsed.is_null() & text.is_not_null()
        if failed.any():
            row = int(failed.arg_max() or 0)
            raise DataError(f"cannot read {text[row]!r} with time_format={time_format!r}", source=source,
                            column=name, row=row, hint="Fix the format (Python strptime codes) or that row")
        if not aware:
            report.add(source, name, "read naive times as UTC", df.height,
                       f"time_format={time_format!r} has no %z; times are taken as UTC")
        df = df.with_columns(parsed.alias(name))
    return df


def _parse_utc_strings(df: pl.DataFrame, columns: tuple[str, ...], source: str, report: LoadReport) -> pl.DataFrame:
    """Parse time columns written as RFC 3339 UTC (``2023-01-30T12:38:15.808553146Z``) in one pass.

    This is the common export format; rows without the ``Z`` but otherwise in that shape are read as
    UTC and reported (as the Telemetry constructor would). Any other shape leaves the column to the
    constructor, which handles every variant and reports it.
    """
    for name in columns:
        if name not in df.columns or df.schema[name] != pl.String:
            continue
        text = df.get_column(name)
        zoned = parse_zoned_times(text)
        if zoned is not None and zoned.null_count() == 0:
            # Every value has a zone designator ('Z' or an offset): read in one pass by Arrow.
            df = df.with_columns(zoned.alias(name))
            continue
        parsed = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", strict=False, time_unit="ns")
        missing = int(parsed.null_count() - text.null_count())
        if missing:
            naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="ns")
            parsed = parsed.fill_null(naive)
            if parsed.null_count() != text.null_count():
                continue
            report.add(source, name, "read naive time strings as UTC", missing,
                       "no offset or Z in the text; pass times with an offset to be explicit")
        df = df.with_columns(parsed.dt.replace_time_zone("UTC").alias(name))
    return df
