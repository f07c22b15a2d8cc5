"""``load(path)``: pick the reader from the file's extension and, for JSON, its content."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, as_path, read_head
from rcakit.telemetry.model import Telemetry

if TYPE_CHECKING:
    from rcakit.telemetry.loaders.lazy import TelemetryStore

__all__ = ["FORMATS", "load", "sniff_format"]

FORMATS = ("csv", "parquet", "otlp", "jaeger", "prometheus")


def _suffixes(path: Path) -> list[str]:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    return suffixes


def sniff_format(path: PathLike) -> str:
    """One of ``FORMATS`` for the file, from its extension and (for JSON or unknown names) its first bytes."""
    file = as_path(path)
    suffix = (_suffixes(file) or [""])[-1]
    if suffix in (".parquet", ".pq"):
        return "parquet"
    # A small head tells a table from JSON (the reader of a gzipped table need not inflate a
    # megabyte of each file twice); JSON is sniffed on a larger one.
    head = read_head(file, 1 << 12)
    if head[:4] == b"PAR1":
        return "parquet"
    text = _text(head)
    if len(head) == 1 << 12 and (not text or text.startswith(("{", "["))):
        # only white space so far, or JSON (whose kind needs a longer look): one larger head
        text = _text(read_head(file, 1 << 20))
    if not text.startswith(("{", "[")):
        return "csv"
    return _sniff_json(text, file)


def _text(head: bytes) -> str:
    return head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


def _sniff_json(text: str, file: Path) -> str:
    window = text[:200_000]
    if any(key in window for key in ('"resourceSpans"', '"resourceLogs"', '"resourceMetrics"')):
        return "otlp"
    if '"resultType"' in window or ('"status"' in window and '"errorType"' in window):
        return "prometheus"
    if '"data"' in window and ('"spans"' in window or '"processes"' in window or '"traceID"' in window):
        return "jaeger"
    first = text.splitlines()[0] if text else ""
    try:
        shown = str(json.loads(first))[:80]
    except json.JSONDecodeError:
        shown = first[:80]
    raise DataError(
        f"cannot tell the format of this JSON file (it starts with {shown!r})", source=str(file),
        hint="rcakit reads OTLP JSON, Jaeger JSON and Prometheus API JSON; call read_otlp_json, read_jaeger_json "
             "or read_prometheus_json directly, or convert the file")


@overload
def load(path: PathLike, *, lazy: Literal[False] = False, window: Any = None, entities: Iterable[str] | None = None,
         **options: Any) -> Telemetry: ...
@overload
def load(path: PathLike, *, lazy: Literal[True], window: None = None, entities: Iterable[str] | None = None,
         **options: Any) -> TelemetryStore: ...
@overload
def load(path: PathLike, *, lazy: Literal[True], window: Any, entities: Iterable[str] | None = None,
         **options: Any) -> Telemetry: ...
def load(path: PathLike, *, lazy: bool = False, window: Any = None, entities: Iterable[str] | None = None,
         **options: Any) -> Telemetry | TelemetryStore:
    """Load any file rcakit reads: CSV or Parquet tables (options as in ``read_csv``), OTLP, Jaeger
    or Prometheus JSON (plain or gzip), chosen by extension and content.

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
        from rcakit.telemetry.loaders.lazy import restrict

        return restrict(load(path, **options), window, entities)
    from rcakit.telemetry import loaders

    fmt = sniff_format(path)
    reader: Callable[..., Telemetry] = {  # type: ignore[assignment]
        "csv": loaders.read_csv, "parquet": loaders.read_parquet, "otlp": loaders.read_otlp_json,
        "jaeger": loaders.read_jaeger_json, "prometheus": loaders.read_prometheus_json,
    }[fmt]
    try:
        return reader(path, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"{path} was read as {fmt}, whose reader does not take that option: {exc}") from exc
        raise
