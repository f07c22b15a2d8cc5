"""``python -m rcakit.bench scale``: cost of one incident and of a batch against the size of the store.

For stores of 1, 10 and 100 M spans (``--sizes``), each with as many log lines and the matching
metrics, written as hourly Parquet partitions (:func:`write_store`, streaming: one hour in memory at
a time), the bench measures in fresh child processes: one incident read lazily from the store
(``TelemetryStore.incident``), the same incident read and analysed (``analyze``), a batch of
``--batch`` incidents (default 50) analysed in one process and on a LocalCluster of ``--workers``
processes (``rcakit.scale.analyze_many``), and, up to ``--eager-upto`` M spans, an eager read of the
whole store for contrast. Each row: wall seconds, peak memory (the largest process), bytes read
(``rchar`` of /proc/<pid>/io: every byte the processes read, page cache or disk). Then fits of time
and memory against store size and of batch time against incidents, and a plot (``--plot``; PNG with
matplotlib when installed, else SVG).

The store: ``write_store(folder, n_spans)`` writes ``n_spans`` spans (traces of five spans down a service tree
of 20 services), one log line per span and 4 metrics per service every 10 s, at a fixed rate (20
spans per second by default), so a larger store covers a longer time, not a denser one: one
incident's window holds the same rows whatever the store's size. Faults are planted at evenly spaced
times (one service's own latency x4, error logs, CPU up for 10 minutes); ``store.json`` lists them
with the windows an analysis needs. Every hour is generated and written on its own, so writing 100 M
spans needs the memory of one hour.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

__all__ = ["SERVICES", "StoreFault", "read_manifest", "write_store"]

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

    def to_dict(self) -> dict[str, Any]:
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
                start: datetime = START, row_group_rows: int = 65_536, on_hour: Any = None) -> Path:
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


def read_manifest(folder: str | Path) -> tuple[dict[str, Any], list[StoreFault]]:
    doc = json.loads((Path(folder) / "store.json").read_text())
    faults = [StoreFault(f["service"], datetime.fromisoformat(f["start"])) for f in doc["faults"]]
    return doc, faults


# -- the benchmark --------------------------------------------------------------------------------------
def _io_read() -> int:
    try:
        with open("/proc/self/io") as handle:
            for line in handle:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_io() -> tuple[int, float]:
    return _io_read(), _peak_mb()


def _warm(root: str) -> None:
    """Import and run everything once (on another incident), so that a measurement counts the incident's
    own reads and time, not the first import of the pipeline."""
    from rcakit._progress import set_progress
    from rcakit.scale import run_incident

    set_progress(False)
    _, faults = read_manifest(root)
    run_incident(_specs(Path(root), faults[:1])[0])


def _specs(root: Path, faults: list[StoreFault]) -> list[Any]:
    from rcakit.scale import IncidentSpec

    return [IncidentSpec.store(str(root), name=f"fault-{i:03d}-{f.service}", baseline=f.baseline,
                               window=(f.start, f.end), alarm="svc-00:latency",
                               truth={"root_cause_entities": [f.service]})
            for i, f in enumerate(faults)]


def _completion_fit(folder: Path, start: float) -> dict[str, float]:
    """Seconds after ``start`` at which each incident's result file appeared: a line t = a + b k."""
    times = sorted(p.stat().st_mtime - start for p in folder.glob("*.json"))
    if len(times) < 3:
        return {}
    k = np.arange(1, len(times) + 1, dtype=float)
    slope, intercept = np.polyfit(k, times, 1)
    fitted = intercept + slope * k
    ss_res = float(np.sum((np.array(times) - fitted) ** 2))
    ss_tot = float(np.sum((np.array(times) - np.mean(times)) ** 2)) or 1.0
    return {"per_incident_s": float(slope), "intercept_s": float(intercept), "r2": 1.0 - ss_res / ss_tot}


