"""Adapters for public RCA datasets with ground truth: a folder in, Incidents (or graph datasets) out.

* :func:`load_dowhy_microservice` – DoWhy's microservice latency example (synthetic, 13-edge graph).
* :func:`load_petshop` – PetShop (NeurIPS 2023): 26 labelled issues of a real app, call graph.
* :func:`load_nezha` – Nezha TrainTicket: metrics, logs and traces of a fault day, 17 injected faults.
* :func:`load_mom`, :func:`load_storm` – EasyVista IT monitoring: MoM expert graph, the Storm incident.
* :func:`load` – recognise which of these a folder holds and dispatch.
* :func:`load_graph_datasets` – the datasets with a true causal graph, for graph-drafting evaluation.

Every adapter checks the folder's layout and raises :class:`rcakit.errors.DatasetLayoutError` naming
the folder, what is missing and what was found. Frames read from disk are cached per file (by
modification time and size), so loading a dataset twice is cheap; :func:`clear_cache` forgets them.
"""

from rcakit.telemetry.datasets._common import (
    SYNTHETIC_EPOCH,
    GraphDataset,
    clear_cache,
    incidents_table,
    safe_entity,
)
from rcakit.telemetry.datasets._load import detect, load, load_graph_datasets
from rcakit.telemetry.datasets.dowhy import (
    DOWHY_ALARM,
    DOWHY_EDGES,
    DOWHY_ROOT_CAUSE,
    dowhy_call_graph,
    dowhy_graph,
    dowhy_graph_dataset,
    dowhy_system,
    load_dowhy_microservice,
)
from rcakit.telemetry.datasets.itmon import (
    STORM_ALARM,
    STORM_INCIDENT_ROWS,
    STORM_ROOT_CAUSES,
    load_mom,
    load_storm,
    mom_node,
    storm_graph_dataset,
)
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
    petshop_graph_dataset,
    petshop_node,
    read_petshop_metrics,
)

__all__ = [
    "DOWHY_ALARM",
    "DOWHY_EDGES",
    "DOWHY_ROOT_CAUSE",
    "NEZHA_ALARM",
    "STORM_ALARM",
    "STORM_INCIDENT_ROWS",
    "STORM_ROOT_CAUSES",
    "SYNTHETIC_EPOCH",
    "GraphDataset",
    "clear_cache",
    "detect",
    "dowhy_call_graph",
    "dowhy_graph",
    "dowhy_graph_dataset",
    "dowhy_system",
    "incidents_table",
    "load",
    "load_dowhy_microservice",
    "load_graph_datasets",
    "load_mom",
    "load_nezha",
    "load_nezha_day",
    "load_petshop",
    "load_storm",
    "mom_node",
    "nezha_days",
    "nezha_faults",
    "nezha_metric_name",
    "nezha_service",
    "petshop_call_graph",
    "petshop_graph_dataset",
    "petshop_node",
    "read_petshop_metrics",
    "safe_entity",
    "storm_graph_dataset",
]
