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

>>> store = TelemetryStore.open("store/")                     # doctest: +SKIP
>>> store.describe()                                          # doctest: +SKIP
>>> tel = store.incident(("2026-01-05 07:10", "2026-01-05 07:40"), entities=["checkout"])  # doctest: +SKIP
"""

from __future__ import annotations

import glob as _glob
import html
import itertools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from rcakit.errors import DataError, SchemaError
from rcakit.telemetry._schema import _EPOCH_UNITS
from rcakit.telemetry.loaders._common import (
    REQUIRED,
    STRING_COLUMNS,
    PathLike,
    apply_mapping,
    build_telemetry,
    check_kind,
    read_head,
    time_column,
)
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow

__all__ = ["KindDescription", "ReadStats", "StoreDescription", "TelemetryStore", "restrict"]

KINDS = ("spans", "logs", "metrics")
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".tsv", ".txt")
_OPTIONS = ("time_unit", "separator", "time_format")
_FILE_COLUMN = "__rcakit_file"
_PARSE_ERROR = re.compile(r"could not parse `(.*?)` as dtype `(\w+)` at column '(.*?)'", re.S)
_DATE_KEYS = ("date", "day", "dt")


# -- where the files are ----------------------------------------------------------------------------
def _is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _format_of(path: str) -> str | None:
    name = path.lower()
    if name.endswith((".gz", ".gzip")):
        name = name.rsplit(".", 1)[0]
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    return None


def _walk(folder: str) -> list[str]:
    """The table files below ``folder`` (sorted; names starting with '.' or '_' skipped)."""
    found = []
    for here, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        found += [os.path.join(here, n) for n in names if not n.startswith((".", "_")) and _format_of(n) is not None]
    return sorted(found)


def _visible_entries(folder: str) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith((".", "_"))), key=lambda e: e.name)


class _TimeFolders:
    """A folder laid out as ``date=YYYY-MM-DD[/hour=HH]``: its partitions from folder names alone.

    Only the day folders are listed up front; a day's hour folders are listed when a window needs
    that day (and kept), so opening one incident costs the same in a store of a week or a year.
    """

    def __init__(self, root: str, days: list[tuple[str, date, str]]) -> None:
        self.root = root
        self.days = days  # (folder name, day, path), in day order
        self._hours: dict[str, list[tuple[str, datetime, datetime, str]]] = {}

    @classmethod
    def find(cls, folder: str) -> _TimeFolders | None:
        top = _visible_entries(folder)
        if not top or not all(e.is_dir() and e.name.partition("=")[0].lower() in _DATE_KEYS for e in top):
            return None
        days = []
        for entry in top:
            try:
                days.append((entry.name, date.fromisoformat(entry.name.partition("=")[2]), entry.path))
            except ValueError:
                return None
        return cls(folder, sorted(days, key=lambda d: d[1]))

    def of_day(self, name: str, day: date, path: str) -> list[tuple[str, datetime, datetime, str]]:
        """The partitions of one day folder: its hour folders, or the day itself."""
        if path not in self._hours:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            inner = _visible_entries(path)
            hours: list[tuple[str, datetime, datetime, str]] = []
            if inner and all(e.is_dir() and e.name.partition("=")[0].lower() == "hour" for e in inner):
                for entry in inner:
                    try:
                        begin = start + timedelta(hours=int(entry.name.partition("=")[2]))
                    except ValueError:
                        hours = []
                        break
                    hours.append((f"{name}/{entry.name}", begin, begin + timedelta(hours=1), entry.path))
            self._hours[path] = sorted(hours, key=lambda h: h[1]) or [(name, start, start + timedelta(days=1), path)]
        return self._hours[path]

    def _days_over(self, win: TimeWindow | None) -> list[tuple[str, date, str]]:
        if win is None:
            return self.days
        first, last = win.start.date(), (win.end - timedelta(microseconds=1)).date()
        return [d for d in self.days if first <= d[1] <= last]

    def partitions(self, win: TimeWindow | None = None) -> list[tuple[str, datetime, datetime, str]]:
        """The partitions that overlap ``win`` (all when None), in time order."""
        out = [p for d in self._days_over(win) for p in self.of_day(*d)]
        if win is None:
            return out
        return [p for p in out if p[1] < win.end and win.start < p[2]]

    def missing(self, win: TimeWindow | None = None) -> list[tuple[str, TimeWindow]]:
        """Partitions absent between the store's first and last one (that overlap ``win`` when given)."""
        if not self.days:
            return []
        first = self.of_day(*self.days[0])
        last = self.of_day(*self.days[-1])
        hourly = first[0][2] - first[0][1] <= timedelta(hours=1)
        step = timedelta(hours=1) if hourly else timedelta(days=1)
        lo, hi = first[0][1], last[-1][2]
        if win is not None:
            lo, hi = max(lo, win.start), min(hi, win.end)
            if hourly:
                lo = lo.replace(minute=0, second=0, microsecond=0)
            else:
                lo = lo.replace(hour=0, minute=0, second=0, microsecond=0)
        have_days = {d[1]: d for d in self.days}
        out = []
        moment = lo
        while moment < hi:
            day = have_days.get(moment.date())
            present = day is not None and (not hourly or any(p[1] == moment for p in self.of_day(*day)))
            if not present:
                name = f"date={moment.date().isoformat()}" + (f"/hour={moment.hour:02d}" if hourly else "")
                out.append((name, TimeWindow(moment, moment + step)))
            moment += step
        return out


