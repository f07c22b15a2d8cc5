"""``Incident``: telemetry with a baseline window, an incident window, an alarm and, when known, the truth."""

from __future__ import annotations

import gzip
import html
import io
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from rcakit._io import atomic_write_bytes, atomic_write_json
from rcakit.errors import DataError
from rcakit.telemetry._schema import split_node
from rcakit.telemetry.model import AlignedMetrics, Fill, Telemetry, _did_you_mean
from rcakit.telemetry.window import TimeWindow, to_utc

if TYPE_CHECKING:
    from rcakit._types import JSONObject, TimeLike

__all__ = ["FORMAT_VERSION", "TABLES", "GroundTruth", "Incident", "call_pairs"]

#: Version of the incident folder's ``incident.json``.
FORMAT_VERSION = 1
#: The tables of an incident folder, in file order.
TABLES = ("metrics", "logs", "spans")


@dataclass
class GroundTruth:
    """What really happened, for evaluation: root-cause entities and nodes, fault type, true graph."""

    root_cause_entities: tuple[str, ...] = ()
    root_cause_nodes: tuple[str, ...] = ()
    fault_type: str | None = None
    graph: nx.DiGraph | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        self.root_cause_entities = tuple(self.root_cause_entities)
        self.root_cause_nodes = tuple(self.root_cause_nodes)
        for node in self.root_cause_nodes:
            split_node(node)
        if not self.root_cause_entities and self.root_cause_nodes:
            self.root_cause_entities = tuple(dict.fromkeys(split_node(n)[0] for n in self.root_cause_nodes))

    def to_dict(self) -> JSONObject:
        return {
            "root_cause_entities": list(self.root_cause_entities),
            "root_cause_nodes": list(self.root_cause_nodes),
            "fault_type": self.fault_type,
            "graph": _graph_to_dict(self.graph) if self.graph is not None else None,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: JSONObject) -> GroundTruth:
        graph = None
        if data.get("graph") is not None:
            graph = _graph_from_dict(data["graph"])
        elif data.get("graph_edges") is not None:  # written before edge attributes were kept
            graph = nx.DiGraph()
            graph.add_edges_from(tuple(e) for e in data["graph_edges"])
        return cls(
            root_cause_entities=tuple(data.get("root_cause_entities") or ()),
            root_cause_nodes=tuple(data.get("root_cause_nodes") or ()),
            fault_type=data.get("fault_type"),
            graph=graph,
            notes=data.get("notes", ""),
        )


_TYPED_META = ("reference_window", "call_graph", "placement")


def call_pairs(value: nx.DiGraph | Iterable[Sequence[object]] | None, name: str) -> tuple[tuple[str, str], ...]:
    """``(caller, callee)`` pairs from any iterable of two-element sequences, or a DiGraph's edges (repeats
    dropped, order kept); ``name`` (an incident's or a dataset's) goes into the error."""
    if isinstance(value, nx.DiGraph):
        value = value.edges
    out: list[tuple[str, str]] = []
    for item in value or ():
        if isinstance(item, str) or len(item) != 2:
            raise DataError(f"call_graph of {name!r} holds {item!r}, not a (caller, callee) pair",
                            hint="Pass pairs of entity names, e.g. [('frontend', 'cart')]")
        out.append((str(item[0]), str(item[1])))
    return tuple(dict.fromkeys(out))


def _placement(value: object, name: str) -> dict[str, tuple[str, ...]]:
    """``{service: (resource, ...)}`` from a mapping whose values are one name or several."""
    if not value:
        return {}
    if not isinstance(value, dict):
        raise DataError(f"placement of incident {name!r} must map a service to its resources, got "
                        f"{type(value).__name__}", hint="Pass e.g. {'api': ['node_1', 'disk_0']}")
    return {str(service): (str(hosts),) if isinstance(hosts, str) else tuple(str(h) for h in hosts)
            for service, hosts in value.items()}


def _graph_to_dict(graph: nx.DiGraph) -> JSONObject:
    """Nodes and edges with their attributes (the simulator's ``why``, ``observed``), JSON-ready."""
    return {
        "nodes": [[str(n), dict(a)] for n, a in graph.nodes(data=True)],
        "edges": [[str(u), str(v), dict(a)] for u, v, a in graph.edges(data=True)],
    }


def _graph_from_dict(data: JSONObject) -> nx.DiGraph:
    graph = nx.DiGraph()
    for name, attrs in data.get("nodes", []):
        graph.add_node(name, **attrs)
    for u, v, attrs in data.get("edges", []):
        graph.add_edge(u, v, **attrs)
    return graph


