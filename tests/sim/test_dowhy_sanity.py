"""The simulator's sanity check: DoWhy attribution on the TRUE graph finds the injected root cause.

If the telemetry did not carry the causal structure the simulator claims (``true_graph``), an
attribution that is handed that very graph could not rank the injected root cause near the top.
"""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest

from rcakit.sim import (
    BatchSizeMisconfig,
    ErrorBurst,
    GpuThrottle,
    NetworkSlowdown,
    Topology,
    WorkloadSpike,
    make_incident,
)

FAULTS = [
    WorkloadSpike(duration="10min", magnitude=2.0),
    NetworkSlowdown("Router", "Queue_0", duration="10min", magnitude=20.0),
    BatchSizeMisconfig("Batcher_0", duration="10min", magnitude=1),
    GpuThrottle("GPU_0", duration="10min", magnitude=2.5),
    ErrorBurst("ModelInference_0", duration="10min", magnitude=0.05),
]


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS, ids=[f.fault_type for f in FAULTS])
def test_dowhy_on_the_true_graph_ranks_the_root_cause_in_the_top_3(fault) -> None:  # type: ignore[no-untyped-def]
    from dowhy import gcm
    from dowhy.gcm.util.general import set_random_seed

    gcm.config.disable_progress_bars()
    set_random_seed(0)
    # power observed: the check is about the simulator, not about unobserved nodes
    incident = make_incident(Topology.small(), fault, seed=21, baseline="30min", hide=(), logs=False)
    assert incident.truth is not None and incident.truth.graph is not None and incident.alarm is not None
    graph = incident.truth.graph
    keep = nx.ancestors(graph, incident.alarm) | {incident.alarm}
    dag = nx.DiGraph(graph.subgraph(keep).edges())
    dag.add_nodes_from(keep)
    base, abnormal = incident.aligned("10s", "mean", nodes=sorted(keep))
    old = base.to_pandas().reset_index(drop=True).dropna()
    new = abnormal.to_pandas().reset_index(drop=True).dropna()
    assert len(old) >= 150 and len(new) >= 50

    model = gcm.StructuralCausalModel(dag)
    for node in dag.nodes:
        if dag.in_degree(node) == 0:
            model.set_causal_mechanism(node, gcm.EmpiricalDistribution())
        else:
            model.set_causal_mechanism(node, gcm.AdditiveNoiseModel(gcm.ml.create_linear_regressor()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gcm.fit(model, old)
        # attribute the change of the alarm's mean (what an SRE sees on the dashboard)
        change = gcm.distribution_change(model, old, new, incident.alarm, num_samples=500,
                                         difference_estimation_func=_mean_shift,
                                         shapley_config=gcm.shapley.ShapleyConfig(n_jobs=1))
    ranking = sorted(change, key=lambda node: -abs(change[node]))
    cause = incident.truth.root_cause_nodes[0]
    assert cause in ranking[:3], f"{cause} ranked {ranking.index(cause) + 1}: {ranking[:5]}"
    # the alarm's mean went up, and so does the total the attributions explain (linear mechanisms
    # extrapolate, so the total is not expected to match the observed shift exactly)
    shift = float(new[incident.alarm].mean() - old[incident.alarm].mean())
    assert shift > 0
    assert sum(change.values()) > 0


def _mean_shift(old: np.ndarray, new: np.ndarray) -> float:
    return float(np.mean(new) - np.mean(old))
