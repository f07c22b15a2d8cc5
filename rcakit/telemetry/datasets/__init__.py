"""Adapters for public RCA datasets with ground truth: a folder in, Incidents (or graph datasets) out.

* :func:`load_dowhy_microservice` – DoWhy's microservice latency example (synthetic, 13-edge graph).
* :func:`load_petshop` – PetShop (NeurIPS 2023): 26 labelled issues of a real app, call graph.
* :func:`load_nezha` – Nezha TrainTicket: metrics, logs and traces of a fault day, 17 injected faults.
* :func:`load_mom`, :func:`load_storm` – EasyVista IT monitoring: MoM expert graph, the Storm incident.
* :func:`load` – recognise which of these a folder holds and dispatch.
* :func:`load_graph_datasets` – the datasets with a true causal graph, for graph-drafting evaluation.
"""

from rcakit.telemetry.datasets._common import GraphDataset, clear_cache, safe_entity
from rcakit.telemetry.datasets.nezha import (
    NEZHA_ALARM,
    load_nezha,
    load_nezha_day,
    nezha_days,
    nezha_faults,
    nezha_metric_name,
    nezha_service,
)
from rcakit.telemetry.datasets.petshop import (
    load_petshop,
    petshop_call_graph,
    petshop_node,
    read_petshop_metrics,
)

__all__ = [
    "NEZHA_ALARM",
    "GraphDataset",
    "clear_cache",
    "load_nezha",
    "load_nezha_day",
    "load_petshop",
    "nezha_days",
    "nezha_faults",
    "nezha_metric_name",
    "nezha_service",
    "petshop_call_graph",
    "petshop_node",
    "read_petshop_metrics",
    "safe_entity",
]
