"""Lazy reading: a :class:`TelemetryStore` reads only the rows of one incident's window and entities.

A *store* is the telemetry of a system over a long time, in files too large to load whole. Each
table kind (spans, logs, metrics) is any of:

* a file, a list of files, a glob (``spans/*.parquet``; ``**`` reaches into sub-folders) or a folder
  (every ``.parquet``, ``.csv``, ``.csv.gz`` below it; names starting with ``.`` or ``_`` are skipped);
* an object-store URL that polars reads (``s3://bucket/spans/*.parquet``, ``gs://``, ``az://``,
  ``https://``; credentials through ``storage_options=`` or the usual environment variables).

A *store folder* holds one sub-folder (or one file, as ``Incident.save`` writes them) per kind:
``spans/``, ``logs/``, ``metrics/``. Folders named ``key=value`` are hive partitions; folders
``date=YYYY-MM-DD`` (optionally with ``hour=HH`` below) are **time partitions**: a file under
``date=2026-01-05/hour=07`` must hold only rows whose time (a span's ``start``) lies in that hour.
The files of partitions outside an incident's window are not opened at all, and a partition missing
from the middle of the store's range that the window needs is a :class:`~rcakit.errors.DataError`
naming it (``missing_partitions="ignore"`` reads on without it).

The incident's time window and entities are pushed down to polars' scan (``scan_parquet`` /
``scan_csv``): Parquet row groups whose statistics lie outside the window are skipped, so an incident
of 30 minutes out of a week reads about 30 minutes of rows, and the memory it needs does not depend
on the size of the store. The rows read go through the same normalization as the eager readers
(``read_parquet`` / ``read_csv``): the result equals an eager read of the same files followed by
``Telemetry.window(...)`` and an entity filter, frame for frame. (The report can differ: it
describes the rows read, so orphan spans whose parent lies outside the window are counted.)

The parts live in their own modules: where the files are and their partitions in
:mod:`._partitions`, the schema checks in :mod:`._store_schema`, the scan and its pushed-down filters
in :mod:`._scan`, the results of ``describe()`` in :mod:`._store_description`, the exact window and
entity filter (also :func:`restrict`) in :mod:`._restrict`.

>>> store = TelemetryStore.open("store/")                     # doctest: +SKIP
>>> store.describe()                                          # doctest: +SKIP
>>> tel = store.incident(("2026-01-05 07:10", "2026-01-05 07:40"), entities=["checkout"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, build_telemetry, check_kind
from rcakit.telemetry.loaders._delimited import PARSE_ERROR
from rcakit.telemetry.loaders._partitions import Table, is_remote, resolve_table
from rcakit.telemetry.loaders._prepare import prepare_table
from rcakit.telemetry.loaders._restrict import entity_list, exact_filter, restrict
from rcakit.telemetry.loaders._scan import (
    FILE_COLUMN,
    ScanPlan,
    build_plan,
    entity_predicate,
    time_predicate,
    to_instant,
)
from rcakit.telemetry.loaders._store_description import KindDescription, ReadStats, StoreDescription
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow, WindowLike

__all__ = ["KindDescription", "ReadStats", "StoreDescription", "TelemetryStore", "restrict"]

KINDS = ("spans", "logs", "metrics")
_OPTIONS = ("time_unit", "separator", "time_format")


class TelemetryStore:
    """Spans, logs and metrics in files too large to load whole; :meth:`incident` reads one window of them.

    ``spans``, ``logs``, ``metrics``: each a path, glob, folder or URL, or a list of them (see the
    module doc). ``columns`` maps a kind to its column mapping and ``options`` a kind to its reader
    options (``time_unit``, ``separator``, ``time_format``), as in :func:`read_tables`.
    ``storage_options`` go to polars for object-store URLs. The store is a small picklable recipe
    (paths and options, nothing read), so a Dask worker can open it again.
    """

    def __init__(
        self,
        spans: PathLike | Sequence[PathLike] | None = None,
        logs: PathLike | Sequence[PathLike] | None = None,
        metrics: PathLike | Sequence[PathLike] | None = None,
        *,
        columns: Mapping[str, Mapping[str, str]] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        storage_options: Mapping[str, object] | None = None,
        missing_partitions: str = "raise",
    ) -> None:
        given = {"spans": spans, "logs": logs, "metrics": metrics}
        if all(value is None for value in given.values()):
            raise DataError("no files given", hint="Pass spans=, logs= and/or metrics= (a path, glob, folder or URL)")
        for name, given_map in (("columns", columns), ("options", options)):
            for key in given_map or {}:
                if key not in KINDS:
                    raise ValueError(f"{name}= keys are table kinds ({', '.join(KINDS)}), got {key!r}")
                if given[key] is None:
                    raise ValueError(f"{name}= has options for {key!r}, but no {key} files were given")
        self._columns = {k: dict(v) for k, v in (columns or {}).items()}
        self._options = {k: dict(v) for k, v in (options or {}).items()}
        for kind, opts in self._options.items():
            unknown = sorted(set(opts) - set(_OPTIONS))
            if unknown:
                raise TypeError(f"options[{kind!r}] has {unknown[0]!r}, which lazy reading does not take "
                                f"(it takes {', '.join(_OPTIONS)}); read such files eagerly with read_tables")
        self._tables = {kind: resolve_table(kind, value) for kind, value in given.items() if value is not None}
        if missing_partitions not in ("raise", "ignore"):
            raise ValueError(f"missing_partitions must be 'raise' or 'ignore', got {missing_partitions!r}")
        self._storage = dict(storage_options or {})
        self._missing = missing_partitions
        self.last_read = ReadStats()

    @classmethod
    def open(cls, path: PathLike | Sequence[PathLike], *, kind: str | None = None,
             columns: Mapping[str, str] | None = None, **options: Any) -> TelemetryStore:
        """A store from one path: a store folder (``spans/``, ``logs/``, ``metrics/`` inside) when
        ``kind`` is None, else the files of that one kind. ``columns`` is that kind's mapping and the
        other keyword options are ``time_unit``, ``separator``, ``time_format`` (of that kind),
        ``storage_options`` and ``missing_partitions``."""
        store_keys = {k: options.pop(k) for k in ("storage_options", "missing_partitions") if k in options}
        if kind is not None:
            check_kind(kind)
            return cls(spans=path if kind == "spans" else None, logs=path if kind == "logs" else None,
                       metrics=path if kind == "metrics" else None, columns={kind: columns} if columns else None,
                       options={kind: options} if options else None, **store_keys)
        if columns or options:
            raise TypeError("columns= and reader options need kind= (they belong to one table); for a store "
                            "folder pass TelemetryStore(spans=..., logs=..., columns={'spans': {...}})")
        if not isinstance(path, str | os.PathLike):
            raise TypeError("a store folder is one path; for a list of files pass kind=")
        root = Path(path)
        if is_remote(str(path)) or not root.is_dir():
            raise DataError("not a store folder", source=str(path),
                            hint="A store folder holds spans/, logs/ and/or metrics/ (folders or files "
                                 "spans.parquet ...); for files of one table pass kind='spans' (or logs, metrics)")
        found: dict[str, str] = {}
        for name in KINDS:
            if (root / name).is_dir():
                found[name] = str(root / name)
                continue
            for suffix in (".parquet", ".csv.gz", ".csv"):
                if (root / f"{name}{suffix}").is_file():
                    found[name] = str(root / f"{name}{suffix}")
                    break
        if not found:
            raise DataError("the folder has no spans, logs or metrics", source=str(root),
                            hint="A store folder holds spans/, logs/ and/or metrics/ (folders, or files "
                                 "spans.parquet, logs.parquet, metrics.parquet); for files of one table pass kind=")
        return cls(**found, **store_keys)  # type: ignore[arg-type]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._tables)

    def __repr__(self) -> str:
        return "TelemetryStore(" + ", ".join(f"{k}={t.where!r}" for k, t in self._tables.items()) + ")"

    # -- one incident --------------------------------------------------------------------------
    def incident(self, window: WindowLike, entities: Iterable[str] | None = None) -> Telemetry:
        """The telemetry of ``window`` (a TimeWindow or a (start, end) pair) and ``entities`` (all when None).

        Only the files of time partitions that overlap the window are opened and the filters are
        pushed down to the scan; the rows read are normalized as the eager readers do. Equal to an
        eager read of the same files followed by ``.window(window)`` and an entity filter. Errors name
        the file (and column) as the eager readers do; a partition missing inside the window is a
        DataError naming it.
        """
        win = TimeWindow.of(window)
        names = None if entities is None else entity_list(entities)
        stats = ReadStats()
        parts = []
        for kind, table in self._tables.items():
            tel, opened = self._read(table, win, names)
            stats.files[kind] = opened
            stats.partitions[kind] = table.partition_count(win)
            stats.rows[kind] = tel.metrics.height if kind == "metrics" else tel.logs.height if kind == "logs" \
                else tel.spans.height
            parts.append(tel)
        self.last_read = stats
        return parts[0] if len(parts) == 1 else parts[0].merge(*parts[1:])

    def scan(self, kind: str, window: WindowLike | None = None, entities: Iterable[str] | None = None) -> pl.LazyFrame:
        """The raw rows of one kind as a polars LazyFrame, columns renamed to the canonical names, with
        the window and entity filters pushed down (a superset of the rows: the exact filter and the
        normalization happen in :meth:`incident`). For your own polars queries over the store."""
        table = self._table(kind)
        win = None if window is None else TimeWindow.of(window)
        files = self._select_files(table, win)
        plan = self._plan(table, files)
        return self._filtered(plan, table, win, None if entities is None else entity_list(entities))

    def _table(self, kind: str) -> Table:
        check_kind(kind)
        if kind not in self._tables:
            raise DataError(f"the store has no {kind}", hint=f"It has {', '.join(self._tables)}")
        return self._tables[kind]

    def _select_files(self, table: Table, win: TimeWindow | None) -> list[str]:
        if win is not None:
            self._check_missing(table, win)
        return table.files_for(win)

    def _check_missing(self, table: Table, win: TimeWindow) -> None:
        if self._missing == "ignore":
            return
        needed = table.missing(win)
        if needed:
            name, bucket = needed[0]
            raise DataError(
                f"partition {name} is missing: the store's {table.kind} have partitions before and after it, but "
                f"none for {bucket}, which the window {win} needs", source=str(Path(table.where) / name),
                hint="Restore that partition's files; if it truly holds no rows, pass missing_partitions='ignore'")

    # -- reading ---------------------------------------------------------------------------------
    def _read(self, table: Table, win: TimeWindow, names: list[str] | None) -> tuple[Telemetry, int]:
        files = self._select_files(table, win)
        if not files:
            return _empty(), 0
        plan = self._plan(table, files)
        frame, paths = self._collect(plan, table, win, names)
        source = files[0] if len(files) == 1 else f"{files[0]} (+{len(files) - 1} more files)"
        report = LoadReport()
        if plan.unit_guessed:
            report.add(source, plan.time, f"read numbers as epoch {plan.unit}", frame.height,
                       f"the magnitude of the first file's times fits epoch {plan.unit}; pass time_unit= to override")
        try:
            frame = prepare_table(frame, kind=table.kind, layout="long", columns=None, entity=None, source=source,
                                  report=report, time_format=plan.time_format)
            owned = [frame]
            del frame
            tel = build_telemetry(table.kind, owned, source=source, report=report, time_unit=plan.unit)
        except DataError as exc:
            if exc.row is None or exc.source != source or paths is None or not 0 <= exc.row < len(paths):
                raise
            raise type(exc)(exc.problem, source=str(paths[exc.row]), column=exc.column, row=None,
                            hint=exc.hint) from exc
        return exact_filter(tel, win, names), len(files)

    def _plan(self, table: Table, files: list[str]) -> ScanPlan:
        return build_plan(table, files, self._columns.get(table.kind), self._options.get(table.kind, {}), self._storage)

    def _filtered(self, plan: ScanPlan, table: Table, win: TimeWindow | None, names: list[str] | None) -> pl.LazyFrame:
        frames = [self._filter(lf, plan, win, names) for lf in plan.frames()]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")

    def _filter(self, lf: pl.LazyFrame, plan: ScanPlan, win: TimeWindow | None, names: list[str] | None) -> pl.LazyFrame:
        predicates = []
        if win is not None:
            predicates.append(time_predicate(plan.time, plan.schema[plan.time], win, plan.unit, plan.time_format))
        if names is not None:
            predicates.append(entity_predicate(names, plan.schema.get("entity", pl.String())))
        for predicate in predicates:
            lf = lf.filter(predicate)
        return lf

    def _collect(self, plan: ScanPlan, table: Table, win: TimeWindow, names: list[str] | None
                 ) -> tuple[pl.DataFrame, pl.Series | None]:
        for _attempt in range(64):
            lf = self._filtered(plan, table, win, names)
            try:
                frame = lf.collect(engine="streaming")
                break
            except pl.exceptions.ComputeError as exc:
                match = PARSE_ERROR.search(str(exc))
                if table.fmt == "csv" and match and match.group(3) not in plan.overrides:
                    # A value far down a file does not fit the type guessed from the first rows: read
                    # that column as text (as read_csv does); the normalizer reports what it cannot use.
                    plan = plan.with_override(match.group(3))
                    continue
                raise _scan_error(exc, table) from exc
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise _scan_error(exc, table) from exc
        else:  # pragma: no cover - 64 columns changing type
            raise DataError("cannot read the tables: too many columns change type", source=table.where)
        paths = frame.get_column(FILE_COLUMN) if FILE_COLUMN in frame.columns else None
        frame = frame.drop([c for c in (FILE_COLUMN, *plan.drop) if c in frame.columns])
        return frame, paths

    # -- looking without reading ---------------------------------------------------------------
    def describe(self) -> StoreDescription:
        """Files, bytes, rows (Parquet footers), columns, time range and partitions of each kind.

        Reads the Parquet footers and the time column (not the other columns); for CSV the row
        count is unknown and the time range needs a pass over the time column.
        """
        out = []
        for kind, table in self._tables.items():
            files = table.files_for(None)
            plan = self._plan(table, files)
            size = None if table.remote else sum(os.path.getsize(f) for f in files)
            rows = None
            if table.fmt == "parquet":
                counts = [lf.select(pl.len()).collect().item() for lf in plan.frames()]
                rows = int(sum(counts))
            times = pl.concat([lf.select(plan.time) for lf in plan.frames()], how="vertical_relaxed")
            first_last = times.select(pl.col(plan.time).min().alias("lo"), pl.col(plan.time).max().alias("hi")).collect()
            span = None
            if first_last.height and first_last.item(0, "lo") is not None:
                lo = to_instant(first_last.item(0, "lo"), plan.unit)
                hi = to_instant(first_last.item(0, "hi"), plan.unit)
                if lo is not None and hi is not None:
                    span = TimeWindow(lo, hi + timedelta(microseconds=1))
            missing = [name for name, _ in table.missing()]
            partitions = table.partition_count()
            out.append(KindDescription(kind, table.fmt, len(files), size, rows,
                                       {k: str(v) for k, v in plan.schema.items()}, span, partitions, missing,
                                       table.where))
        return StoreDescription(out)

    def time_range(self) -> TimeWindow | None:
        """From the first to just after the last instant of any kind (from :meth:`describe`)."""
        spans = [k.time_range for k in self.describe().kinds if k.time_range is not None]
        if not spans:
            return None
        return TimeWindow(min(s.start for s in spans), max(s.end for s in spans))


def _empty() -> Telemetry:
    return Telemetry(validated=True)


def _scan_error(exc: BaseException, table: Table) -> DataError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    found = re.search(r"(/[^\s'\"]+\.(?:parquet|pq|csv(?:\.gz)?))", str(exc))
    source = found.group(1) if found else table.where
    return DataError(f"cannot read the {table.kind} ({text})", source=source,
                     hint="A file may be truncated or written by a failing job; write it again or leave it out")
