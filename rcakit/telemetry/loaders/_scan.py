"""The scan of a store's table: one plan per kind and file set, and the filters pushed down to it.

A :class:`ScanPlan` holds how to scan the files of one kind (renames to the canonical names, the
types of CSV columns read as text, the time column's representation, with the epoch unit guessed
from the first file when it is not given) and builds one polars ``scan_parquet``/``scan_csv`` per
group of files of one schema. :func:`time_predicate` and :func:`entity_predicate` are the window
and entity filters on the stored columns: plain comparisons, so that Parquet statistics skip row
groups, and a superset of the rows (the exact filter follows normalization).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from rcakit.errors import SchemaError
from rcakit.telemetry._schema import _EPOCH_UNITS
from rcakit.telemetry.loaders._common import STRING_COLUMNS, apply_mapping, read_head, time_column
from rcakit.telemetry.loaders._delimited import sniff_separator
from rcakit.telemetry.loaders._partitions import Table
from rcakit.telemetry.loaders._store_schema import check_schemas, file_schema, remote_schema
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow

__all__ = ["FILE_COLUMN", "ScanPlan", "build_plan", "entity_predicate", "time_predicate", "to_instant"]

FILE_COLUMN = "__rcakit_file"


@dataclass
class ScanPlan:
    """How to scan a set of files of one kind: renames, types, the time column's representation."""

    table: Table
    files: list[str]
    groups: list[list[str]]  # files sharing one schema, in file order (several: scanned one by one)
    renames: dict[str, str]
    schema: dict[str, pl.DataType]  # canonical names
    time: str
    unit: str | None
    unit_guessed: bool
    time_format: str | None
    separator: str
    overrides: dict[str, pl.DataType]
    storage: dict[str, object]
    drop: tuple[str, ...] = ()

    def with_override(self, column: str) -> ScanPlan:
        overrides = {**self.overrides, column: pl.String()}
        canonical = self.renames.get(column, column)
        schema = {**self.schema}
        if canonical in schema:
            schema[canonical] = pl.String()
        return ScanPlan(self.table, self.files, self.groups, self.renames, schema, self.time, self.unit,
                     self.unit_guessed, self.time_format, self.separator, overrides, self.storage, self.drop)

    def frames(self) -> list[pl.LazyFrame]:
        """One LazyFrame per group of files of one schema (a file at a time when the schemas differ)."""
        return [self._scan(files) for files in self.groups]

    def _scan(self, files: list[str]) -> pl.LazyFrame:
        source: str | list[str] = files if len(files) > 1 else files[0]
        storage = self.storage or None
        if self.table.fmt == "parquet":
            lf = pl.scan_parquet(source, hive_partitioning=self.table.hive or None, include_file_paths=FILE_COLUMN,
                                 storage_options=storage, glob=self.table.remote)
        else:
            lf = pl.scan_csv(source, separator=self.separator, schema_overrides=self.overrides,
                             infer_schema_length=10_000, include_file_paths=FILE_COLUMN, storage_options=storage,
                             glob=self.table.remote, raise_if_empty=False)
        renames = {k: v for k, v in self.renames.items() if k in lf.collect_schema().names()}
        return lf.rename(renames) if renames else lf


