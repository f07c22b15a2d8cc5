"""The batch-level event loop simulates the same system as a plain per-request simpy model."""

from __future__ import annotations

import numpy as np
import pytest

from rcakit.bench.sim import simpy_reference
from rcakit.sim import Topology
from rcakit.sim._engine import run


@pytest.mark.parametrize(("topology", "rate"), [
    (Topology.small(), 60.0),
    pytest.param(Topology.small(), 200.0, marks=pytest.mark.slow),
    pytest.param(Topology.medium(), 300.0, marks=pytest.mark.slow),
])
def test_event_loop_matches_simpy(topology: Topology, rate: float) -> None:
    ours = run(topology, duration=60.0, rate=rate, faults=(), seed=1)
    done = ours.r_done < 60.0
    ours_ms = 1000.0 * float(np.mean(ours.r_latency[done]))
    ref = simpy_reference(topology, duration=60.0, rate=rate, seed=2)
    # different random streams: the means agree within a few percent, not exactly
    assert ref["mean_latency_ms"] == pytest.approx(ours_ms, rel=0.06)


def test_batches_respect_the_configuration() -> None:
    topo = Topology.medium(max_batch_size=4)
    r = run(topo, duration=30.0, rate=600.0, faults=(), seed=3)
    assert r.b_size.max() <= 4 and r.b_size.min() >= 1
    assert r.b_size.sum() == r.r_send.shape[0]          # every request is in exactly one batch
    # no GPU runs two batches at once
    for g in range(topo.n_gpus):
        mine = r.b_gpu == g
        starts, ends = r.b_start[mine], r.b_end[mine]
        assert np.all(starts[1:] >= ends[:-1] - 1e-12)
    # causality along each request's path
    assert np.all(r.r_enqueue >= r.r_send)
    assert np.all(r.r_dequeue >= r.r_enqueue - 1e-12)
    assert np.all(r.r_exec_end > r.r_dequeue)
    assert np.all(r.r_done > r.r_exec_end)