def _files_of(item: str) -> list[str]:
    """The files one path, glob or folder names (sorted); a DataError when there are none."""
    if _is_remote(item):
        return [item]
    if item.startswith("file://"):
        item = item[len("file://"):]
    if any(ch in item for ch in "*?["):
        found = sorted(p for p in _glob.glob(item, recursive=True) if os.path.isfile(p))
        if not found:
            raise DataError("no file matches this pattern", source=item,
                            hint="Check the pattern; '**' matches sub-folders (spans/**/*.parquet)")
        return found
    path = Path(item)
    if path.is_dir():
        found = _walk(item)
        if not found:
            raise DataError("the folder holds no Parquet or CSV files", source=item,
                            hint="Point at the folder of one table (spans/, logs/ or metrics/) or at a store "
                                 "folder that holds them")
        return found
    if not path.exists():
        raise DataError("no such file or folder", source=item,
                        hint=f"Check the path (relative paths start at the current folder, {Path.cwd()})")
    return [item]


def _partition_of(path: str) -> tuple[str, TimeWindow] | None:
    """The time partition a file lies in (``date=2026-01-05/hour=07``) and its window, if any."""
    day: date | None = None
    hour: int | None = None
    names = []
    for part in Path(path).parts[:-1]:
        key, sep, value = part.partition("=")
        if not sep:
            continue
        if key.lower() in _DATE_KEYS:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return None
            names = [part]
        elif key.lower() == "hour" and day is not None:
            try:
                hour = int(value)
            except ValueError:
                return None
            names.append(part)
    if day is None:
        return None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if hour is None:
        return names[0], TimeWindow(start, start + timedelta(days=1))
    start += timedelta(hours=hour)
    return "/".join(names), TimeWindow(start, start + timedelta(hours=1))


