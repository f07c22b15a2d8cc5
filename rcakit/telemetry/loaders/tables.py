"""``read_tables``: the spans, logs and metrics of one export read at the same time into one Telemetry."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from rcakit._progress import CancelToken
from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, path_list
from rcakit.telemetry.loaders._pool import run_parallel
from rcakit.telemetry.loaders._restrict import restrict
from rcakit.telemetry.loaders.formats import sniff_format
from rcakit.telemetry.model import Telemetry

if TYPE_CHECKING:
    from rcakit.telemetry.loaders.lazy import TelemetryStore
    from rcakit.telemetry.window import WindowLike

__all__ = ["KINDS", "read_tables"]

KINDS = ("spans", "logs", "metrics")
_TABULAR = ("csv", "parquet")
# Tables this large on disk (about 5 M spans or log lines as Parquet, 2 M as gzipped CSV) are read
# one after the other: each reader then keeps the cores busy on its own (polars decodes Parquet
# columns and parses CSV on its threads), and two at once only cost more. Measured at 10 M spans +
# 10 M log lines on 2 CPUs: Parquet peak 4.05 GB at once against 3.39 GB in turn, and no faster;
# gzipped CSV 25.7 s / 25.7 CPU s / 5.66 GB at once against 22.6 s / 22.4 CPU s / 5.35 GB in turn.
_LARGE_TABLE_BYTES = 128 << 20
# Small tables are read at the same time too: with a free core, 0.1 M spans + 0.1 M log lines read in
# 0.10 s at once against 0.14 s in turn (fresh processes, 2 CPUs, load 2); on a machine whose cores
# are all busy (load 8) at once was slower (0.22 against 0.19 s): threads only help with free cores.


def _size(paths: list[PathLike]) -> int:
    return sum(os.path.getsize(p) for p in paths)


def _check_keys(name: str, given: Mapping[str, Mapping[str, Any]] | None,
                tables: dict[str, list[PathLike]]) -> dict[str, Mapping[str, Any]]:
    out = dict(given or {})
    for key in out:
        if key not in KINDS:
            raise ValueError(f"{name}= keys are table kinds ({', '.join(KINDS)}), got {key!r}")
        if key not in tables:
            raise ValueError(f"{name}= has options for {key!r}, but no {key} files were given")
    return out


# One read: table kind, format, its files, reader options, threads for the files (None until scheduled).
_Task = tuple[str, str, list[PathLike], dict[str, Any], int | None]


def _read_group(task: _Task) -> Telemetry:
    """One table kind's files of one format (or one self-describing JSON file)."""
    from rcakit.telemetry import loaders

    kind, fmt, paths, options, workers = task
    if fmt == "csv":
        return loaders.read_csv(paths, kind=kind, workers=workers, **options)  # type: ignore[arg-type]
    if fmt == "parquet":
        return loaders.read_parquet(paths, kind=kind, workers=workers, **options)  # type: ignore[arg-type]
    return loaders.load(paths[0], **options)


_Paths = PathLike | Sequence[PathLike] | None


@overload
def read_tables(spans: _Paths = None, logs: _Paths = None, metrics: _Paths = None, *,
                columns: Mapping[str, Mapping[str, str]] | None = None,
                options: Mapping[str, Mapping[str, Any]] | None = None, workers: int | None = None,
                cancel: CancelToken | None = None, lazy: Literal[False] = False, window: WindowLike | None = None,
                entities: Iterable[str] | None = None) -> Telemetry: ...
@overload
def read_tables(spans: _Paths = None, logs: _Paths = None, metrics: _Paths = None, *,
                columns: Mapping[str, Mapping[str, str]] | None = None,
                options: Mapping[str, Mapping[str, Any]] | None = None, workers: int | None = None,
                cancel: CancelToken | None = None, lazy: Literal[True], window: None = None,
                entities: Iterable[str] | None = None) -> TelemetryStore: ...
@overload
def read_tables(spans: _Paths = None, logs: _Paths = None, metrics: _Paths = None, *,
                columns: Mapping[str, Mapping[str, str]] | None = None,
                options: Mapping[str, Mapping[str, Any]] | None = None, workers: int | None = None,
                cancel: CancelToken | None = None, lazy: Literal[True], window: WindowLike,
                entities: Iterable[str] | None = None) -> Telemetry: ...
