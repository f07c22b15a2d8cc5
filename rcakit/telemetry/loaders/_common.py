"""What every loader shares: paths and compression, column mappings, handing frames to Telemetry."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, cast

import numpy as np
import polars as pl

from rcakit.errors import DataError, SchemaError
from rcakit.telemetry._schema import normalize_spans
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

__all__ = [
    "CANONICAL",
    "REQUIRED",
    "STRING_COLUMNS",
    "Kind",
    "PathLike",
    "apply_mapping",
    "as_path",
    "build_telemetry",
    "combine",
    "decompress_gzip",
    "gather",
    "is_gzip",
    "path_list",
    "read_bytes",
    "read_head",
    "time_column",
]

PathLike = str | os.PathLike[str]
Kind = Literal["metrics", "logs", "spans"]

CANONICAL: dict[str, tuple[str, ...]] = {
    "metrics": ("time", "entity", "metric", "value"),
    "logs": ("time", "entity", "level", "message", "trace_id", "span_id"),
    "spans": ("trace_id", "span_id", "parent_id", "entity", "operation", "start", "end", "duration", "error",
              "status"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "metrics": ("time", "entity", "metric", "value"),
    "logs": ("time", "entity", "message"),
    "spans": ("trace_id", "span_id", "entity", "start"),
}
# Canonical columns that hold names or ids: read them as text so that an id such as '0012' or a
# span id made only of digits keeps its spelling.
STRING_COLUMNS: dict[str, tuple[str, ...]] = {
    "metrics": ("entity", "metric"),
    "logs": ("entity", "level", "message", "trace_id", "span_id"),
    "spans": ("trace_id", "span_id", "parent_id", "entity", "operation", "status"),
}
# Column names that commonly mean a canonical one; used only when neither the canonical name nor a
# mapping names the column, and reported.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("timestamp", "ts", "datetime", "date_time", "time_unix_nano", "timeunixnano", "@timestamp"),
    "entity": ("service", "service_name", "servicename", "component", "pod", "podname", "host", "node",
               "instance", "resource"),
    "metric": ("metric_name", "name", "kpi", "kpi_name"),
    "value": ("val", "metric_value"),
    "message": ("msg", "log", "body", "line", "text"),
    "level": ("severity", "severity_text", "loglevel", "log_level"),
    "trace_id": ("traceid", "trace"),
    "span_id": ("spanid",),
    "parent_id": ("parentid", "parent_span_id", "parentspanid", "parent"),
    "operation": ("operationname", "operation_name", "span_name", "spanname", "endpoint"),
    "start": ("start_time", "starttime", "start_time_unix_nano", "starttimeunixnano", "timestamp"),
    "end": ("end_time", "endtime", "end_time_unix_nano", "endtimeunixnano"),
}


def as_path(path: PathLike) -> Path:
    """The path as a Path, or a DataError when there is no readable file there."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise DataError("no such file", source=str(p), hint="Check the path (relative paths start at the "
                        f"current folder, {Path.cwd()})")
    if p.is_dir():
        raise DataError("this is a folder, not a file", source=str(p),
                        hint="Pass one file; for a dataset folder use rcakit.telemetry.datasets")
    if p.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes)", source=str(p),
                        hint="The export or copy produced nothing; export the data again")
    return p


def path_list(value: PathLike | Sequence[PathLike]) -> list[PathLike]:
    """One path, or a sequence of paths, as a list."""
    if isinstance(value, str | Path) or not isinstance(value, Sequence):
        return [value]  # type: ignore[list-item]
    return list(value)


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _truncated_gzip(path: Path) -> DataError:
    return DataError("the gzip stream ends early: the file is truncated or damaged", source=str(path),
                     hint="Copy or download it again (`gzip -t FILE` checks a gzip file)")


def read_head(path: Path, size: int = 1 << 16) -> bytes:
    """The first ``size`` bytes of the (decompressed) file."""
    if is_gzip(path):
        out = bytearray()
        decomp = zlib.decompressobj(wbits=31)
        with open(path, "rb") as handle:
            while len(out) < size:
                chunk = handle.read(1 << 16)
                if not chunk:
                    break
                try:
                    out += decomp.decompress(chunk, size - len(out))
                except zlib.error as exc:
                    raise DataError(f"cannot decompress the gzip file ({exc})", source=str(path),
                                    hint="Copy or download it again (`gzip -t FILE` checks a gzip file)") from exc
                while decomp.unconsumed_tail and len(out) < size:
                    out += decomp.decompress(decomp.unconsumed_tail, size - len(out))
                if decomp.eof:
                    break
        return bytes(out)
    with open(path, "rb") as handle:
        return handle.read(size)