@dataclass(frozen=True)
class _Table:
    """One table kind of a store: its files, their format and time partitions."""

    kind: str
    fmt: str
    files: tuple[str, ...]
    remote: bool
    where: str
    partitions: tuple[tuple[str, TimeWindow], ...] | None  # one per file, when every file has one
    hive: bool
    hive_keys: tuple[str, ...] = ()  # partition keys other than the time ones (entity=...): columns
    # A folder of time partitions: its files are listed only for the partitions a window needs, so
    # the cost of opening an incident does not grow with the store.
    folders: _TimeFolders | None = None

    def partition_count(self, win: TimeWindow | None = None) -> int:
        if self.folders is not None:
            return len(self.folders.partitions(win))
        return sum(1 for _, bucket in self.partitions or () if win is None or bucket.overlaps(win))

    def missing(self, win: TimeWindow | None = None) -> list[tuple[str, TimeWindow]]:
        if self.folders is not None:
            return self.folders.missing(win)
        gaps = _missing_partitions(self.partitions or ())
        return [g for g in gaps if win is None or g[1].overlaps(win)]

    def files_for(self, win: TimeWindow | None) -> list[str]:
        """The files a window needs (every file when None)."""
        if self.folders is not None:
            return [f for *_, folder in self.folders.partitions(win) for f in _walk(folder)]
        if self.partitions is None or win is None:
            return list(self.files)
        return [f for f, (_, bucket) in zip(self.files, self.partitions, strict=True) if bucket.overlaps(win)]


def _resolve(kind: str, value: PathLike | Sequence[PathLike]) -> _Table:
    items = [str(value)] if isinstance(value, str | os.PathLike) else [str(v) for v in value]
    if not items:
        raise DataError(f"no {kind} files given", hint=f"Pass {kind}= a path, a glob, a folder or a list of them")
    folders = _TimeFolders.find(items[0]) if len(items) == 1 and os.path.isdir(items[0]) else None
    if folders is not None:
        # The format and the other partition keys from the first partition that has files
        sample = next((found for day in folders.days for *_, folder in folders.of_day(*day)
                       if (found := _walk(folder))), None)
        if sample is None:
            raise DataError("the partition folders hold no Parquet or CSV files", source=items[0],
                            hint="Point at the folder of one table (spans/, logs/ or metrics/)")
        first_fmt = _format_of(sample[0]) or "parquet"
        keys = [part.partition("=")[0] for f in sample for part in Path(f).relative_to(items[0]).parts[:-1]
                if "=" in part]
        hive_keys = tuple(k for k in dict.fromkeys(keys) if k.lower() not in (*_DATE_KEYS, "hour"))
        return _Table(kind, first_fmt, (), False, items[0], None, True, hive_keys, folders)
    files = [f for item in items for f in _files_of(item)]
    remote = any(_is_remote(f) for f in files)
    formats = {f: _format_of(f) for f in files}
    for f, fmt in formats.items():
        if fmt is None and not remote:
            from rcakit.telemetry.loaders.dispatch import sniff_format

            sniffed = sniff_format(f)
            if sniffed not in ("csv", "parquet"):
                raise DataError(f"lazy reading reads Parquet and CSV tables; this file is {sniffed}", source=f,
                                hint="Load it eagerly with rcakit.load(path), or convert it to Parquet")
            formats[f] = sniffed
        elif fmt is None:
            formats[f] = "parquet"
    kinds = sorted({fmt for fmt in formats.values() if fmt is not None})
    if len(kinds) > 1:
        first = {fmt: next(f for f in files if formats[f] == fmt) for fmt in kinds}
        raise DataError(f"the {kind} files mix formats ({', '.join(f'{k}: {v}' for k, v in first.items())})",
                        source=items[0], hint="Lazy reading needs one format per table: convert the odd files, "
                                              "or read each format with its own TelemetryStore")
    parts = [_partition_of(f) for f in files] if not remote else []
    partitions = tuple(p for p in parts if p is not None) if parts and all(parts) else None
    keys = [part.partition("=")[0] for f in ([] if remote else files) for part in Path(f).parts[:-1] if "=" in part]
    hive_keys = tuple(k for k in dict.fromkeys(keys) if k.lower() not in (*_DATE_KEYS, "hour"))
    where = items[0] if len(items) == 1 else f"{items[0]} (+{len(items) - 1})"
    return _Table(kind, kinds[0], tuple(files), remote, where, partitions, bool(keys), hive_keys)


