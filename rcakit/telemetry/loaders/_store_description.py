"""What a store holds and what a read took from it: the results of ``describe()`` and ``last_read``.

:class:`StoreDescription` (one :class:`KindDescription` per table kind) is what
:meth:`~rcakit.telemetry.loaders.lazy.TelemetryStore.describe` finds without reading the rows;
:class:`ReadStats` counts the files, partitions and rows of the last incident read.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from rcakit.telemetry.window import TimeWindow

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["KindDescription", "ReadStats", "StoreDescription"]


@dataclass
class ReadStats:
    """What the last :meth:`TelemetryStore.incident` read, per kind: files opened, time partitions
    needed and rows kept."""

    files: dict[str, int] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> JSONObject:
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

    def to_dict(self) -> JSONObject:
        return {"kind": self.kind, "format": self.format, "files": self.files, "bytes": self.bytes,
                "rows": self.rows, "columns": dict(self.columns),
                "time_range": self.time_range.to_dict() if self.time_range else None,
                "partitions": self.partitions, "missing_partitions": list(self.missing_partitions),
                "where": self.where}


@dataclass
class StoreDescription:
    """What :meth:`TelemetryStore.describe` found, one :class:`KindDescription` per table kind."""

    kinds: list[KindDescription]

    def to_dict(self) -> JSONObject:
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