try:  # ISA-L inflates gzip about twice as fast as zlib (same format, same checks)
    from isal import igzip as _igzip
    from isal.isal_zlib import error as _isal_error
except ImportError:  # pragma: no cover - isal is optional; zlib gives the same bytes
    _igzip = None  # type: ignore[assignment]
    _isal_error = zlib.error  # type: ignore[misc,assignment]
_INFLATE_ERRORS: tuple[type[BaseException], ...] = (OSError, zlib.error, cast("type[BaseException]", _isal_error),
                                                    ValueError)


def decompress_gzip(data: bytes) -> bytes:
    """All members of a gzip stream, with ISA-L when installed (else zlib); raises EOFError when cut."""
    if _igzip is not None:
        return bytes(_igzip.decompress(data))
    return gzip.decompress(data)


def read_bytes(path: Path) -> bytes:
    """The whole (decompressed) file; a truncated gzip stream is a DataError naming the file."""
    if is_gzip(path):
        try:
            return decompress_gzip(path.read_bytes())
        except EOFError as exc:
            raise _truncated_gzip(path) from exc
        except _INFLATE_ERRORS as exc:
            if "end of" in str(exc).lower() or "truncated" in str(exc).lower():
                raise _truncated_gzip(path) from exc
            raise DataError(f"cannot decompress the gzip file ({exc})", source=str(path),
                            hint="Copy or download it again (`gzip -t FILE` checks a gzip file)") from exc
    return path.read_bytes()


def time_column(kind: str) -> str:
    return "start" if kind == "spans" else "time"


def check_kind(kind: str) -> None:
    if kind not in CANONICAL:
        raise ValueError(f"kind must be 'metrics', 'logs' or 'spans', got {kind!r}")


def apply_mapping(
    names: list[str],
    *,
    kind: str,
    columns: Mapping[str, str] | None,
    source: str,
    report: LoadReport,
    layout: str = "long",
) -> dict[str, str]:
    """The renames {file column: canonical} that bring a table's columns to the canonical names.

    ``columns`` maps canonical names to the file's names. A canonical column missing from both the
    file and the mapping is looked up among common aliases (case-insensitive) and the choice is
    reported; a required one still missing is a SchemaError naming the file and the column.
    """
    check_kind(kind)
    mapping = dict(columns or {})
    allowed = set(CANONICAL[kind]) if layout == "long" else {"time"}
    for canonical, theirs in mapping.items():
        if canonical not in allowed:
            raise SchemaError(
                f"columns= maps {canonical!r}, which is not a canonical {kind} column", source=source,
                column=canonical, hint=f"Keys are canonical names ({', '.join(sorted(allowed))}); values are your "
                "column names, for example columns={'time': 'Timestamp'}")
        if theirs not in names:
            raise SchemaError(
                f"columns= maps {canonical!r} to {theirs!r}, but the file has no such column (it has "
                f"{', '.join(map(repr, names[:12]))}{', ...' if len(names) > 12 else ''})",
                source=source, column=theirs, hint="Check the spelling (names are case-sensitive) and the separator")
    renames = {theirs: canonical for canonical, theirs in mapping.items() if theirs != canonical}
    taken = set(names) - set(renames) | set(renames.values())
    lower = {n.lower(): n for n in reversed(names)}
    wanted = CANONICAL[kind] if layout == "long" else ("time",)
    for canonical in wanted:
        if canonical in taken:
            continue
        for alias in ALIASES.get(canonical, ()):
            found = lower.get(alias)
            if found is not None and found not in renames and found not in CANONICAL[kind]:
                renames[found] = canonical
                taken.add(canonical)
                report.add(source, canonical, f"used column {found!r} as {canonical!r}", 1,
                           f"no {canonical!r} column and no mapping; pass columns={{{canonical!r}: ...}} to choose")
                break
    # A file column that already has a canonical name being mapped onto is kept under another name.
    for original in names:
        if original in renames.values() and original not in renames:
            renames[original] = f"{original}_original"
            report.add(source, original, f"renamed the file's own {original!r} column to {original + '_original'!r}",
                       1, f"columns= maps another column to {original!r}")
    final = [renames.get(n, n) for n in names]
    required = REQUIRED[kind] if layout == "long" else ("time",)
    for canonical in required:
        if canonical not in final:
            raise SchemaError(
                f"the {kind} table has no column {canonical!r} (it has {', '.join(map(repr, names[:12]))}"
                f"{', ...' if len(names) > 12 else ''})",
                source=source, column=canonical,
                hint=f"Pass columns={{{canonical!r}: '<your column>'}}; {kind} need {', '.join(required)}")
    if kind == "spans" and layout == "long" and "end" not in final and "duration" not in final:
        raise SchemaError(
            f"the spans table has neither 'end' nor 'duration' (it has {', '.join(map(repr, names[:12]))})",
            source=source, column="end",
            hint="Map the end time (columns={'end': ...}) or the duration in seconds (columns={'duration': ...})")
    return renames