# -- what was read ----------------------------------------------------------------------------------
@dataclass
class ReadStats:
    """What the last :meth:`TelemetryStore.incident` read, per kind: files opened, time partitions
    needed and rows kept."""

    files: dict[str, int] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"files": dict(self.files), "partitions": dict(self.partitions), "rows": dict(self.rows)}


@dataclass
class KindDescription:
    """One table of a store: format, files, bytes on disk, rows, columns, time range and partitions."""

    kind: str
    format: str
    files: int
    bytes: int | None
    rows: int | None
    columns: dict[str, str]
    time_range: TimeWindow | None
    partitions: int
    missing_partitions: list[str]
    where: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "format": self.format, "files": self.files, "bytes": self.bytes,
                "rows": self.rows, "columns": dict(self.columns),
                "time_range": self.time_range.to_dict() if self.time_range else None,
                "partitions": self.partitions, "missing_partitions": list(self.missing_partitions),
                "where": self.where}


@dataclass
class StoreDescription:
    """What :meth:`TelemetryStore.describe` found, one :class:`KindDescription` per table kind."""

    kinds: list[KindDescription]

    def to_dict(self) -> dict[str, Any]:
        return {"kinds": [k.to_dict() for k in self.kinds]}

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([{
            "kind": k.kind, "format": k.format, "files": k.files, "bytes": k.bytes, "rows": k.rows,
            "start": k.time_range.start if k.time_range else None, "end": k.time_range.end if k.time_range else None,
            "partitions": k.partitions, "missing partitions": len(k.missing_partitions), "where": k.where,
        } for k in self.kinds])

    def __repr__(self) -> str:
        lines = [f"{k.kind}: {k.format}, {k.files} files, {_mb(k.bytes)}, {_count(k.rows)} rows, "
                 f"{k.time_range or 'no rows'}" + (f", {len(k.missing_partitions)} missing partitions"
                                                    if k.missing_partitions else "") for k in self.kinds]
        return "TelemetryStore(\n  " + "\n  ".join(lines) + "\n)"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(k.kind)}</td><td>{esc(k.format)}</td><td>{k.files}</td><td>{esc(_mb(k.bytes))}</td>"
            f"<td>{esc(_count(k.rows))}</td><td>{esc(str(k.time_range or '-'))}</td><td>{k.partitions}</td>"
            f"<td>{esc(', '.join(k.missing_partitions[:5]) or '-')}</td><td><code>{esc(k.where)}</code></td></tr>"
            for k in self.kinds)
        head = "".join(f"<th>{h}</th>" for h in ("kind", "format", "files", "size", "rows", "time range",
                                                  "partitions", "missing", "where"))
        return f"<b>TelemetryStore</b><table><tr>{head}</tr>{rows}</table>"


def _mb(size: int | None) -> str:
    return "? MB" if size is None else f"{size / 1e6:,.1f} MB"


def _count(rows: int | None) -> str:
    return "?" if rows is None else f"{rows:,}"