def build_plan(table: Table, files: list[str], columns: Mapping[str, str] | None, options: Mapping[str, Any],
          storage: dict[str, object]) -> ScanPlan:
    kind = table.kind
    separator = options.get("separator") or ","
    if table.fmt == "csv" and options.get("separator") is None and not table.remote:
        separator, _ = sniff_separator(read_head(Path(files[0])))
    if table.remote:
        schemas: list[list[str] | dict[str, pl.DataType]] = [remote_schema(table, files, separator, storage)]
        groups = [list(files)]
    else:
        schemas = [file_schema(table, f, separator) for f in files]
        groups = check_schemas(table, files, schemas, columns)
    names = list(dict.fromkeys([*(n for s in schemas for n in s), *table.hive_keys]))
    renames = apply_mapping(names, kind=kind, columns=columns, source=files[0], report=LoadReport())
    overrides: dict[str, pl.DataType] = {}
    if table.fmt == "csv":
        mapping = dict(columns or {})
        wanted = {mapping.get(c, c) for c in STRING_COLUMNS[kind]}
        overrides = {name: pl.String() for name in names if name in wanted}
    plan = ScanPlan(table, files, groups, renames, {}, time_column(kind), options.get("time_unit"), False,
                 options.get("time_format"), separator, overrides, storage)
    first = plan.frames()[0]
    schema = dict(first.collect_schema())
    known = {renames.get(n, n) for n in names}
    plan.drop = tuple(c for c in schema if c not in known and c != FILE_COLUMN)  # time partition keys
    plan.schema = {c: t for c, t in schema.items() if c != FILE_COLUMN}
    time = plan.time
    if time not in plan.schema:  # pragma: no cover - apply_mapping requires it
        raise SchemaError(f"the {kind} have no column {time!r}", source=files[0], column=time)
    dtype = plan.schema[time]
    if dtype.is_numeric() and plan.unit is None:
        sample = first.select(time).head(10_000).collect().get_column(time).drop_nulls()
        if dtype.is_float():
            sample = sample.filter(sample.is_finite())
        magnitude = float(sample.abs().median() or 0.0) if len(sample) else 0.0  # type: ignore[arg-type]
        plan.unit = next(u for u, limit in _EPOCH_UNITS if magnitude < limit)
        plan.unit_guessed = True
    return plan


# The epoch units' nanoseconds, to compare the window with numbers as stored.
_FACTORS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _ns(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000


def time_predicate(column: str, dtype: pl.DataType, win: TimeWindow, unit: str | None,
                    time_format: str | None) -> pl.Expr:
    """A filter that keeps every row of ``win`` (and maybe a few more): the exact one follows normalization.

    Plain comparisons on the stored column, so that Parquet statistics skip row groups; text times are
    parsed in the scan and rows that do not parse are kept (the normalizer decides about them).
    """
    col = pl.col(column)
    lo, hi = win.start, win.end
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return col.is_between(lo.replace(tzinfo=None), hi.replace(tzinfo=None), closed="left") | col.is_null()
        return col.is_between(lo, hi, closed="left") | col.is_null()
    if dtype == pl.Date:
        return col.is_between(lo.date(), hi.date(), closed="both")
    if dtype.is_numeric():
        factor = _FACTORS[unit or "ns"]
        low, high = _ns(lo) // factor, -(-_ns(hi) // factor)
        if dtype.is_float():
            return ((col >= low - 1) & (col <= high + 1)) | col.is_nan() | col.is_null()
        return col.is_between(low, high, closed="both") | col.is_null()
    if dtype == pl.String:
        text = col.str.strip_chars()
        if time_format is not None:
            aware = "%z" in time_format or "%Z" in time_format
            parsed = (text.str.to_datetime(time_format, strict=False, time_unit="ns", time_zone="UTC") if aware
                      else text.str.to_datetime(time_format, strict=False, time_unit="ns").dt.replace_time_zone("UTC"))
        else:
            parsed = pl.coalesce(
                text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="ns", time_zone="UTC"),
                text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="ns").dt.replace_time_zone("UTC"),
                text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="ns").dt.replace_time_zone("UTC"),
            )
        # One day of slack each side: a time in another notation (an offset polars reads differently) is
        # still kept, and the exact filter after normalization drops it if it is outside.
        return parsed.is_null() | parsed.is_between(lo - timedelta(days=1), hi + timedelta(days=1))
    return pl.lit(True)


def entity_predicate(names: list[str], dtype: pl.DataType) -> pl.Expr:
    """Rows of these entities as the normalizer will name them (':' in a name becomes '_')."""
    col = pl.col("entity") if dtype == pl.String else pl.col("entity").cast(pl.String)
    variants: set[str] = set()
    for name in names:
        count = name.count("_")
        if count > 6:
            return col.str.replace_all(":", "_", literal=True).is_in(names)
        pieces = name.split("_")
        for joins in itertools.product("_:", repeat=count):
            variants.add(pieces[0] + "".join(j + p for j, p in zip(joins, pieces[1:], strict=True)))
    return col.is_in(sorted(variants))


def to_instant(value: object, unit: str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        ns = int(value * _FACTORS[unit or "ns"])
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None