def read_tables(
    spans: PathLike | Sequence[PathLike] | None = None,
    logs: PathLike | Sequence[PathLike] | None = None,
    metrics: PathLike | Sequence[PathLike] | None = None,
    *,
    columns: Mapping[str, Mapping[str, str]] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    workers: int | None = None,
    cancel: CancelToken | None = None,
    lazy: bool = False,
    window: WindowLike | None = None,
    entities: Iterable[str] | None = None,
) -> Telemetry | TelemetryStore:
    """Read the spans, logs and metrics of an export at the same time into one Telemetry.

    Each of ``spans``, ``logs`` and ``metrics`` is a path or a list of paths in any format
    :func:`~rcakit.telemetry.loaders.load` reads (CSV plain or gzip, Parquet, OTLP, Jaeger or
    Prometheus JSON). ``columns`` maps a kind to its column mapping, as ``columns=`` of
    :func:`read_csv`; ``options`` maps a kind to other reader options (``time_unit``,
    ``separator``, ``encoding``, ``time_format``, ``layout``, ``entity``, ...). A self-describing
    JSON file (OTLP, Jaeger, Prometheus) adds every table it holds. The files of one table in one
    format are read as one table (as ``read_csv`` of several paths reads them); files of one table
    in different formats are read, checked and reported as separate parts, so a span whose parent
    is in a file of another format is reported as an orphan.

    The tables (and the files of a table) are read on ``workers`` threads (default: one per CPU),
    validated exactly as each reader validates them alone, and merged: the result equals reading
    each table by itself and merging, row for row, and ``report`` holds every table's coercions
    (spans first, then logs, then metrics). An error names the file, column and row as the reader
    does; when a table fails, its own error is raised and the reads not started are cancelled.
    Ctrl-C (or ``cancel``) returns at once, without waiting for reads in progress. With the default
    ``workers=None``, CSV and Parquet tables over 128 MB on disk are read one after the other (each
    keeps the cores busy alone; two at once took more memory and more CPU time at 10 M rows). Threads help only when
    the machine has free cores; ``workers=1`` reads the tables in turn in the calling thread.

    >>> tel = read_tables(spans="trace.parquet", logs=["log-1.csv.gz", "log-2.csv.gz"],
    ...                   columns={"logs": {"time": "Timestamp", "entity": "PodName"}})  # doctest: +SKIP
    >>> tel.spans.height, tel.logs.height, len(tel.report)  # doctest: +SKIP
    (1000000, 1000000, 1)

    ``lazy=True`` (Parquet and CSV; paths, globs, folders, object-store URLs) reads only the rows of
    ``window=(start, end)`` and ``entities=`` (see :mod:`rcakit.telemetry.loaders.lazy`), equal to an
    eager read followed by the same window and entity filter; without ``window`` it returns the
    :class:`~rcakit.telemetry.loaders.lazy.TelemetryStore` to ask for incidents. An eager read takes
    ``window=``/``entities=`` too (applied after reading).
    """
    if lazy:
        from rcakit.telemetry.loaders.lazy import TelemetryStore

        store = TelemetryStore(spans, logs, metrics, columns=columns, options=options)
        return store if window is None else store.incident(window, entities)
    if window is not None or entities is not None:
        return restrict(read_tables(spans, logs, metrics, columns=columns, options=options, workers=workers,
                                    cancel=cancel), window, entities)
    given = {"spans": spans, "logs": logs, "metrics": metrics}
    tables = {kind: path_list(value) for kind, value in given.items() if value is not None}
    tables = {kind: paths for kind, paths in tables.items() if paths}
    if not tables:
        raise DataError("no files given", hint="Pass spans=, logs= and/or metrics= (a path or a list of paths)")
    column_maps = _check_keys("columns", columns, tables)
    extra = _check_keys("options", options, tables)
    tasks = _tasks(tables, column_maps, extra)
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1 (or None for one per CPU), got {workers}")
    parts = _read_tasks(tasks, workers, cancel)
    if len(parts) == 1:
        return parts[0]
    return parts[0].merge(*parts[1:])


def _tasks(tables: dict[str, list[PathLike]], column_maps: dict[str, Mapping[str, Any]],
           extra: dict[str, Mapping[str, Any]]) -> list[_Task]:
    """One read per table kind and format (files of one tabular format together, each JSON file alone)."""
    tasks: list[_Task] = []
    for kind, paths in tables.items():
        kind_options = dict(extra.get(kind, {}))
        for reserved in ("kind", "workers"):
            if reserved in kind_options:
                raise TypeError(f"options[{kind!r}] cannot set {reserved!r}: read_tables sets it")
        if kind in column_maps:
            kind_options["columns"] = column_maps[kind]
        formats = [sniff_format(path) for path in paths]
        if all(fmt == formats[0] for fmt in formats) and formats[0] in _TABULAR:
            tasks.append((kind, formats[0], paths, kind_options, None))
            continue
        # One part per tabular format and per JSON file, in the order of their first file (spans keep
        # the order of their files: the parts are merged in this order).
        groups: dict[str | int, tuple[str, list[PathLike]]] = {}
        for index, (path, fmt) in enumerate(zip(paths, formats, strict=True)):
            groups.setdefault(fmt if fmt in _TABULAR else index, (fmt, []))[1].append(path)
        tasks += [(kind, fmt, group, kind_options, None) for fmt, group in groups.values()]
    return tasks


def _read_tasks(tasks: list[_Task], workers: int | None, cancel: CancelToken | None) -> list[Telemetry]:
    """The tasks read on threads, in the order of ``tasks``."""
    # Large tables are read one after the other (see _LARGE_TABLE_BYTES) unless workers= asks for
    # threads; the other tables run next to them.
    large = [i for i, (_, fmt, paths, _, _) in enumerate(tasks)
             if workers is None and fmt in _TABULAR and _size(paths) >= _LARGE_TABLE_BYTES]
    jobs = [large] if len(large) > 1 else []
    jobs += [[i] for i in range(len(tasks)) if not (len(large) > 1 and i in large)]
    # The files of a table are read on threads of their own too: the workers are split between the
    # tables so that about ``workers`` threads run at once.
    cpus = workers if workers is not None else (os.cpu_count() or 1)
    outer = max(1, min(cpus, len(jobs)))
    inner = max(1, cpus // outer)
    tasks = [(kind, fmt, paths, opts, inner) for kind, fmt, paths, opts, _ in tasks]
    done = run_parallel(lambda job: [_read_group(tasks[i]) for i in job], jobs, workers=outer, cancel=cancel,
                        name="rcakit-read-tables")
    by_task = {i: tel for job, tels in zip(jobs, done, strict=True) for i, tel in zip(job, tels, strict=True)}
    return [by_task[i] for i in range(len(tasks))]