def _child(task: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this (fresh) process; the parent reads the JSON it prints."""
    import tempfile
    import time

    from rcakit._progress import set_progress

    set_progress(False)
    root = Path(task["root"])
    _, faults = read_manifest(root)
    what = task["what"]
    out: dict[str, Any] = {}
    if what == "eager":
        import glob

        from rcakit.telemetry.loaders import read_tables

        files = {k: sorted(glob.glob(f"{root}/{k}/**/*.parquet", recursive=True)) for k in ("spans", "logs", "metrics")}
        io0, t0 = _io_read(), time.perf_counter()
        tel = read_tables(spans=files["spans"], logs=files["logs"], metrics=files["metrics"])
        out.update(seconds=time.perf_counter() - t0, bytes=_io_read() - io0,
                   rows=tel.spans.height + tel.logs.height + tel.metrics.height)
    elif what in ("read", "analyze"):
        from rcakit.scale import run_incident
        from rcakit.telemetry.loaders.lazy import TelemetryStore

        fault = faults[len(faults) // 2]
        spec = _specs(root, [fault])[0]
        # warm up the imports and polars' thread pool on another incident of the same store
        if what == "read":
            TelemetryStore.open(root).incident(faults[0].window)
        else:
            _warm(str(root))
        seconds, reads = [], []
        for _ in range(task.get("repeat", 3)):
            io0, t0 = _io_read(), time.perf_counter()
            if what == "read":
                tel = TelemetryStore.open(root).incident(fault.window)
                rows = tel.spans.height + tel.logs.height + tel.metrics.height
            else:
                outcome = run_incident(spec)
                if outcome["status"] != "ok":
                    raise RuntimeError(outcome["error"])
                rows = sum(outcome["rows"].values())
                out["truth_rank"] = outcome["truth_rank"]
            seconds.append(time.perf_counter() - t0)
            reads.append(_io_read() - io0)
        out.update(seconds=float(np.median(seconds)), bytes=int(np.median(reads)), rows=rows)
    elif what in ("batch", "batch-dask"):
        from rcakit.scale import analyze_many

        chosen = faults[: task["batch"]] if task["batch"] > 1 else [faults[len(faults) // 2]]
        specs = _specs(root, chosen)
        results = Path(tempfile.mkdtemp(prefix="rcakit-scale-results-"))
        if what == "batch":
            _warm(str(root))
            io0, t0 = _io_read(), time.perf_counter()
            wall0 = time.time()
            result = analyze_many(specs, serial=True, results=results, resume=False, show_progress=False)
            out.update(seconds=time.perf_counter() - t0, bytes=_io_read() - io0)
        else:
            import distributed

            t_start = time.perf_counter()
            cluster = distributed.LocalCluster(n_workers=task["workers"], threads_per_worker=1, processes=True,
                                               dashboard_address=":0")
            client = distributed.Client(cluster)
            try:
                out["startup_s"] = time.perf_counter() - t_start
                client.run(_warm, str(root))
                before = client.run(_worker_io)
                io0, t0 = _io_read(), time.perf_counter()
                wall0 = time.time()
                result = analyze_many(specs, client=client, results=results, resume=False, show_progress=False)
                batch_seconds = time.perf_counter() - t0
                after = client.run(_worker_io)
                worker_bytes = sum(after[w][0] - before[w][0] for w in after if w in before)
                out.update(seconds=batch_seconds, bytes=worker_bytes + _io_read() - io0,
                           worker_peak_mb=max(v[1] for v in after.values()))
            finally:
                client.close()
                cluster.close()
        out.update(fit=_completion_fit(results, wall0), incidents=len(result.outcomes), failed=len(result.failed),
                   top1=result.top_k(1), top1_fused=result.top_k(1, fused=True))
    else:  # pragma: no cover - the parent names the task
        raise ValueError(what)
    out["peak_mb"] = max(_peak_mb(), out.get("worker_peak_mb", 0.0))
    return out


def _run_child(task: dict[str, Any]) -> dict[str, Any]:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "rcakit.bench", "scale", "--child", json.dumps(task)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {task['what']} measurement failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _store(base: Path, millions: float, n_faults: int, seed: int) -> tuple[Path, float | None]:
    """The store of ``millions`` M spans under ``base`` (made unless a finished one is there)."""
    import time

    root = base / f"store-{millions:g}M"
    n_spans = int(millions * 1_000_000)
    if (root / "store.json").is_file():
        doc, faults = read_manifest(root)
        if doc["spans"] == n_spans and len(faults) >= n_faults and doc["seed"] == seed:
            return root, None
    import shutil
    import sys

    if root.exists():
        shutil.rmtree(root)
    t0 = time.perf_counter()

    def tick(done: int, total: int) -> None:
        if done == total or done % 50 == 0:
            print(f"  writing {millions:g} M spans: hour {done}/{total}", file=sys.stderr, flush=True)

    write_store(root, n_spans, n_faults=n_faults, seed=seed, on_hour=tick)
    return root, time.perf_counter() - t0


def _size_on_disk(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.parquet"))


def _fit_power(sizes: list[float], values: list[float]) -> float:
    """The exponent a of value ~ size^a (0: flat, 1: linear)."""
    if len(sizes) < 2 or min(values) <= 0:
        return float("nan")
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def _plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Wall seconds and peak memory against store size; PNG with matplotlib, else a hand-written SVG."""
    series: dict[str, list[tuple[float, float, float]]] = {}
    for r in rows:
        series.setdefault(r["case"], []).append((r["M spans"], r["wall s"], r["peak MB"]))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _plot_svg(series, path.with_suffix(".svg"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, points in series.items():
        points.sort()
        x = [p[0] for p in points]
        left.plot(x, [p[1] for p in points], marker="o", label=name)
        right.plot(x, [p[2] for p in points], marker="o", label=name)
    from matplotlib.ticker import FuncFormatter, LogLocator

    for axis, label in ((left, "wall seconds"), (right, "peak memory, MB (largest process)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        axis.set_xlabel("store size, M spans (+ as many log lines and the metrics)")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    right.axhline(4096, color="grey", linestyle="--", linewidth=1)
    right.text(1, 4300, "4 GB goal", color="grey", fontsize=8)
    left.legend(fontsize=8, loc="upper left")
    fig.suptitle("rcakit: cost of one incident and of a batch against store size (python -m rcakit.bench scale)")
    fig.tight_layout()
    out = path.with_suffix(".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _plot_svg(series: dict[str, list[tuple[float, float, float]]], path: Path) -> Path:
    import math

    width, height, pad = 520, 320, 50
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    parts = []
    for panel, index in ((0, 1), (1, 2)):
        values = [p[index] for pts in series.values() for p in pts]
        xs = [p[0] for pts in series.values() for p in pts]
        lo_x, hi_x = math.log10(min(xs)), math.log10(max(xs)) or 1
        lo_y, hi_y = math.log10(min(values)), math.log10(max(values))
        hi_y = hi_y if hi_y > lo_y else lo_y + 1

        def px(x: float, lo: float = lo_x, hi: float = hi_x, off: int = panel * width) -> float:
            return off + pad + (math.log10(x) - lo) / max(hi - lo, 1e-9) * (width - 2 * pad)

        def py(y: float, lo: float = lo_y, hi: float = hi_y) -> float:
            return height - pad - (math.log10(y) - lo) / (hi - lo) * (height - 2 * pad)

        title = "wall seconds" if index == 1 else "peak MB"
        parts.append(f'<text x="{panel * width + pad}" y="20" font-size="13">{title} (log) vs M spans (log)</text>')
        for i, (name, pts) in enumerate(sorted(series.items())):
            pts = sorted(pts)
            line = " ".join(f"{px(p[0]):.1f},{py(p[index]):.1f}" for p in pts)
            parts.append(f'<polyline fill="none" stroke="{colors[i % 6]}" stroke-width="2" points="{line}"/>')
            if panel == 0:
                parts.append(f'<text x="{pad + 5}" y="{40 + 14 * i}" font-size="11" fill="{colors[i % 6]}">{name}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height}">'
           + "".join(parts) + "</svg>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg)
    return path


def main(argv: list[str]) -> int:
    import argparse
    import os
    import shutil
    import tempfile

    from rcakit.bench._common import markdown_table

    parser = argparse.ArgumentParser(prog="python -m rcakit.bench scale")
    parser.add_argument("--sizes", default="1,10,100", help="store sizes in millions of spans")
    parser.add_argument("--dir", default=None, help="where the stores are written (and reused); default a temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the stores of a temp dir")
    parser.add_argument("--batch", type=int, default=50, help="incidents in a batch")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers of the Dask batch")
    parser.add_argument("--eager-upto", type=float, default=10.0,
                        help="also read the whole store eagerly, for stores up to this many M spans")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="docs/scale-curve.png", help="where to write the plot ('' for none)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(_child(json.loads(args.child))))
        return 0
    sizes = [float(x) for x in args.sizes.split(",") if x]
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="rcakit-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    try:
        for millions in sizes:
            root, made = _store(base, millions, max(args.batch, 1), args.seed)
            doc, _ = read_manifest(root)
            on_disk = _size_on_disk(root)
            print(f"store {millions:g} M spans: {doc['hours']:.0f} hours, {on_disk / 1e9:.2f} GB of Parquet"
                  + (f", written in {made:.0f} s" if made is not None else " (reused)"), flush=True)
            tasks: list[tuple[str, dict[str, Any]]] = [
                ("one incident: read", {"what": "read"}),
                ("one incident: read + analyze", {"what": "analyze"}),
                (f"batch of {args.batch}: 1 process", {"what": "batch", "batch": args.batch}),
            ]
            if not args.no_dask:
                tasks.insert(2, (f"one incident: read + analyze, Dask {args.workers} workers",
                                 {"what": "batch-dask", "batch": 1, "workers": args.workers}))
                tasks.append((f"batch of {args.batch}: Dask, {args.workers} workers",
                              {"what": "batch-dask", "batch": args.batch, "workers": args.workers}))
            if millions <= args.eager_upto:
                tasks.append(("whole store, eager read", {"what": "eager"}))
            for case, task in tasks:
                got = _run_child({**task, "root": str(root)})
                row = {"case": case, "M spans": millions, "store GB": on_disk / 1e9, "wall s": got["seconds"],
                       "peak MB": got["peak_mb"], "MB read": got["bytes"] / 1e6}
                if got.get("fit"):
                    row["s per incident (fit)"] = got["fit"]["per_incident_s"]
                    row["fit R2"] = got["fit"]["r2"]
                    row["top1"] = f"{got['top1']:.2f}"
                if "startup_s" in got:
                    row["note"] = f"+ {got['startup_s']:.1f} s cluster start"
                if got.get("failed"):
                    row["note"] = f"{got['failed']} failed"
                rows.append(row)
                print(markdown_table([row], list(row)), flush=True)
    finally:
        if not args.dir and not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    columns = ["case", "M spans", "store GB", "wall s", "peak MB", "MB read", "s per incident (fit)", "fit R2",
               "top1", "note"]
    print("\n" + markdown_table(rows, columns))
    print("\nAgainst store size (exponent a of cost ~ size^a; 0 = flat, 1 = linear; ratio largest/smallest):")
    fits = []
    for case in dict.fromkeys(r["case"] for r in rows):
        mine = [r for r in rows if r["case"] == case]
        if len(mine) < 2:
            continue
        x = [r["M spans"] for r in mine]
        fits.append({"case": case, "time exponent": _fit_power(x, [r["wall s"] for r in mine]),
                     "time ratio": mine[-1]["wall s"] / mine[0]["wall s"],
                     "memory exponent": _fit_power(x, [r["peak MB"] for r in mine]),
                     "memory ratio": mine[-1]["peak MB"] / mine[0]["peak MB"],
                     "read ratio": mine[-1]["MB read"] / max(mine[0]["MB read"], 1e-9)})
    print(markdown_table(fits))
    largest = max(sizes)
    peak = max((r["peak MB"] for r in rows if r["M spans"] == largest and "eager" not in r["case"]), default=0.0)
    load = os.getloadavg()
    print(f"\nLargest store ({largest:g} M spans): peak memory {peak:,.0f} MB (goal <= 4096 MB); "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, {os.cpu_count()} cores")
    if args.plot and len({r['M spans'] for r in rows}) > 1:
        print(f"plot: {_plot(rows, Path(args.plot))}")
    return 0