@dataclass(eq=False)
class Incident:
    """One incident to analyse.

    ``baseline_window`` is a stretch of normal operation to learn from; ``incident_window`` is the
    stretch to explain; ``alarm`` is the symptom node (``entity:metric``) that paged someone.
    ``system`` optionally holds a system description (Atlas input format) for graph drafting, and
    ``meta`` anything an adapter wants to keep (the upstream file names).

    What the analysis reads besides the telemetry has a field of its own:

    * ``reference_window``: a fault-free recording to compare logs and traces with when the baseline
      window holds none (Nezha records traces around each fault only).
    * ``call_graph``: ``(caller, callee)`` entity pairs known from outside the traces (a service map, a
      dataset's call graph); traces add their own.
    * ``placement``: which resources each service runs on (``{"api": ("node_1", "disk_0")}``), stated,
      never guessed from names.

    Older incident files and callers that put these under ``meta`` keys of the same names still work:
    the values move into the fields.

    ``alarm_time`` is when the alarm fired, if known. Rows of the incident window that start before it
    are pre-fault: attribution explains the rows from the first one that starts at or after the alarm
    and uses the earlier rows as a local reference (a shift that was there before the alarm is not
    the incident). Without it the whole incident window is explained against the baseline.
    """

    telemetry: Telemetry
    baseline_window: TimeWindow
    incident_window: TimeWindow
    alarm: str | None = None
    truth: GroundTruth | None = None
    name: str = "incident"
    description: str = ""
    system: JSONObject | None = None
    meta: JSONObject = field(default_factory=dict)
    alarm_time: datetime | None = None
    reference_window: TimeWindow | None = None
    call_graph: tuple[tuple[str, str], ...] = ()
    placement: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.telemetry, Telemetry):
            raise TypeError(f"telemetry must be a Telemetry, got {type(self.telemetry).__name__}")
        self.baseline_window = TimeWindow.of(self.baseline_window)
        self.incident_window = TimeWindow.of(self.incident_window)
        self._warn_overlap()
        self.meta = dict(self.meta or {})
        for key in _TYPED_META:  # the form written before these had fields
            if key in self.meta and not getattr(self, key):
                setattr(self, key, self.meta.pop(key))
        if self.reference_window is not None:
            self.reference_window = TimeWindow.of(self.reference_window)
        self.call_graph = call_pairs(self.call_graph, self.name)
        self.placement = _placement(self.placement, self.name)
        if self.alarm_time is not None:
            self.alarm_time = to_utc(self.alarm_time)
        if self.alarm is not None:
            self._check_node(self.alarm, "alarm")

    def _check_node(self, node: str, what: str) -> None:
        split_node(node)
        nodes = self.telemetry.nodes()
        if nodes and node not in nodes:
            raise DataError(f"the {what} node {node!r} is not among the metrics of incident {self.name!r}",
                            hint=_did_you_mean(node, nodes))

    # -- windows -------------------------------------------------------------------------------
    def set_incident_window(self, start: TimeWindow | tuple[TimeLike, TimeLike] | TimeLike,
                            end: TimeLike | None = None) -> None:
        """Move the incident window (the explorer's range selection calls this)."""
        self.incident_window = TimeWindow.of(start if end is None else (start, end))
        self._warn_overlap()

    def set_baseline_window(self, start: TimeWindow | tuple[TimeLike, TimeLike] | TimeLike,
                            end: TimeLike | None = None) -> None:
        self.baseline_window = TimeWindow.of(start if end is None else (start, end))
        self._warn_overlap()

    def _warn_overlap(self) -> None:
        """A baseline that holds incident rows makes the change look normal: accepted (it may be meant), said."""
        if self.baseline_window.overlaps(self.incident_window):
            warnings.warn(f"incident {self.name!r}: the baseline window {self.baseline_window} overlaps the incident "
                          f"window {self.incident_window}; rows in both count as normal, which hides the change. "
                          "Move one with set_baseline_window / set_incident_window", UserWarning, stacklevel=3)

    def set_alarm(self, node: str) -> None:
        self._check_node(node, "alarm")
        self.alarm = node

    def baseline(self) -> Telemetry:
        """The telemetry inside the baseline window."""
        return self.telemetry.window(self.baseline_window)

    def abnormal(self) -> Telemetry:
        """The telemetry inside the incident window."""
        return self.telemetry.window(self.incident_window)

    def aligned(
        self, freq: str | timedelta, agg: str | Mapping[str, str], *, nodes: Iterable[str] | None = None,
        fill: Fill = None,
    ) -> tuple[AlignedMetrics, AlignedMetrics]:
        """Baseline and incident metrics on the same grid (each anchored at its window's start)."""
        base = self.telemetry.align(freq, agg, start=self.baseline_window.start, end=self.baseline_window.end,
                                    nodes=nodes, fill=fill)
        node_list = base.nodes if nodes is None else list(nodes)
        inc = self.telemetry.align(freq, agg, start=self.incident_window.start, end=self.incident_window.end,
                                   nodes=node_list, fill=fill)
        return base, inc

    # -- truth ---------------------------------------------------------------------------------
    @property
    def root_cause_entities(self) -> tuple[str, ...]:
        return self.truth.root_cause_entities if self.truth else ()

    @property
    def root_cause_nodes(self) -> tuple[str, ...]:
        return self.truth.root_cause_nodes if self.truth else ()

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: str | Path, *, fmt: str = "parquet") -> Path:
        """Write the incident to a folder that :func:`rcakit.telemetry.load_incident` reads back.

        ``incident.json`` (windows, alarm, truth, reference window, call graph, placement, meta), the
        canonical long tables as ``<table>.parquet`` (or ``.csv.gz`` with ``fmt="csv"``) and ``system.json``
        when there is a system description; written atomically and deterministically (same incident,
        same bytes).
        """
        if fmt not in {"parquet", "csv"}:
            raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        tel = self.telemetry
        written = []
        for name, table in zip(TABLES, (tel.metrics, tel.logs, tel.spans), strict=True):
            if table.height == 0:
                continue
            if fmt == "parquet":
                buffer = io.BytesIO()
                table.write_parquet(buffer, compression="zstd", compression_level=19, statistics=False)
                atomic_write_bytes(out / f"{name}.parquet", buffer.getvalue())
                written.append(f"{name}.parquet")
            else:
                text = table.write_csv(datetime_format="%Y-%m-%dT%H:%M:%S%.9fZ")
                atomic_write_bytes(out / f"{name}.csv.gz", gzip.compress(text.encode(), compresslevel=9, mtime=0))
                written.append(f"{name}.csv.gz")
        doc = {"rcakit_incident": FORMAT_VERSION, **self.to_dict(), "files": written}
        doc.pop("telemetry", None)
        if self.system is not None:
            atomic_write_json(out / "system.json", self.system)
            doc["system"] = "system.json"
        atomic_write_json(out / "incident.json", doc)
        return out

    # -- display -------------------------------------------------------------------------------
    def to_dict(self) -> JSONObject:
        return {
            "name": self.name,
            "description": self.description,
            "baseline_window": self.baseline_window.to_dict(),
            "incident_window": self.incident_window.to_dict(),
            "alarm": self.alarm,
            "alarm_time": self.alarm_time.isoformat() if self.alarm_time else None,
            "truth": self.truth.to_dict() if self.truth else None,
            "reference_window": self.reference_window.to_dict() if self.reference_window else None,
            "call_graph": [list(pair) for pair in self.call_graph],
            "placement": {service: list(hosts) for service, hosts in self.placement.items()},
            "meta": self.meta,
            "telemetry": self.telemetry.summary(),
        }

    def __repr__(self) -> str:
        return (f"Incident({self.name!r}, alarm={self.alarm!r}, baseline={self.baseline_window}, "
                f"incident={self.incident_window}, truth={'yes' if self.truth else 'no'})")

    def _repr_html_(self) -> str:
        esc = html.escape
        truth = "unknown"
        if self.truth:
            causes = ", ".join(self.truth.root_cause_nodes or self.truth.root_cause_entities) or "?"
            truth = f"{causes}" + (f" ({self.truth.fault_type})" if self.truth.fault_type else "")
        rows = [
            ("alarm", (self.alarm or "none set") + (f" (fired {self.alarm_time:%Y-%m-%d %H:%M:%S} UTC)"
                                                    if self.alarm_time else "")),
            ("baseline window", str(self.baseline_window)),
            ("incident window", str(self.incident_window)),
            ("ground truth", truth),
        ]
        if self.description:
            rows.insert(0, ("description", self.description))
        body = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th><td style='text-align:left'>{esc(str(v))}</td></tr>"
                       for k, v in rows)
        return (f"<div><b>Incident</b> {esc(self.name)}<table>{body}</table>"
                f"{self.telemetry._repr_html_()}</div>")
