"""Where a store's files are: the files a path, glob or folder names, and their time partitions.

A table kind of a store (:class:`Table`) is its files, their format and, when they lie in folders
``date=YYYY-MM-DD[/hour=HH]``, the time partition of each. :meth:`Table.files_for` prunes the files to
those of the partitions a window needs, and :meth:`Table.missing` names the partitions absent between
the store's first and last one. A folder of time partitions (:class:`TimeFolders`) is listed lazily:
only the days a window needs, so opening one incident costs the same in a store of a week or a year.
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike
from rcakit.telemetry.loaders.formats import sniff_format
from rcakit.telemetry.window import TimeWindow

__all__ = ["Table", "TimeFolders", "is_remote", "resolve_table"]

_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".tsv", ".txt")
_DATE_KEYS = ("date", "day", "dt")


def is_remote(path: str) -> bool:
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


class TimeFolders:
    """A folder laid out as ``date=YYYY-MM-DD[/hour=HH]``: its partitions from folder names alone.

    Only the day folders are listed up front; a day's hour folders are listed when a window needs
    that day (and kept), so opening one incident costs the same in a store of a week or a year.
    """

    def __init__(self, root: str, days: list[tuple[str, date, str]]) -> None:
        self.root = root
        self.days = days  # (folder name, day, path), in day order
        self._hours: dict[str, list[tuple[str, datetime, datetime, str]]] = {}

    @classmethod
    def find(cls, folder: str) -> TimeFolders | None:
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
    if is_remote(item):
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
class Table:
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
    folders: TimeFolders | None = None

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


def resolve_table(kind: str, value: PathLike | Sequence[PathLike]) -> Table:
    items = [str(value)] if isinstance(value, str | os.PathLike) else [str(v) for v in value]
    if not items:
        raise DataError(f"no {kind} files given", hint=f"Pass {kind}= a path, a glob, a folder or a list of them")
    folders = TimeFolders.find(items[0]) if len(items) == 1 and os.path.isdir(items[0]) else None
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
        return Table(kind, first_fmt, (), False, items[0], None, True, hive_keys, folders)
    files = [f for item in items for f in _files_of(item)]
    remote = any(is_remote(f) for f in files)
    formats = {f: _format_of(f) for f in files}
    for f, fmt in formats.items():
        if fmt is None and not remote:
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
    return Table(kind, kinds[0], tuple(files), remote, where, partitions, bool(keys), hive_keys)


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
