"""What the sections of ``python -m rcakit.bench localize`` share: the table row, the ground truth, the graphs.

:mod:`rcakit.bench.localize` runs the sections (``_localize_*.py``); each section builds its rows with
:func:`_row` from the ranks it scored against :func:`_truth`, on the true graph (:func:`_sim_graph` for the
simulator) or a draft (:func:`_drafted`), and the simulator sections draw their faults with
:func:`sim_fault_cases`. This module imports no section, so the sections and the runner need no circle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from rcakit.bench._protocol import role_of
from rcakit.telemetry import GroundTruth, Incident

if TYPE_CHECKING:
    from rcakit.bench._common import Row
    from rcakit.graph import CausalDraft
    from rcakit.sim import Fault, Topology

__all__ = ["PEERS", "MakeGraph", "_drafted", "_row", "_sim_graph", "_truth", "sim_fault_cases"]

#: How a section gets the graph of an incident (the true graph, or a draft of it).
MakeGraph = Callable[[Incident], "nx.DiGraph | CausalDraft | None"]

PEERS = {
    ("petshop latency", 1): "0.57 (graph traversal)", ("petshop latency", 3): "0.86 (CIRCA)",
    ("petshop availability", 1): "0.75 (ranked correlation)", ("petshop availability", 3): "1.00",
    ("nezha", 1): "0.867 (Nezha, two days)",
}


def _row(dataset: str, graph: str, method: str, ranks: list[int | None], seconds: list[float],
         extra: Mapping[str, object] | None = None) -> Row:
    r = np.array([99 if x is None else x for x in ranks])
    return {"dataset": dataset, "graph": graph, "method": method, "n": len(ranks),
            "top1": float(np.mean(r <= 1)) if len(r) else float("nan"),
            "top3": float(np.mean(r <= 3)) if len(r) else float("nan"),
            "peer top1": PEERS.get((dataset, 1), ""), "peer top3": PEERS.get((dataset, 3), ""),
            "median s": float(np.median(seconds)) if seconds else float("nan"), "role": role_of(dataset),
            **(extra or {})}


def _truth(incident: Incident) -> GroundTruth:
    if incident.truth is None:
        raise ValueError(f"incident {incident.name!r} has no ground truth to score against")
    return incident.truth


def _drafted(inc: Incident) -> CausalDraft:
    from rcakit.graph import draft_graph

    return draft_graph(inc, alarm=inc.alarm)


def sim_fault_cases(topology: Topology, seed: int) -> list[Fault]:
    """One fault of each simulator type on ``topology``, the targets drawn from ``seed`` (GPU, worker, link)."""
    import random

    from rcakit.sim import BatchSizeMisconfig, ErrorBurst, GpuThrottle, NetworkSlowdown, WorkloadSpike

    rng = random.Random(seed)
    gpu, worker = rng.randrange(topology.n_gpus), rng.randrange(topology.workers)
    links = topology.links()
    src, dst = links[rng.randrange(len(links))]
    return [GpuThrottle(f"GPU_{gpu}", duration="10min"), WorkloadSpike(duration="10min"),
            BatchSizeMisconfig(f"Batcher_{worker}", duration="10min"),
            ErrorBurst(f"ModelInference_{gpu}", duration="10min"), NetworkSlowdown(src, dst, duration="10min")]


def _sim_graph(inc: Incident) -> nx.DiGraph:
    g = _truth(inc).graph
    if g is None:
        raise ValueError(f"incident {inc.name!r} has no true graph")
    observed = [n for n, d in g.nodes(data=True) if d.get("observed", True)]
    from rcakit.attribution.model import drop_unmeasured

    return drop_unmeasured(g, set(observed))
