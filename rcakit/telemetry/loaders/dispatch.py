"""``load(path)``: pick the reader from the file's content (and extension); see :mod:`.formats`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, overload

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike
from rcakit.telemetry.loaders._restrict import restrict
from rcakit.telemetry.loaders.formats import FORMATS as _FORMAT_INFO
from rcakit.telemetry.loaders.formats import detect, formats_text, note, sniff_format
from rcakit.telemetry.model import Telemetry

if TYPE_CHECKING:
    from rcakit.telemetry.loaders.lazy import TelemetryStore
    from rcakit.telemetry.window import WindowLike

__all__ = ["FORMATS", "load", "sniff_format"]

FORMATS = tuple(_FORMAT_INFO)


@overload
def load(path: PathLike, *, lazy: Literal[False] = False, window: WindowLike | None = None, entities: Iterable[str] | None = None,
         **options: Any) -> Telemetry: ...
@overload
def load(path: PathLike, *, lazy: Literal[True], window: None = None, entities: Iterable[str] | None = None,
         **options: Any) -> TelemetryStore: ...
@overload
def load(path: PathLike, *, lazy: Literal[True], window: WindowLike, entities: Iterable[str] | None = None,
         **options: Any) -> Telemetry: ...
def load(path: PathLike, *, lazy: bool = False, window: WindowLike | None = None, entities: Iterable[str] | None = None,
         **options: Any) -> Telemetry | TelemetryStore:
    """Load any file rcakit reads, plain or gzip, its format found from its content: CSV or Parquet
    tables (options as in ``read_csv``), OTLP JSON or protobuf (Collector file exporter, Tempo,
    Grafana), Jaeger, Zipkin, Prometheus API, Loki, OpenMetrics text. ``telemetry.report`` says
    which format was read and why; ``format=`` (a key of ``FORMATS``) skips the detection.

    ``lazy=True`` reads Parquet or CSV files, globs, folders (a store folder with spans/, logs/,
    metrics/ inside, or one table's files with ``kind=``) and object-store URLs without loading them:
    with ``window=(start, end)`` (and ``entities=``) only those rows are read and a Telemetry is
    returned; without a window, a :class:`~rcakit.telemetry.loaders.lazy.TelemetryStore` to ask for
    incidents. Eager reads take ``window=``/``entities=`` too (applied after reading).

    >>> tel = load("export.jsonl.gz")
    >>> tel = load("metrics.csv", kind="metrics", columns={"time": "ts"})
    >>> tel = load("store/", lazy=True, window=("2026-01-05 07:10", "2026-01-05 07:40"))  # doctest: +SKIP
    """
    if lazy:
        from rcakit.telemetry.loaders.lazy import TelemetryStore

        store = TelemetryStore.open(path, **options)
        return store if window is None else store.incident(window, entities)
    if window is not None or entities is not None:
        return restrict(load(path, **options), window, entities)
    from rcakit.telemetry import loaders

    forced = options.pop("format", None)
    if forced is not None:
        if forced not in _FORMAT_INFO:
            raise ValueError(f"format must be one of {', '.join(_FORMAT_INFO)}, got {forced!r}")
        fmt, reason = forced, "format= was given"
    else:
        fmt, reason = detect(path)
    info = _FORMAT_INFO[fmt]
    reader: Callable[..., Telemetry] = getattr(loaders, info.reader)
    try:
        telemetry = reader(path, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"{path} was read as {info.label}, whose reader {info.reader} does not take that "
                            f"option: {exc}") from exc
        raise
    except DataError as exc:
        if forced is not None:
            raise
        # The reader's own message, and what made load choose it: the file may be of another kind.
        hint = (f"{exc.hint + '. ' if exc.hint else ''}rcakit.load read it as {info.label} (it found {reason}); "
                f"if it is something else, pass format= or call its reader: {formats_text()}")
        try:
            wrapped = type(exc)(exc.problem, source=exc.source, column=exc.column, row=exc.row, hint=hint)
        except TypeError:  # a subclass with a constructor of its own: keep its error as it is
            raise exc from None
        raise wrapped from exc
    note(telemetry.report, str(path), f"read as {info.label} by {info.reader}", f"load found {reason}")
    return telemetry
