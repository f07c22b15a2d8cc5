"""The sample incidents in ``sample_data/``: ``python -m rcakit.sim.samples [--out DIR] [--check]``.

Every sample is made by :func:`rcakit.sim.make_incident` from a fixed seed and saved with
``Incident.save`` (parquet), so running this again with the same installed packages writes the same bytes.
``--check`` regenerates into a temporary folder and compares with the committed files: the same bytes,
or the same data with floats that differ only in their last bits (another build of the numeric
libraries may round differently; see ``compare``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from rcakit.sim.faults import BatchSizeMisconfig, ErrorBurst, GpuThrottle, NetworkSlowdown
from rcakit.sim.simulation import make_incident
from rcakit.sim.topology import Topology
from rcakit.telemetry import Incident

__all__ = ["SAMPLES", "Sample", "compare", "default_folder", "digests", "generate", "main"]


@dataclass(frozen=True)
class Sample:
    name: str
    summary: str
    build: Callable[[], Incident]


SAMPLES: tuple[Sample, ...] = (
    Sample("sim-S-batch-size", "S: Batcher_0's max batch size set to 1; the queue saturates",
           lambda: make_incident(Topology.small(), BatchSizeMisconfig("Batcher_0", duration="10min", magnitude=1),
                                 seed=11, baseline="20min", after="5min", name="sim-S-batch-size")),
    Sample("sim-S-gpu-throttle", "S: GPU_0 throttled 2.5x; GPU_0:power (its cause) is hidden",
           lambda: make_incident(Topology.small(), GpuThrottle("GPU_0", duration="10min", magnitude=2.5),
                                 seed=12, baseline="20min", after="5min", name="sim-S-gpu-throttle")),
    Sample("sim-M-network", "M: the link ModelInference_2 -> Client 30x slower",
           lambda: make_incident(Topology.medium(), NetworkSlowdown("ModelInference_2", "Client", duration="10min",
                                                                    magnitude=30.0),
                                 seed=13, baseline="20min", after="5min", name="sim-M-network")),
    Sample("sim-M-error-burst", "M: ModelInference_1 crashes on 10% of its batches; the other GPUs absorb "
                                "the load, so the alarm is the client's error rate",
           lambda: make_incident(Topology.medium(), ErrorBurst("ModelInference_1", duration="10min", magnitude=0.1),
                                 seed=14, baseline="20min", after="5min", name="sim-M-error-burst",
                                 alarm="Client:error_rate")),
    Sample("sim-M-multimodal", "M: GPU_2 throttled 3x, with logs and traces (1 request in 200 traced)",
           lambda: make_incident(Topology.medium(), GpuThrottle("GPU_2", duration="10min", magnitude=3.0),
                                 seed=15, baseline="15min", after="5min", trace_sample=200,
                                 name="sim-M-multimodal")),
)


def default_folder() -> Path:
    """``sample_data/`` at the root of the repository (next to the ``rcakit`` package)."""
    return Path(__file__).resolve().parents[2] / "sample_data"


def generate(out: str | Path | None = None, *, names: list[str] | None = None) -> list[Path]:
    """Write every sample (or those in ``names``) under ``out`` and return their folders."""
    root = Path(out) if out is not None else default_folder()
    folders = []
    for sample in SAMPLES:
        if names and sample.name not in names:
            continue
        incident = sample.build()
        incident.description = f"{sample.summary}. {incident.description}"
        folders.append(incident.save(root / sample.name))
    return folders


def digests(root: str | Path) -> dict[str, str]:
    """SHA-256 of every file under the sample folders in ``root``, keyed by relative path."""
    base = Path(root)
    out = {}
    for sample in SAMPLES:
        for path in sorted((base / sample.name).glob("*")):
            if path.is_file():
                out[str(path.relative_to(base))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# Float columns may differ in their last bits from one build of the numeric libraries to another (the
# same stack from the package index on two days did); a sample is the same data when every float
# agrees to this relative tolerance.
RTOL = 1e-12


def compare(fresh: str | Path, committed: str | Path) -> tuple[list[str], list[str]]:
    """Compare regenerated samples with committed ones: ``(differences, last_bits)``.

    Files with the same bytes agree. A Parquet table that differs is read: the same columns, types and
    rows, with every non-float value equal and every float within ``RTOL`` (relative) of the committed
    one, is listed in ``last_bits`` (with how many values and the largest relative difference); anything
    else, and any other file that differs, is a difference naming the file and what changed.
    """
    new, old = digests(fresh), digests(committed)
    differences: list[str] = []
    last_bits: list[str] = []
    for key in sorted(new.keys() | old.keys()):
        if key not in new or key not in old:
            differences.append(f"{key}: only in the {'committed' if key in old else 'regenerated'} samples")
        elif new[key] != old[key]:
            if not key.endswith(".parquet"):
                differences.append(f"{key}: {_json_difference(Path(fresh) / key, Path(committed) / key)}")
                continue
            why, changed = _table_difference(pl.read_parquet(Path(fresh) / key), pl.read_parquet(Path(committed) / key))
            (differences if why else last_bits).append(f"{key}: {why or changed}")
    return differences, last_bits


def _json_difference(fresh: Path, committed: Path) -> str:
    try:
        a, b = json.loads(fresh.read_text()), json.loads(committed.read_text())
    except ValueError:
        return "the bytes differ"
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)) if isinstance(a, dict) and isinstance(b, dict) else []
    return f"the bytes differ (keys {', '.join(keys)})" if keys else "the bytes differ"


def _table_difference(a: pl.DataFrame, b: pl.DataFrame) -> tuple[str, str]:
    """(what differs beyond float rounding, or ''; how many floats differ in their last bits)."""
    if a.schema != b.schema:
        return f"the columns differ ({dict(a.schema)} vs {dict(b.schema)})", ""
    if a.height != b.height:
        return f"{a.height} rows vs {b.height} committed", ""
    changed, worst = 0, 0.0
    for name, dtype in a.schema.items():
        x, y = a.get_column(name), b.get_column(name)
        if not dtype.is_float():
            if not x.equals(y):
                row = int((x.ne_missing(y)).arg_max() or 0)
                return f"column {name!r} differs (first at row {row}: {x[row]!r} vs {y[row]!r})", ""
            continue
        u, v = x.to_numpy(), y.to_numpy()
        same = (u == v) | (np.isnan(u) & np.isnan(v))
        close = np.isclose(u, v, rtol=RTOL, atol=0.0) | same
        if not close.all():
            row = int(np.argmin(close))
            return f"column {name!r} differs beyond rounding (first at row {row}: {u[row]!r} vs {v[row]!r})", ""
        if not same.all():
            changed += int(np.count_nonzero(~same))
            rel = np.abs(u[~same] - v[~same]) / np.maximum(np.abs(v[~same]), np.finfo(float).tiny)
            worst = max(worst, float(rel.max()))
    return "", f"{changed} float value(s) differ in their last bits (largest relative difference {worst:.1e})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcakit.sim.samples", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder to write into (default: sample_data/)")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary folder and compare digests with --out")
    args = parser.parse_args(argv)
    target = Path(args.out) if args.out else default_folder()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(tmp)
            differences, last_bits = compare(tmp, target)
        for line in differences:
            print(f"differs: {line}")
        for line in last_bits:
            print(f"rounding: {line}")
        if differences:
            print(f"{len(differences)} file(s) differ")
        elif last_bits:
            print(f"samples match (every float within a relative {RTOL:g}; {len(last_bits)} file(s) differ only "
                  "in the last bits of floats, as builds of the numeric libraries round differently)")
        else:
            print("samples match byte for byte")
        return 1 if differences else 0
    for folder in generate(target):
        size = sum(p.stat().st_size for p in folder.glob("*"))
        print(f"{folder}  {size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
