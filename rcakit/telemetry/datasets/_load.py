"""Recognise which dataset a folder holds, and the datasets with a true graph in one call."""

from __future__ import annotations

import os
from pathlib import Path

from rcakit.errors import DatasetLayoutError
from rcakit.telemetry.datasets._common import GraphDataset, as_dir, find_file
from rcakit.telemetry.datasets.dowhy import DOWHY_FILES, dowhy_graph_dataset, load_dowhy_microservice
from rcakit.telemetry.datasets.itmon import MOM_DIR, STORM_DIR, STORM_INCIDENT_FILE, load_mom, load_storm
from rcakit.telemetry.datasets.itmon import storm_graph_dataset as _storm_graph_dataset
from rcakit.telemetry.datasets.nezha import load_nezha
from rcakit.telemetry.datasets.petshop import load_petshop, petshop_graph_dataset
from rcakit.telemetry.incident import Incident

__all__ = ["GRAPH_DATASET_FOLDERS", "detect", "load", "load_graph_datasets"]

#: Folder names under the shared datasets root.
GRAPH_DATASET_FOLDERS = {"dowhy": "dowhy-microservice", "it-monitoring": "it-monitoring", "petshop": "petshop"}

_EXPECTED = (
    "a DoWhy microservice folder (rca_microservice_architecture_latencies.csv), "
    "a PetShop folder (dataset/<scenario>/graph.csv), "
    "a Nezha folder (rca_data/<day>/), or "
    f"an IT-monitoring folder ({STORM_INCIDENT_FILE} or {MOM_DIR}/)"
)


def _is_scenario(folder: Path) -> bool:
    return (folder / "graph.csv").is_file() and (folder / "noissue").is_dir()


def _petshop_scenarios(folder: Path) -> list[tuple[Path, str]]:
    """(folder to pass to load_petshop, scenario) for the petshop root, its dataset/ or one scenario folder."""
    if _is_scenario(folder):
        return [(folder, folder.name)]
    for dataset in (folder / "dataset", folder):
        if dataset.is_dir():
            found = sorted(p.name for p in dataset.iterdir() if p.is_dir() and _is_scenario(p))
            if found:
                return [(dataset, name) for name in found]
    return []


def detect(path: str | os.PathLike[str]) -> str:
    """``"dowhy"``, ``"petshop"``, ``"nezha"`` or ``"it-monitoring"`` from the folder's layout."""
    folder = as_dir(path, "dataset", _EXPECTED)
    if find_file(folder, DOWHY_FILES["normal"]) is not None:
        return "dowhy"
    if _petshop_scenarios(folder):
        return "petshop"
    if (folder / "rca_data").is_dir() or folder.name == "rca_data":
        return "nezha"
    if (folder / STORM_INCIDENT_FILE).is_file() or (folder / MOM_DIR).is_dir() or (folder / STORM_DIR).is_dir():
        return "it-monitoring"
    try:
        found = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    except OSError:
        found = []
    shown = ", ".join(found[:10]) + (f", … (+{len(found) - 10})" if len(found) > 10 else "")
    raise DatasetLayoutError(
        f"cannot tell which dataset this folder holds: expected {_EXPECTED}; found {shown or 'an empty folder'}",
        source=str(folder),
        hint="Pass one dataset's folder, or call its adapter (load_petshop, load_nezha, ...) directly",
    )


def load(path: str | os.PathLike[str]) -> list[Incident]:
    """Every Incident of the dataset in ``path`` (its kind recognised by :func:`detect`).

    DoWhy: the two anomaly files; PetShop: every issue of every scenario present; Nezha: every fault
    of every day; IT monitoring: the Storm incident (MoM has no incident; see :func:`load_mom`).
    """
    kind = detect(path)
    if kind == "dowhy":
        return load_dowhy_microservice(path)
    if kind == "petshop":
        return [i for folder, scenario in _petshop_scenarios(Path(path))
                for i in load_petshop(folder, scenario=scenario)]
    if kind == "nezha":
        return load_nezha(path)
    return [load_storm(path)]


def load_graph_datasets(root: str | os.PathLike[str] | None = None) -> dict[str, GraphDataset]:
    """``mom``, ``storm``, ``dowhy`` and ``petshop-latency`` from the shared datasets folder.

    ``root`` holds dowhy-microservice/, it-monitoring/ and petshop/ (default: the shared datasets
    folder rcakit finds, see ``rcakit._paths.shared_datasets_dir``). A missing folder is an error
    naming it, so a benchmark never silently runs on fewer datasets.
    """
    if root is None:
        from rcakit._paths import shared_datasets_dir

        found = shared_datasets_dir()
        if found is None:
            raise DatasetLayoutError("no shared datasets folder found", source="../shared/datasets",
                                     hint="Pass root= or set RCAKIT_DATASETS")
        root = found
    base = as_dir(root, "shared datasets", ", ".join(f"{v}/" for v in GRAPH_DATASET_FOLDERS.values()))
    missing = [name for name in GRAPH_DATASET_FOLDERS.values() if not (base / name).is_dir()]
    if missing:
        raise DatasetLayoutError(f"the datasets folder lacks {', '.join(m + '/' for m in missing)}", source=str(base),
                                 hint="Pass the folder holding dowhy-microservice/, it-monitoring/ and petshop/")
    itmon = base / GRAPH_DATASET_FOLDERS["it-monitoring"]
    return {
        "mom": load_mom(itmon),
        "storm": _storm_graph_dataset(itmon),
        "dowhy": dowhy_graph_dataset(base / GRAPH_DATASET_FOLDERS["dowhy"]),
        "petshop-latency": petshop_graph_dataset(base / GRAPH_DATASET_FOLDERS["petshop"]),
    }