# -- the store ---------------------------------------------------------------------------------------
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
        storage_options: Mapping[str, Any] | None = None,
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
        self._tables = {kind: _resolve(kind, value) for kind, value in given.items() if value is not None}
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
            paths: dict[str, Any] = {kind: path}
            return cls(**paths, columns={kind: columns} if columns else None,
                       options={kind: options} if options else None, **store_keys)
        if columns or options:
            raise TypeError("columns= and reader options need kind= (they belong to one table); for a store "
                            "folder pass TelemetryStore(spans=..., logs=..., columns={'spans': {...}})")
        if not isinstance(path, str | os.PathLike):
            raise TypeError("a store folder is one path; for a list of files pass kind=")
        root = Path(path)
        if _is_remote(str(path)) or not root.is_dir():
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
    def incident(self, window: Any, entities: Iterable[str] | None = None) -> Telemetry:
        """The telemetry of ``window`` (a TimeWindow or a (start, end) pair) and ``entities`` (all when None).

        Only the files of time partitions that overlap the window are opened and the filters are
        pushed down to the scan; the rows read are normalized as the eager readers do. Equal to an
        eager read of the same files followed by ``.window(window)`` and an entity filter. Errors name
        the file (and column) as the eager readers do; a partition missing inside the window is a
        DataError naming it.
        """
        win = TimeWindow.of(window)
        names = None if entities is None else _entity_list(entities)
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

    def scan(self, kind: str, window: Any = None, entities: Iterable[str] | None = None) -> pl.LazyFrame:
        """The raw rows of one kind as a polars LazyFrame, columns renamed to the canonical names, with
        the window and entity filters pushed down (a superset of the rows: the exact filter and the
        normalization happen in :meth:`incident`). For your own polars queries over the store."""
        table = self._table(kind)
        win = None if window is None else TimeWindow.of(window)
        files = self._select_files(table, win)
        plan = self._plan(table, files)
        return self._filtered(plan, table, win, None if entities is None else _entity_list(entities))

    def _table(self, kind: str) -> _Table:
        check_kind(kind)
        if kind not in self._tables:
            raise DataError(f"the store has no {kind}", hint=f"It has {', '.join(self._tables)}")
        return self._tables[kind]

    def _select_files(self, table: _Table, win: TimeWindow | None) -> list[str]:
        if win is not None:
            self._check_missing(table, win)
        return table.files_for(win)

    def _check_missing(self, table: _Table, win: TimeWindow) -> None:
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
    def _read(self, table: _Table, win: TimeWindow, names: list[str] | None) -> tuple[Telemetry, int]:
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
        from rcakit.telemetry.loaders.tabular import _prepare

        try:
            frame = _prepare(frame, kind=table.kind, layout="long", columns=None, entity=None, source=source,
                             report=report, time_format=plan.time_format)
            owned = [frame]
            del frame
            tel = build_telemetry(table.kind, owned, source=source, report=report, time_unit=plan.unit)
        except DataError as exc:
            if exc.row is None or exc.source != source or paths is None or not 0 <= exc.row < len(paths):
                raise
            raise type(exc)(exc.problem, source=str(paths[exc.row]), column=exc.column, row=None,
                            hint=exc.hint) from exc
        return _exact(tel, win, names), len(files)

    def _plan(self, table: _Table, files: list[str]) -> _Plan:
        return _plan(table, files, self._columns.get(table.kind), self._options.get(table.kind, {}), self._storage)

    def _filtered(self, plan: _Plan, table: _Table, win: TimeWindow | None, names: list[str] | None) -> pl.LazyFrame:
        frames = [self._filter(lf, plan, win, names) for lf in plan.frames()]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")

    def _filter(self, lf: pl.LazyFrame, plan: _Plan, win: TimeWindow | None, names: list[str] | None) -> pl.LazyFrame:
        predicates = []
        if win is not None:
            predicates.append(_time_predicate(plan.time, plan.schema[plan.time], win, plan.unit, plan.time_format))
        if names is not None:
            predicates.append(_entity_predicate(names, plan.schema.get("entity", pl.String())))
        for predicate in predicates:
            lf = lf.filter(predicate)
        return lf

    def _collect(self, plan: _Plan, table: _Table, win: TimeWindow, names: list[str] | None
                 ) -> tuple[pl.DataFrame, pl.Series | None]:
        for _attempt in range(64):
            lf = self._filtered(plan, table, win, names)
            try:
                frame = lf.collect(engine="streaming")
                break
            except pl.exceptions.ComputeError as exc:
                match = _PARSE_ERROR.search(str(exc))
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
        paths = frame.get_column(_FILE_COLUMN) if _FILE_COLUMN in frame.columns else None
        frame = frame.drop([c for c in (_FILE_COLUMN, *plan.drop) if c in frame.columns])
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
                lo = _to_instant(first_last.item(0, "lo"), plan)
                hi = _to_instant(first_last.item(0, "hi"), plan)
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