def gather(series: pl.Series, index: pl.Series) -> pl.Series:
    """``series.gather(index)`` that keeps string bytes shared with the source.

    On a series of several chunks (what a Parquet file of many row groups gives) polars 2.1 copies
    every string into a new buffer while gathering: at ten million spans that added 0.7 GB. One
    chunk first (which copies only the 16-byte views) lets the gathered views point at the same
    bytes, and is faster too.
    """
    if series.n_chunks() > 1:
        series = series.rechunk()
    return series.gather(index)


# Below this share of descents (a row earlier than the one before) timsort beats polars' arg sort:
# trace-grouped rows have about a third, half-shuffled rows 0.42, random rows a half.
_TIMSORT_DESCENTS = 0.35


def _stable_order(df: pl.DataFrame, column: str) -> pl.Series | None:
    """The permutation that sorts ``df`` by ``column`` (stable), or None when it is sorted already."""
    series = df.get_column(column)
    if df.height < 2 or series.is_sorted():
        return None
    if series.null_count() == 0 and series.to_physical().dtype.is_integer():
        values = series.to_physical().to_numpy()
        if np.count_nonzero(values[1:] < values[:-1]) < _TIMSORT_DESCENTS * len(values):
            # Log lines written by several processes, or trace by trace, are sorted but for local
            # overlaps. NumPy's stable sort (timsort) merges such runs in about a third of the CPU
            # time of polars' arg sort (measured on 1 M and 10 M trace-grouped rows); on shuffled
            # rows it is slower, so those go to polars.
            return pl.Series(column, np.argsort(values, kind="stable").astype(np.uint32 if len(values) < 2**32
                                                                                else np.uint64, copy=False))
    # Kept as a polars Series: gathering with it needs no conversion from numpy.
    return df.select(pl.arg_sort_by(column, maintain_order=True)).to_series()


def _presort(owned: list[pl.DataFrame], column: str, source: str, report: LoadReport, *, note: bool = True
             ) -> tuple[pl.DataFrame, pl.Series | None]:
    """Sort by time one column at a time, so that the peak memory is one column more than the table.

    ``DataFrame.sort`` (what the Telemetry constructor does) copies the whole table at once; for ten
    million log lines that is gigabytes. Only numeric and datetime times are sorted here (their order is
    the order of the instants); text times are left to the constructor. ``owned`` holds the only
    reference to the table, so that each old column is freed as soon as its sorted copy exists.
    """
    df = owned.pop()
    dtype = df.schema[column]
    if not (dtype.is_numeric() or isinstance(dtype, pl.Datetime)) or df.height < 2:
        return df, None
    if dtype.is_float() and not df.get_column(column).is_finite().all():
        return df, None
    order = _stable_order(df, column)
    if order is None:
        return df, None
    idx = order
    columns = {}
    for name in list(df.columns):
        old = df.drop_in_place(name)
        columns[name] = gather(old, idx)
        del old
    out = pl.DataFrame(columns)
    if note:
        report.add(source, column, "sorted rows by time", df.height, "the rows were not in time order")
    return out, order


