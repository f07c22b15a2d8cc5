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
spans needs the memory of one hour. The store is written by :mod:`rcakit.bench._scale_store`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

import numpy as np

from rcakit.bench._scale_store import SERVICES, StoreFault, read_manifest, write_store

if TYPE_CHECKING:
    import argparse

    from rcakit._types import JSONObject
    from rcakit.bench._common import Row
    from rcakit.scale import BatchResult, IncidentSpec

__all__ = ["SERVICES", "StoreFault", "read_manifest", "write_store"]

#: One row of the table: what a child measured on one store (tasks and measurements cross the process
#: boundary as JSON objects).
_ScaleRow = TypedDict("_ScaleRow", {
    "case": str, "M spans": float, "store GB": float, "wall s": float, "peak MB": float, "MB read": float,
    "s per incident (fit)": NotRequired[float], "fit R2": NotRequired[float], "top1": NotRequired[str],
    "note": NotRequired[str]})


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
    from rcakit.scale import run_incident

    _, faults = read_manifest(root)
    run_incident(_specs(Path(root), faults[:1])[0])


def _specs(root: Path, faults: list[StoreFault]) -> list[IncidentSpec]:
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


def _child(task: JSONObject) -> JSONObject:
    """One measurement in this (fresh) process; the parent reads the JSON it prints."""
    from rcakit._progress import set_progress

    set_progress(False)
    root = Path(task["root"])
    _, faults = read_manifest(root)
    what = task["what"]
    out: JSONObject = {}
    if what == "eager":
        out.update(_measure_eager(root))
    elif what in ("read", "analyze"):
        out.update(_measure_incident(root, faults, what, task.get("repeat", 3)))
    elif what in ("batch", "batch-dask"):
        out.update(_measure_batch(root, faults, what, task))
    else:  # pragma: no cover - the parent names the task
        raise ValueError(what)
    out["peak_mb"] = max(_peak_mb(), out.get("worker_peak_mb", 0.0))
    return out


def _measure_eager(root: Path) -> JSONObject:
    """The whole store read eagerly: seconds, bytes read, rows."""
    import glob
    import time

    from rcakit.telemetry.loaders import read_tables

    files = {k: sorted(glob.glob(f"{root}/{k}/**/*.parquet", recursive=True)) for k in ("spans", "logs", "metrics")}
    io0, t0 = _io_read(), time.perf_counter()
    tel = read_tables(spans=files["spans"], logs=files["logs"], metrics=files["metrics"])
    return {"seconds": time.perf_counter() - t0, "bytes": _io_read() - io0,
            "rows": tel.spans.height + tel.logs.height + tel.metrics.height}


def _measure_incident(root: Path, faults: list[StoreFault], what: str, repeat: int) -> JSONObject:
    """One incident read lazily from the store (``read``) or read and analysed (``analyze``); medians of ``repeat``."""
    import time

    from rcakit.scale import run_incident
    from rcakit.telemetry.loaders.lazy import TelemetryStore

    out: JSONObject = {}
    fault = faults[len(faults) // 2]
    spec = _specs(root, [fault])[0]
    # warm up the imports and polars' thread pool on another incident of the same store
    if what == "read":
        TelemetryStore.open(root).incident(faults[0].window)
    else:
        _warm(str(root))
    seconds, reads = [], []
    for _ in range(repeat):
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
    return out


def _measure_batch(root: Path, faults: list[StoreFault], what: str, task: JSONObject) -> JSONObject:
    """A batch of incidents analysed in this process (``batch``) or on a LocalCluster (``batch-dask``)."""
    import tempfile
    import time

    from rcakit.scale import analyze_many

    out: JSONObject = {}
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
        result, wall0 = _batch_on_dask(root, specs, results, task["workers"], out)
    out.update(fit=_completion_fit(results, wall0), incidents=len(result.outcomes), failed=len(result.failed),
               top1=result.top_k(1), top1_fused=result.top_k(1, fused=True))
    return out


def _batch_on_dask(root: Path, specs: list[IncidentSpec], results: Path, workers: int,
                   out: JSONObject) -> tuple[BatchResult, float]:
    """The batch on a fresh LocalCluster of ``workers`` processes; its figures go into ``out``.

    Returns the batch's result and the wall-clock time it started at.
    """
    import time

    import distributed

    from rcakit.scale import analyze_many

    t_start = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,  # type: ignore[no-untyped-call]
                                       processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)  # type: ignore[no-untyped-call]
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
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()
    return result, wall0


