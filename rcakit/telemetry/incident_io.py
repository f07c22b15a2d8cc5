"""The incident folder: rcakit's own on-disk form of an Incident.

```
incident.json     name, description, windows, alarm, truth (with the true graph's edges), reference
                  window, call graph, placement, meta
metrics.parquet   the canonical long tables (or .csv.gz with fmt="csv")
logs.parquet
spans.parquet
system.json       optional system description in the Atlas input format
```
Files are written atomically and deterministically (same incident, same bytes), so that sample data
regenerates byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from rcakit.errors import DatasetLayoutError
from rcakit.telemetry.incident import FORMAT_VERSION, TABLES, GroundTruth, Incident
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow

__all__ = ["FORMAT_VERSION", "load_incident", "save_incident"]



def save_incident(incident: Incident, folder: str | Path, *, fmt: str = "parquet") -> Path:
    """Write ``incident`` to ``folder`` (:meth:`Incident.save`)."""
    return incident.save(folder, fmt=fmt)


def load_incident(folder: str | Path) -> Incident:
    """Read an incident folder written by :func:`save_incident` (or by hand in the same layout)."""
    root = Path(folder)
    meta_file = root / "incident.json"
    if not meta_file.is_file():
        raise DatasetLayoutError(
            "not an rcakit incident folder: incident.json is missing", source=str(root),
            hint="Point at a folder written by Incident.save() or rcakit.sim, or use a dataset adapter",
        )
    try:
        doc = json.loads(meta_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetLayoutError(f"incident.json is not valid JSON: {exc.msg} at line {exc.lineno}",
                                 source=str(meta_file)) from exc
    version = doc.get("rcakit_incident")
    if version != FORMAT_VERSION:
        raise DatasetLayoutError(f"incident format version {version!r} is not supported (this rcakit reads {FORMAT_VERSION})",
                                 source=str(meta_file), hint="Regenerate the folder with this version of rcakit")
    report = LoadReport()
    tables: dict[str, pl.DataFrame] = {}
    for name in TABLES:
        parquet, csv = root / f"{name}.parquet", root / f"{name}.csv.gz"
        if parquet.is_file():
            tables[name] = pl.read_parquet(parquet)
        elif csv.is_file():
            tables[name] = pl.read_csv(csv, infer_schema_length=10000)
    telemetry = Telemetry(tables.get("metrics"), tables.get("logs"), tables.get("spans"),
                          source=str(root), report=report)
    system = None
    if doc.get("system"):
        system = json.loads((root / doc["system"]).read_text(encoding="utf-8"))
    truth = GroundTruth.from_dict(doc["truth"]) if doc.get("truth") else None
    return Incident(
        telemetry=telemetry,
        baseline_window=TimeWindow.of(doc["baseline_window"]),
        incident_window=TimeWindow.of(doc["incident_window"]),
        alarm=doc.get("alarm"),
        truth=truth,
        name=doc.get("name", root.name),
        description=doc.get("description", ""),
        system=system,
        meta=doc.get("meta") or {},
        alarm_time=doc.get("alarm_time"),
        reference_window=doc.get("reference_window"),
        call_graph=doc.get("call_graph") or (),
        placement=doc.get("placement") or {},
    )