def build_telemetry(
    kind: str,
    owned: list[pl.DataFrame],
    *,
    source: str,
    report: LoadReport,
    time_unit: str | None = None,
    presort: bool = True,
    report_sort: bool = True,
    order: pl.Series | np.ndarray | None = None,
) -> Telemetry:
    """A Telemetry holding the table in ``owned`` (a one-item list the caller no longer reads, so that
    memory can be freed while sorting) as its ``kind`` table, normalized by the Telemetry constructor.

    Rows are sorted here first (column by column, see ``_presort``); a DataError raised by the
    constructor about a row is re-raised with the row number of the file, not of the sorted table.
    ``order`` is the permutation already applied by the caller (see ``read_parquet_sorted``).
    """
    if order is not None:
        frame = owned.pop()
    elif presort and kind != "spans" and time_column(kind) in owned[0].columns:
        frame, order = _presort(owned, time_column(kind), source, report, note=report_sort)
    else:
        frame = owned.pop()
    try:
        if kind == "spans":
            from rcakit.telemetry.loaders._spans import check_span_tree

            spans = normalize_spans(frame, source=source, report=report, time_unit=time_unit, find_roots=False)
            del frame  # the normalized table shares what it kept; drop the columns it replaced
            spans = check_span_tree(spans, source=source, report=report)
            tel = Telemetry(spans=spans, report=report, validated=True)
        else:
            tel = Telemetry(frame if kind == "metrics" else None, frame if kind == "logs" else None,
                            source=source, report=report, time_unit=time_unit)
            del frame  # the constructor's output shares what it kept; drop the columns it replaced
    except DataError as exc:
        if order is not None and exc.row is not None and 0 <= exc.row < len(order):
            cls = type(exc)
            raise cls(exc.problem, source=exc.source, column=exc.column, row=int(order[exc.row]),
                      hint=exc.hint) from exc
        raise
    return tel


_WHOLE_FILE_BYTES = 64 << 20


def read_parquet_sorted(path: Path, renames: dict[str, str], kind: str, source: str, report: LoadReport
                        ) -> tuple[pl.DataFrame, pl.Series | None] | None:
    """Read a Parquet table sorted by its time column, one column at a time.

    Reading every column and then sorting holds the unsorted and the sorted table at once; here
    only the time column is read first, and each other column is read, put in time order and its
    unsorted copy dropped before the next one is read. None when the time column is not numeric or
    datetime (the constructor parses and sorts it); the permutation is None when no sort was needed.
    """
    canonical = time_column(kind)
    original = next((theirs for theirs, ours in renames.items() if ours == canonical), canonical)
    schema = pl.read_parquet_schema(path)
    dtype = schema.get(original)
    if dtype is None or not (dtype.is_numeric() or isinstance(dtype, pl.Datetime)):
        return None
    # A small file is read whole (one pass, columns decoded in parallel); a large one column by
    # column, so that at most one unsorted column is held next to the sorted ones.
    whole = pl.read_parquet(path) if path.stat().st_size < _WHOLE_FILE_BYTES else None
    times = whole.select(original) if whole is not None else pl.read_parquet(path, columns=[original])
    if times.height < 2 or (dtype.is_float() and not times.get_column(original).is_finite().all()):
        return None
    order = _stable_order(times, original)
    if order is None:
        if whole is None:
            rest = pl.read_parquet(path, columns=[name for name in schema if name != original])
            whole = rest.with_columns(times.get_column(original)).select(list(schema))
        return whole.rename(renames), None
    index = order
    if whole is not None:
        # A small table: every column gathered at once, on polars' threads (one chunk per column
        # first, see ``gather``).
        if any(s.n_chunks() > 1 for s in whole.get_columns()):
            whole = whole.rechunk()
        frame = whole.select(pl.all().gather(index))
        del whole, times
    else:
        # A large one: each column read, put in time order and its unsorted copy dropped in turn.
        columns = {original: gather(times.get_column(original), index)}
        del times
        for name in schema:
            if name != original:
                raw = pl.read_parquet(path, columns=[name]).to_series()
                columns[name] = gather(raw, index)
                del raw
        frame = pl.DataFrame({name: columns.pop(name) for name in schema})
    report.add(source, canonical, "sorted rows by time", frame.height, "the rows were not in time order")
    return frame.rename(renames), order


def gzip_open_error(path: Path, exc: BaseException) -> DataError:
    text = str(exc)
    if "end of file" in text or "EOF" in text or "truncated" in text:
        return _truncated_gzip(path)
    return DataError(f"cannot read the file ({text.splitlines()[0] if text else type(exc).__name__})",
                     source=str(path), hint="Check that the file is complete and in the format you named")


def combine(parts: list[Telemetry], report: LoadReport) -> Telemetry:
    """One Telemetry from parts that each hold a different table (no re-sorting needed)."""
    if not parts:
        return Telemetry(report=report)
    tables: dict[str, pl.DataFrame | None] = {"metrics": None, "logs": None, "spans": None}
    for part in parts:
        for name in tables:
            table = getattr(part, name)
            if table.height:
                tables[name] = table
    return Telemetry(tables["metrics"], tables["logs"], tables["spans"], report=report, validated=True)
