"""The schema checks of a store's table: every file's columns, and whether the files can be scanned together.

Parquet schemas come from the file footers and CSV columns from the header line, so nothing but
the schema is read. A file lacking a required column, or whose column types cannot be combined
with the first file's, is a :class:`~rcakit.errors.SchemaError` naming it; files of several
compatible schemas are scanned one by one and combined as the eager readers combine them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from rcakit.errors import DataError, SchemaError
from rcakit.telemetry.loaders._common import REQUIRED, apply_mapping, read_head
from rcakit.telemetry.loaders._delimited import header_names
from rcakit.telemetry.loaders._partitions import Table
from rcakit.telemetry.report import LoadReport

__all__ = ["check_schemas", "file_schema", "remote_schema"]


def file_schema(table: Table, file: str, separator: str) -> list[str] | dict[str, pl.DataType]:
    """A Parquet file's schema (footer only) or a CSV file's header names."""
    try:
        if table.fmt == "parquet":
            return dict(pl.read_parquet_schema(file))
        return header_names(read_head(Path(file)), separator)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read the file's schema ({str(exc).splitlines()[0]})", source=file,
                        hint="The file may be truncated or not a " + table.fmt + " file; write it again") from exc


def _compatible(a: pl.DataType, b: pl.DataType) -> bool:
    if a == b:
        return True
    if a.is_numeric() and b.is_numeric():
        return True
    return isinstance(a, pl.Datetime) and isinstance(b, pl.Datetime)


def check_schemas(table: Table, files: list[str], schemas: list[list[str] | dict[str, pl.DataType]],
                   columns: Mapping[str, str] | None) -> list[list[str]]:
    """Groups of files sharing one schema; a SchemaError naming the file whose columns cannot be combined."""
    first, first_schema = files[0], schemas[0]
    required = set(REQUIRED[table.kind])
    for file, schema in zip(files, schemas, strict=True):
        names = [*schema, *(k for k in table.hive_keys if k not in schema)]
        renames = apply_mapping(names, kind=table.kind, columns=columns, source=file, report=LoadReport())
        canonical = {renames.get(n, n) for n in names}
        lacking = sorted(required - canonical - ({"end", "duration"} if table.kind == "spans" else set()))
        if lacking:  # pragma: no cover - apply_mapping raises first
            raise SchemaError(f"the file has no column {lacking[0]!r}", source=file, column=lacking[0])
        if isinstance(schema, dict) and isinstance(first_schema, dict):
            for name, dtype in schema.items():
                other = first_schema.get(name)
                if other is not None and not _compatible(dtype, other):
                    raise SchemaError(
                        f"the files of the {table.kind} disagree on column {name!r}: it is {dtype} here but "
                        f"{other} in {first}", source=file, column=name,
                        hint="Every file of one table needs the same column types: write this file again with "
                             "the others' types, or leave it out of the store")
    if len({_key(s) for s in schemas}) == 1:
        return [list(files)]
    # Several schemas (a column added later, ints here and floats there): one scan per file, combined
    # as the eager reader combines them (missing columns null, numbers relaxed to a common type).
    return [[f] for f in files]


def _key(schema: list[str] | dict[str, pl.DataType]) -> tuple[object, ...]:
    return tuple(schema.items()) if isinstance(schema, dict) else tuple(schema)


def remote_schema(table: Table, files: list[str], separator: str, storage: dict[str, object]) -> dict[str, pl.DataType]:
    source: str | list[str] = files if len(files) > 1 else files[0]
    try:
        if table.fmt == "parquet":
            return dict(pl.scan_parquet(source, storage_options=storage or None).collect_schema())
        return dict(pl.scan_csv(source, separator=separator, storage_options=storage or None).collect_schema())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read the {table.kind} ({str(exc).splitlines()[0]})", source=table.where,
                        hint="Check the URL and the credentials (storage_options=)") from exc
