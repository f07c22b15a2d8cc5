"""The span store ``python -m rcakit.bench scale`` measures against: written hour by hour, faults planted.

``write_store(folder, n_spans)`` writes ``n_spans`` spans (traces of five spans down a service tree
of 20 services), one log line per span and 4 metrics per service every 10 s, at a fixed rate (20
spans per second by default), so a larger store covers a longer time, not a denser one: one
incident's window holds the same rows whatever the store's size. Faults are planted at evenly spaced
times (one service's own latency x4, error logs, CPU up for 10 minutes); ``store.json`` lists them
with the windows an analysis needs (:func:`read_manifest`). Every hour is generated and written on
its own, so writing 100 M spans needs the memory of one hour. Import the names from
:mod:`rcakit.bench.scale`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["BASELINE_MINUTES", "FAULT_MINUTES", "SERVICES", "START", "StoreFault", "read_manifest", "write_store"]


SERVICES = [f"svc-{i:02d}" for i in range(20)]
_LEVELS = [[0], [1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]
_METRICS = ("cpu", "latency", "request_rate", "error_rate")
START = datetime(2026, 1, 5, tzinfo=UTC)
FAULT_MINUTES = 10
BASELINE_MINUTES = 30


@dataclass(frozen=True)
class StoreFault:
    """A planted fault: ``service``'s own latency x4 (and errors, CPU) during ``[start, start + 10 min)``."""

    service: str
    start: datetime

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=FAULT_MINUTES)

    @property
    def baseline(self) -> tuple[datetime, datetime]:
        return self.start - timedelta(minutes=BASELINE_MINUTES), self.start

    @property
    def window(self) -> tuple[datetime, datetime]:
        """Baseline and incident together: what an analysis reads from the store."""
        return self.start - timedelta(minutes=BASELINE_MINUTES), self.end

    def to_dict(self) -> dict[str, str]:
        return {"service": self.service, "start": self.start.isoformat(), "end": self.end.isoformat()}


def _faults(n_faults: int, hours: float, start: datetime) -> list[StoreFault]:
    if n_faults <= 0:
        return []
    total = timedelta(hours=hours)
    out = []
    for i in range(n_faults):
        moment = start + total * (i + 0.5) / n_faults
        moment = moment.replace(second=0, microsecond=0)
        moment = max(moment, start + timedelta(minutes=BASELINE_MINUTES))
        out.append(StoreFault(SERVICES[1 + i % (len(SERVICES) - 1)], moment))
    return out


def _hex_ids(numbers: np.ndarray) -> pl.Series:
    return pl.Series(numbers.astype(np.int64)).cast(pl.String).str.pad_start(16, "0")


def _in_fault(times_ns: np.ndarray, services: np.ndarray, faults: list[StoreFault]) -> np.ndarray:
    hit = np.zeros(len(times_ns), dtype=bool)
    for fault in faults:
        lo = int(fault.start.timestamp()) * 10**9
        hi = int(fault.end.timestamp()) * 10**9
        hit |= (services == SERVICES.index(fault.service)) & (times_ns >= lo) & (times_ns < hi)
    return hit