def _entity_list(entities: Iterable[str]) -> list[str]:
    if isinstance(entities, str):
        return [entities]
    names = [str(e) for e in entities]
    if not names:
        raise DataError("entities= is empty", hint="Pass the entities to keep, or None for all")
    return names


def _empty() -> Telemetry:
    return Telemetry(validated=True)


def restrict(tel: Telemetry, window: Any = None, entities: Iterable[str] | None = None) -> Telemetry:
    """The rows of ``tel`` inside ``window`` (all when None) of ``entities`` (all when None).

    What a lazy read returns, applied to a Telemetry already in memory (an entity absent from the
    data gives no rows, no error).
    """
    return _exact(tel, None if window is None else TimeWindow.of(window),
                  None if entities is None else _entity_list(entities))


def _exact(tel: Telemetry, win: TimeWindow | None, names: list[str] | None) -> Telemetry:
    """The exact window and entity filter on the normalized rows (the scan's filter is a superset)."""
    if win is not None:
        tel = tel.window(win)
    if names is None:
        return tel
    keep = pl.col("entity").is_in(names)
    return Telemetry(tel.metrics.filter(keep), tel.logs.filter(keep), tel.spans.filter(keep), report=tel.report,
                     validated=True)


def _missing_partitions(partitions: Sequence[tuple[str, TimeWindow]]) -> list[tuple[str, TimeWindow]]:
    """Buckets between the first and the last partition that no file has (hours, or days)."""
    buckets = {bucket: name for name, bucket in partitions}
    if len(buckets) < 2:
        return []
    step = min(b.duration for b in buckets)
    starts = sorted(b.start for b in buckets)
    have = {b.start for b in buckets}
    hourly = step <= timedelta(hours=1)
    out = []
    moment = starts[0]
    while moment < starts[-1]:
        if moment not in have:
            bucket = TimeWindow(moment, moment + step)
            name = (f"date={moment.date().isoformat()}/hour={moment.hour:02d}" if hourly
                    else f"date={moment.date().isoformat()}")
            out.append((name, bucket))
        moment += step
    return out


def _scan_error(exc: BaseException, table: _Table) -> DataError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    found = re.search(r"(/[^\s'\"]+\.(?:parquet|pq|csv(?:\.gz)?))", str(exc))
    source = found.group(1) if found else table.where
    return DataError(f"cannot read the {table.kind} ({text})", source=source,
                     hint="A file may be truncated or written by a failing job; write it again or leave it out")


# -- one scan plan per kind and file set ------------------------------------------------------------
@dataclass
class _Plan:
    """How to scan a set of files of one kind: renames, types, the time column's representation."""

    table: _Table
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
    storage: dict[str, Any]
    drop: tuple[str, ...] = ()

    def with_override(self, column: str) -> _Plan:
        overrides = {**self.overrides, column: pl.String()}
        canonical = self.renames.get(column, column)
        schema = {**self.schema}
        if canonical in schema:
            schema[canonical] = pl.String()
        return _Plan(self.table, self.files, self.groups, self.renames, schema, self.time, self.unit,
                     self.unit_guessed, self.time_format, self.separator, overrides, self.storage, self.drop)

    def frames(self) -> list[pl.LazyFrame]:
        """One LazyFrame per group of files of one schema (a file at a time when the schemas differ)."""
        return [self._scan(files) for files in self.groups]

    def _scan(self, files: list[str]) -> pl.LazyFrame:
        source: Any = files if len(files) > 1 else files[0]
        storage = self.storage or None
        if self.table.fmt == "parquet":
            lf = pl.scan_parquet(source, hive_partitioning=self.table.hive or None, include_file_paths=_FILE_COLUMN,
                                 storage_options=storage, glob=self.table.remote)
        else:
            lf = pl.scan_csv(source, separator=self.separator, schema_overrides=self.overrides,
                             infer_schema_length=10_000, include_file_paths=_FILE_COLUMN, storage_options=storage,
                             glob=self.table.remote, raise_if_empty=False)
        renames = {k: v for k, v in self.renames.items() if k in lf.collect_schema().names()}
        return lf.rename(renames) if renames else lf


