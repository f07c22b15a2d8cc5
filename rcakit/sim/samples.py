"""The sample incidents in ``sample_data/``: ``python -m rcakit.sim.samples [--out DIR] [--check]``.

Every sample is made by :func:`rcakit.sim.make_incident` from a fixed seed and saved with
``Incident.save`` (parquet), so running this again writes the same bytes. ``--check`` regenerates
into a temporary folder and compares SHA-256 digests with the committed files.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rcakit.sim.faults import BatchSizeMisconfig, ErrorBurst, GpuThrottle, NetworkSlowdown
from rcakit.sim.simulation import make_incident
from rcakit.sim.topology import Topology
from rcakit.telemetry import Incident

__all__ = ["SAMPLES", "Sample", "default_folder", "digests", "generate", "main"]


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
            fresh, committed = digests(tmp), digests(target)
        differ = sorted(k for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k))
        for key in differ:
            print(f"differs: {key}")
        print("samples match byte for byte" if not differ else f"{len(differ)} file(s) differ")
        return 1 if differ else 0
    for folder in generate(target):
        size = sum(p.stat().st_size for p in folder.glob("*"))
        print(f"{folder}  {size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