def _hour(rng: np.random.Generator, hour_start: datetime, seconds: float, rate: float, first_trace: int,
          faults: list[StoreFault]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, int]:
    """The spans, logs and metrics of one partition (``seconds`` long from ``hour_start``)."""
    n_traces = round(seconds * rate / 5)
    base_ns = int(hour_start.timestamp()) * 10**9
    starts = np.sort(rng.integers(0, int(seconds * 1e9), n_traces)) + base_ns
    svc = np.stack([rng.choice(level, n_traces) for level in _LEVELS], axis=1)  # traces x 5 levels
    own = np.exp(rng.normal(0.0, 0.3, (n_traces, 5))) * (5.0 + svc % 7) / 1000.0  # seconds
    span_start = starts[:, None] + np.arange(5)[None, :] * 1_000_000  # each child 1 ms after its parent
    slow = _in_fault(span_start.ravel(), svc.ravel(), faults).reshape(svc.shape)
    own = np.where(slow, own * 4.0, own)
    total = np.cumsum(own[:, ::-1], axis=1)[:, ::-1]  # a span lasts its own time plus its callee's
    trace = np.arange(first_trace, first_trace + n_traces)
    span_no = trace[:, None] * 5 + np.arange(5)[None, :]
    flat_start = span_start.ravel()
    flat_svc = svc.ravel()
    flat_slow = slow.ravel()
    parent = np.where(np.arange(5)[None, :] > 0, span_no - 1, -1).ravel()
    names = np.array(SERVICES)
    spans = pl.DataFrame({
        "trace_id": _hex_ids(np.repeat(trace, 5)),
        "span_id": _hex_ids(span_no.ravel()),
        "parent_id": _hex_ids(parent).set(pl.Series(parent < 0), None),
        "entity": names[flat_svc],
        "operation": pl.Series(names[flat_svc]).str.replace("svc", "GET /api"),
        "start": pl.Series(flat_start).cast(pl.Datetime("ns", "UTC")),
        "end": pl.Series(flat_start + (total.ravel() * 1e9).astype(np.int64)).cast(pl.Datetime("ns", "UTC")),
        "error": flat_slow & (rng.random(len(flat_start)) < 0.3),
    })
    errors = spans.get_column("error").to_numpy()
    ms = (own.ravel() * 1000).round(1)
    callee = names[np.minimum(flat_svc + 5, 19)]
    message = np.where(errors, np.char.add(np.char.add("timeout calling ", callee), " after 5000 ms"),
                       np.char.add(np.char.add("handled request in ", ms.astype(str)), " ms"))
    logs = pl.DataFrame({
        "time": pl.Series(flat_start + (own.ravel() * 1e9).astype(np.int64)).cast(pl.Datetime("ns", "UTC")),
        "entity": spans.get_column("entity"),
        "level": np.where(errors, "ERROR", "INFO"),
        "message": message,
        "trace_id": spans.get_column("trace_id"),
        "span_id": spans.get_column("span_id"),
    }).sort("time", maintain_order=True)
    steps = int(seconds // 10)
    grid = base_ns + np.arange(steps, dtype=np.int64) * 10 * 10**9
    n_svc = len(SERVICES)
    t = np.repeat(grid, n_svc * len(_METRICS))
    s = np.tile(np.repeat(np.arange(n_svc), len(_METRICS)), steps)
    m = np.tile(np.arange(len(_METRICS)), steps * n_svc)
    fault = _in_fault(t, s, faults)
    noise = rng.normal(0.0, 1.0, len(t))
    base = np.array([30.0, 0.0, 20.0, 0.01])[m]
    latency = (5.0 + s % 7) * (1.0 + 0.05 * noise)
    value = np.where(m == 1, latency, base + np.array([3.0, 0.0, 1.0, 0.002])[m] * noise)
    value = np.where(fault & (m == 1), value * 4.0, value)
    value = np.where(fault & (m == 0), value + 40.0, value)
    value = np.where(fault & (m == 3), value + 0.2, value)
    metrics = pl.DataFrame({
        "time": pl.Series(t).cast(pl.Datetime("ns", "UTC")),
        "entity": names[s],
        "metric": np.array(_METRICS)[m],
        "value": value,
    })
    return spans, logs, metrics, first_trace + n_traces


def write_store(folder: str | Path, n_spans: int, *, rate: float = 20.0, n_faults: int = 50, seed: int = 0,
                start: datetime = START, row_group_rows: int = 65_536,
                on_hour: Callable[[int, int], object] | None = None) -> Path:
    """Write a store of ``n_spans`` spans (+ as many log lines and the metrics) as hourly Parquet partitions.

    ``folder/{spans,logs,metrics}/date=YYYY-MM-DD/hour=HH/part-0.parquet`` and ``folder/store.json``
    (size, rate, faults). Each hour is generated from ``seed`` and the hour's number, written and
    dropped before the next; ``on_hour(done, total)`` is called after each.
    """
    root = Path(folder)
    seconds_total = n_spans / rate
    hours = seconds_total / 3600
    n_hours = int(np.ceil(hours))
    faults = _faults(n_faults, hours, start)
    trace = 0
    written = 0
    for h in range(n_hours):
        hour_start = start + timedelta(hours=h)
        seconds = min(3600.0, seconds_total - h * 3600)
        rng = np.random.default_rng([seed, h])
        spans, logs, metrics, trace = _hour(rng, hour_start, seconds, rate, trace, faults)
        part = f"date={hour_start.date().isoformat()}/hour={hour_start.hour:02d}"
        for kind, frame in (("spans", spans), ("logs", logs), ("metrics", metrics)):
            out = root / kind / part
            out.mkdir(parents=True, exist_ok=True)
            frame.write_parquet(out / "part-0.parquet", row_group_size=row_group_rows, statistics=True,
                                compression="zstd")
        written += spans.height
        del spans, logs, metrics
        if on_hour is not None:
            on_hour(h + 1, n_hours)
    manifest = {"spans": written, "rate": rate, "seed": seed, "start": start.isoformat(), "hours": hours,
                "faults": [f.to_dict() for f in faults]}
    (root / "store.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return root


def read_manifest(folder: str | Path) -> tuple[JSONObject, list[StoreFault]]:
    doc: JSONObject = json.loads((Path(folder) / "store.json").read_text())
    faults = [StoreFault(f["service"], datetime.fromisoformat(f["start"])) for f in doc["faults"]]
    return doc, faults