def _file_schema(table: _Table, file: str, separator: str) -> list[str] | dict[str, pl.DataType]:
    """A Parquet file's schema (footer only) or a CSV file's header names."""
    try:
        if table.fmt == "parquet":
            return dict(pl.read_parquet_schema(file))
        from rcakit.telemetry.loaders.tabular import _header

        return _header(read_head(Path(file)), separator)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read the file's schema ({str(exc).splitlines()[0]})", source=file,
                        hint="The file may be truncated or not a " + table.fmt + " file; write it again") from exc


def _compatible(a: pl.DataType, b: pl.DataType) -> bool:
    if a == b:
        return True
    if a.is_numeric() and b.is_numeric():
        return True
    return isinstance(a, pl.Datetime) and isinstance(b, pl.Datetime)


def _check_schemas(table: _Table, files: list[str], schemas: list[list[str] | dict[str, pl.DataType]],
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


def _key(schema: list[str] | dict[str, pl.DataType]) -> tuple[Any, ...]:
    return tuple(schema.items()) if isinstance(schema, dict) else tuple(schema)


def _plan(table: _Table, files: list[str], columns: Mapping[str, str] | None, options: Mapping[str, Any],
          storage: dict[str, Any]) -> _Plan:
    kind = table.kind
    separator = options.get("separator") or ","
    if table.fmt == "csv" and options.get("separator") is None and not table.remote:
        from rcakit.telemetry.loaders.tabular import sniff_separator

        separator, _ = sniff_separator(read_head(Path(files[0])))
    if table.remote:
        schemas: list[list[str] | dict[str, pl.DataType]] = [_remote_schema(table, files, separator, storage)]
        groups = [list(files)]
    else:
        schemas = [_file_schema(table, f, separator) for f in files]
        groups = _check_schemas(table, files, schemas, columns)
    names = list(dict.fromkeys([*(n for s in schemas for n in s), *table.hive_keys]))
    renames = apply_mapping(names, kind=kind, columns=columns, source=files[0], report=LoadReport())
    overrides: dict[str, pl.DataType] = {}
    if table.fmt == "csv":
        mapping = dict(columns or {})
        wanted = {mapping.get(c, c) for c in STRING_COLUMNS[kind]}
        overrides = {name: pl.String() for name in names if name in wanted}
    plan = _Plan(table, files, groups, renames, {}, time_column(kind), options.get("time_unit"), False,
                 options.get("time_format"), separator, overrides, storage)
    first = plan.frames()[0]
    schema = dict(first.collect_schema())
    known = {renames.get(n, n) for n in names}
    plan.drop = tuple(c for c in schema if c not in known and c != _FILE_COLUMN)  # time partition keys
    plan.schema = {c: t for c, t in schema.items() if c != _FILE_COLUMN}
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


def _remote_schema(table: _Table, files: list[str], separator: str, storage: dict[str, Any]) -> dict[str, pl.DataType]:
    source: Any = files if len(files) > 1 else files[0]
    try:
        if table.fmt == "parquet":
            return dict(pl.scan_parquet(source, storage_options=storage or None).collect_schema())
        return dict(pl.scan_csv(source, separator=separator, storage_options=storage or None).collect_schema())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read the {table.kind} ({str(exc).splitlines()[0]})", source=table.where,
                        hint="Check the URL and the credentials (storage_options=)") from exc


# -- filters pushed down to the scan -----------------------------------------------------------------
_FACTORS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _ns(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000


def _time_predicate(column: str, dtype: pl.DataType, win: TimeWindow, unit: str | None,
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


def _entity_predicate(names: list[str], dtype: pl.DataType) -> pl.Expr:
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


def _to_instant(value: Any, plan: _Plan) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        ns = int(value * _FACTORS[plan.unit or "ns"])
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None