def _run_child(task: JSONObject) -> JSONObject:
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


def _plot(rows: list[_ScaleRow], path: Path) -> Path:
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
    import os
    import shutil
    import tempfile

    from rcakit.bench._common import markdown_table

    args = _parser().parse_args(argv)
    if args.child is not None:
        print(json.dumps(_child(json.loads(args.child))))
        return 0
    sizes = [float(x) for x in args.sizes.split(",") if x]
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="rcakit-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    rows: list[_ScaleRow] = []
    try:
        for millions in sizes:
            root, made = _store(base, millions, max(args.batch, 1), args.seed)
            doc, _ = read_manifest(root)
            on_disk = _size_on_disk(root)
            print(f"store {millions:g} M spans: {doc['hours']:.0f} hours, {on_disk / 1e9:.2f} GB of Parquet"
                  + (f", written in {made:.0f} s" if made is not None else " (reused)"), flush=True)
            for case, task in _tasks(args, millions):
                got = _run_child({**task, "root": str(root)})
                row = _result_row(case, millions, on_disk, got)
                rows.append(row)
                print(markdown_table([row], list(row)), flush=True)
    finally:
        if not args.dir and not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    columns = ["case", "M spans", "store GB", "wall s", "peak MB", "MB read", "s per incident (fit)", "fit R2",
               "top1", "note"]
    print("\n" + markdown_table(rows, columns))
    print("\nAgainst store size (exponent a of cost ~ size^a; 0 = flat, 1 = linear; ratio largest/smallest):")
    print(markdown_table(_size_fits(rows)))
    largest = max(sizes)
    peak = max((r["peak MB"] for r in rows if r["M spans"] == largest and "eager" not in r["case"]), default=0.0)
    load = os.getloadavg()
    print(f"\nLargest store ({largest:g} M spans): peak memory {peak:,.0f} MB (goal <= 4096 MB); "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, {os.cpu_count()} cores")
    if args.plot and len({r['M spans'] for r in rows}) > 1:
        print(f"plot: {_plot(rows, Path(args.plot))}")
    return 0


def _parser() -> argparse.ArgumentParser:
    import argparse

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
    return parser


def _tasks(args: argparse.Namespace, millions: float) -> list[tuple[str, JSONObject]]:
    """The measurements on a store of ``millions`` M spans, in the order they run: (case, task)."""
    tasks: list[tuple[str, JSONObject]] = [
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
    return tasks


def _result_row(case: str, millions: float, on_disk: int, got: JSONObject) -> _ScaleRow:
    """One row of the table from a child's measurement."""
    row: _ScaleRow = {"case": case, "M spans": millions, "store GB": on_disk / 1e9, "wall s": got["seconds"],
           "peak MB": got["peak_mb"], "MB read": got["bytes"] / 1e6}
    if got.get("fit"):
        row["s per incident (fit)"] = got["fit"]["per_incident_s"]
        row["fit R2"] = got["fit"]["r2"]
        row["top1"] = f"{got['top1']:.2f}"
    if "startup_s" in got:
        row["note"] = f"+ {got['startup_s']:.1f} s cluster start"
    if got.get("failed"):
        row["note"] = f"{got['failed']} failed"
    return row


def _size_fits(rows: list[_ScaleRow]) -> list[Row]:
    """Per case measured on two sizes or more: exponents and ratios of time, memory and bytes read against size."""
    fits: list[Row] = []
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
    return fits
