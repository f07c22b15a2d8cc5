"""Simulator rows of ``python -m rcakit.bench localize``: ``Method.MULTIMODAL`` with and without placement.

``Method.MULTIMODAL`` credits a service's slower self time to the resource it runs on (a GPU that serves
no spans) when that resource's metrics moved (:mod:`rcakit.attribution.multimodal`, "Placement"). This
section measures it out of sample: simulator S and M incidents (metrics, logs and 1 request in 200
traced, as the ``sim-M-multimodal`` sample) of every fault kind, the targets drawn from the seed by
:func:`rcakit.bench._localize_common.sim_fault_cases` (GPU, worker, link); entity top-1 / top-3 of the true
root-cause entity, per topology and fault kind, before (``extra["multimodal_placement"] = False``, the
ranking without placement) and after (the default). The placement rule (its constants are the attribution
``threshold``, 3, and the trace judge's 10 % jitter floor) was chosen looking at seeds :data:`TUNING_SEEDS`
only; the rows report :data:`HELD_OUT_SEEDS`. (Seeds 2000-2005 served as held-out seeds for the first
version of the rule, whose "most executions slow" condition missed weak throttles there too; the rule was
changed after that, so they are no longer held out and the rows use 3000-3005.)

Run alone: ``python -m rcakit.bench._localize_multimodal_sim [--seeds 2000,2001,...]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import TYPE_CHECKING

from rcakit.attribution import AttributionConfig, Method, attribute
from rcakit.bench._localize_common import _row, _truth, sim_fault_cases
from rcakit.bench._protocol import role_of

if TYPE_CHECKING:
    from rcakit.bench._common import Row
    from rcakit.telemetry import Incident

__all__ = ["HELD_OUT_SEEDS", "THROTTLES", "TUNING_SEEDS", "main", "multimodal_sim_incidents", "multimodal_sim_rows"]

#: Seeds looked at while choosing the placement rule (not reported).
TUNING_SEEDS: tuple[int, ...] = (1000, 1001, 1002)
#: Seeds the rows report (never looked at before the rule was fixed).
HELD_OUT_SEEDS: tuple[int, ...] = (3000, 3001, 3002, 3003, 3004, 3005)
#: Extra GPU throttle factors (besides sim_fault_cases' 2.5x): how weak a throttle the rule still sees.
THROTTLES: tuple[float, ...] = (1.5, 4.0)
_VARIANTS = (("multimodal, before (no placement)", False), ("multimodal (placement)", True))


def multimodal_sim_incidents(seeds: tuple[int, ...], sizes: tuple[str, ...] = ("S", "M"),
                             throttles: tuple[float, ...] = THROTTLES) -> list[tuple[str, str, Incident]]:
    """(size, kind, incident) for each size, seed and simulator fault kind: 15 min baseline, 10 min fault, 5 min
    after, logs and 1 request in 200 traced (the shape of ``sample_data/sim-M-multimodal``). The kinds are
    :func:`~rcakit.bench._localize_common.sim_fault_cases` (a GPU throttle of 2.5x among them) plus a throttle of the same
    GPU by each factor in ``throttles`` (kind ``gpu_throttle <f>x``)."""
    from rcakit.sim import ErrorBurst, GpuThrottle, Topology, make_incident

    topologies = {"S": Topology.small(), "M": Topology.medium(), "L": Topology.large()}
    out = []
    for size in sizes:
        topo = topologies[size]
        for seed in seeds:
            cases = sim_fault_cases(topo, seed)
            gpu = next(f.target for f in cases if isinstance(f, GpuThrottle))
            labelled = [(f"{f.fault_type} {f.magnitude:g}x" if isinstance(f, GpuThrottle) else f.fault_type, f)
                        for f in cases]
            labelled += [(f"gpu_throttle {m:g}x", GpuThrottle(gpu, duration="10min", magnitude=m)) for m in throttles]
            for kind, fault in labelled:
                alarm = "Client:error_rate" if isinstance(fault, ErrorBurst) else "Client:latency"
                out.append((size, kind, make_incident(topo, fault, seed=seed, baseline="15min", after="5min",
                                                       trace_sample=200, alarm=alarm,
                                                       name=f"sim-{size}-{kind.replace(' ', '-')}-{seed}")))
    return out


def multimodal_sim_rows(seeds: tuple[int, ...] = HELD_OUT_SEEDS, sizes: tuple[str, ...] = ("S", "M"),
                        cfg: AttributionConfig | None = None, verbose: bool = False,
                        throttles: tuple[float, ...] = THROTTLES) -> list[Row]:
    """One row per topology, fault kind and variant (before / after placement), plus an "all kinds" row per
    topology and variant; the row format of :func:`rcakit.bench._localize_common._row` (dataset, graph, method, n,
    top1, top3, ..., median s) with ``seeds``."""
    base = cfg or AttributionConfig(n_bootstrap=0)
    ranks: dict[tuple[str, str, str], list[int | None]] = {}
    secs: dict[tuple[str, str, str], list[float]] = {}
    for size, kind, inc in multimodal_sim_incidents(seeds, sizes, throttles):
        truth = _truth(inc)
        for label, on in _VARIANTS:
            config = dataclasses.replace(base, n_bootstrap=0, fault_type=False,
                                         multimodal=dataclasses.replace(base.multimodal, placement=on))
            t0 = time.perf_counter()
            res = attribute(None, inc, method=Method.MULTIMODAL, config=config)
            elapsed = time.perf_counter() - t0
            rank = min((r for r in (res.rank_of(t) for t in truth.root_cause_entities) if r is not None), default=None)
            for key in ((size, kind, label), (size, "all kinds", label)):
                ranks.setdefault(key, []).append(rank)
                secs.setdefault(key, []).append(elapsed)
            if verbose:
                top = ", ".join(f"{e}" for e, _ in res.entities[:3])
                print(f"  {inc.name} [{label}]: truth {truth.root_cause_entities[0]} rank {rank}; top {top}",
                      flush=True)
    seed_text = ",".join(map(str, seeds))
    rows: list[Row] = []
    for (size, kind, label), r in ranks.items():
        rows.append(_row(f"sim {size} {kind}", "none (entity level)", label, r, secs[(size, kind, label)],
                         {"seeds": seed_text, "role": role_of("simmm")}))
    order = {label: i for i, (label, _) in enumerate(_VARIANTS)}
    rows.sort(key=lambda row: (str(row["dataset"]).split()[1], str(row["dataset"]).endswith("all kinds"),
                               str(row["dataset"]), order[str(row["method"])]))
    return rows


def main(argv: list[str] | None = None) -> int:
    from rcakit._progress import set_progress
    from rcakit.bench._common import markdown_table

    parser = argparse.ArgumentParser(prog="python -m rcakit.bench._localize_multimodal_sim")
    parser.add_argument("--seeds", default=",".join(map(str, HELD_OUT_SEEDS)))
    parser.add_argument("--sizes", default="S,M")
    parser.add_argument("--verbose", action="store_true", help="print each incident's top 3")
    args = parser.parse_args(argv)
    set_progress(False)
    seeds = tuple(int(x) for x in args.seeds.split(",") if x)
    rows = multimodal_sim_rows(seeds, tuple(s for s in args.sizes.split(",") if s), verbose=args.verbose)
    print(markdown_table(rows, list(dict.fromkeys(c for r in rows for c in r))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
