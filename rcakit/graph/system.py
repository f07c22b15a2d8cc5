"""``SystemModel``: the components of a system, their metrics and how they interact.

It is what graph drafting starts from (Atlas section 4.1): components of kind request, service or
resource with descriptions; metrics with descriptions (observed, or enumerated as typical but
unobserved); interactions (a component invokes another, or uses a resource). Build it from the Atlas
input format, from a trace call graph, from ``entity:metric`` names, or by hand; save it as JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from rcakit._io import atomic_write_json
from rcakit.errors import DataError
from rcakit.telemetry import node_name, split_node

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue
    from rcakit.telemetry import Telemetry

__all__ = ["Component", "ComponentKind", "Interaction", "InteractionKind", "MetricInfo", "SystemModel"]

FORMAT_VERSION = 1
_REPLICA_SUFFIX = re.compile(r"[_-]\d+$")


class ComponentKind(StrEnum):
    REQUEST = "request"
    SERVICE = "service"
    RESOURCE = "resource"


class InteractionKind(StrEnum):
    INVOKES = "invokes"
    USES = "uses"


def template_of(name: str) -> str:
    """The kind-of-component name behind a replica: ``GPU_3`` -> ``GPU``, ``Router-Queue_0`` -> ``Router-Queue``."""
    parts = name.split("-")
    return "-".join(_REPLICA_SUFFIX.sub("", p) for p in parts)


@dataclass
class Component:
    name: str
    kind: ComponentKind = ComponentKind.SERVICE
    description: str = ""
    template: str = ""

    def __post_init__(self) -> None:
        self.kind = ComponentKind(self.kind)
        if not self.name or ":" in self.name:
            raise DataError(f"invalid component name {self.name!r}", hint="Names are non-empty and contain no ':'")
        if not self.template:
            self.template = template_of(self.name)


@dataclass
class MetricInfo:
    entity: str
    name: str
    description: str = ""
    observed: bool = True
    level: str | None = None

    @property
    def node(self) -> str:
        return node_name(self.entity, self.name)


@dataclass(frozen=True)
class Interaction:
    """``source`` invokes ``target`` (both services/requests), or ``source`` uses the resource ``target``."""

    source: str
    target: str
    kind: InteractionKind = InteractionKind.INVOKES


@dataclass
class SystemModel:
    components: dict[str, Component] = field(default_factory=dict)
    metrics: dict[str, MetricInfo] = field(default_factory=dict)
    interactions: list[Interaction] = field(default_factory=list)
    name: str = "system"
    common_metrics: JSONObject = field(default_factory=dict)

    # -- editing ---------------------------------------------------------------------------------
    def add_component(self, name: str, kind: ComponentKind | str = ComponentKind.SERVICE, description: str = "",
                      template: str = "") -> Component:
        comp = self.components.get(name)
        if comp is None:
            comp = Component(name, ComponentKind(kind), description, template)
            self.components[name] = comp
        else:
            if description and not comp.description:
                comp.description = description
        return comp

    def add_metric(self, entity: str, name: str, description: str = "", *, observed: bool = True,
                   level: str | None = None) -> MetricInfo:
        if entity not in self.components:
            self.add_component(entity)
        node = node_name(entity, name)
        info = self.metrics.get(node)
        if info is None:
            info = MetricInfo(entity, name, description, observed, level)
            self.metrics[node] = info
        else:
            info.observed = info.observed or observed
            if description and not info.description:
                info.description = description
        return info

    def add_interaction(self, source: str, target: str, kind: InteractionKind | str = InteractionKind.INVOKES) -> None:
        for name in (source, target):
            if name not in self.components:
                self.add_component(name, ComponentKind.RESOURCE if (InteractionKind(kind) is InteractionKind.USES
                                                                  and name == target) else ComponentKind.SERVICE)
        edge = Interaction(source, target, InteractionKind(kind))
        if edge not in self.interactions and source != target:
            self.interactions.append(edge)

    def remove_component(self, name: str) -> None:
        self.components.pop(name, None)
        self.metrics = {k: v for k, v in self.metrics.items() if v.entity != name}
        self.interactions = [i for i in self.interactions if name not in (i.source, i.target)]

    # -- questions -------------------------------------------------------------------------------
    def nodes(self, *, observed_only: bool = False) -> list[str]:
        return sorted(n for n, m in self.metrics.items() if m.observed or not observed_only)

    def unobserved_nodes(self) -> list[str]:
        return sorted(n for n, m in self.metrics.items() if not m.observed)

    def metrics_of(self, entity: str) -> list[MetricInfo]:
        return [m for m in self.metrics.values() if m.entity == entity]

    def metric(self, node: str) -> MetricInfo:
        try:
            return self.metrics[node]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(node, list(self.metrics), n=3)
            raise DataError(f"no metric node {node!r} in the system model",
                            hint=("Did you mean " + " or ".join(map(repr, close)) + "?") if close else
                            "Add it with SystemModel.add_metric") from None

    def neighbors(self, entity: str) -> list[tuple[str, Interaction]]:
        """Components that directly interact with ``entity``, with the interaction."""
        out = []
        for inter in self.interactions:
            if inter.source == entity:
                out.append((inter.target, inter))
            elif inter.target == entity:
                out.append((inter.source, inter))
        return out

    def call_graph(self) -> nx.DiGraph:
        """Components as nodes, interactions as edges (source -> target), kind as an attribute."""
        g = nx.DiGraph()
        g.add_nodes_from(self.components)
        for inter in self.interactions:
            g.add_edge(inter.source, inter.target, kind=inter.kind.value)
        return g

    # -- building --------------------------------------------------------------------------------
    @classmethod
    def from_nodes(cls, nodes: Iterable[str], interactions: Iterable[tuple[str, str]] = (), *,
                   name: str = "system") -> SystemModel:
        """From ``entity:metric`` names, and optionally caller -> callee pairs of entities."""
        model = cls(name=name)
        for node in nodes:
            entity, metric = split_node(node)
            model.add_metric(entity, metric)
        for source, target in interactions:
            model.add_interaction(source, target)
        return model

    @classmethod
    def from_call_graph(cls, graph: nx.DiGraph, metrics: Mapping[str, Iterable[str]] | Iterable[str] = (), *,
                        name: str = "system") -> SystemModel:
        """From a caller -> callee graph of entities; ``metrics`` maps entity -> metric names, or lists nodes."""
        model = cls(name=name)
        for entity in graph.nodes:
            model.add_component(str(entity))
        for source, target in graph.edges:
            model.add_interaction(str(source), str(target))
        if isinstance(metrics, Mapping):
            for entity, names in metrics.items():
                for metric in names:
                    model.add_metric(entity, metric)
        else:
            for node in metrics:
                entity, metric = split_node(node)
                model.add_metric(entity, metric)
        return model

    @classmethod
    def from_telemetry(cls, telemetry: Telemetry, *, name: str = "system") -> SystemModel:
        """Metric nodes from the telemetry; interactions from its spans' parent -> child entities."""
        import polars as pl

        model = cls(name=name)
        for node in telemetry.nodes():
            entity, metric = split_node(node)
            model.add_metric(entity, metric)
        spans = telemetry.spans
        if spans.height:
            parents = spans.select(pl.col("span_id"), pl.col("entity").alias("caller"))
            calls = (spans.join(parents, left_on="parent_id", right_on="span_id", how="inner")
                     .filter(pl.col("caller") != pl.col("entity"))
                     .select("caller", "entity").unique())
            for caller, callee in calls.iter_rows():
                model.add_interaction(caller, callee)
        return model

    @classmethod
    def from_atlas(cls, trace: Mapping[str, JSONValue], measurements: Mapping[str, JSONValue] | None = None,
                   common_metrics: Mapping[str, JSONValue] | None = None, *, name: str = "system") -> SystemModel:
        """From Atlas's input files (Appendix A): the trace file and the measurement descriptions.

        Also accepts one dict ``{"trace": ..., "measurements": ..., "common_metrics": ...}`` as the first
        argument (the shape rcakit.sim writes into ``Incident.system``). Keys of the trace file are
        dotted paths (``request.Client.Router``); the last part is the component. Measurements are
        keyed by component template (``Queue`` for ``Queue_0``). Common metrics are kept in the model
        (``common_metrics`` attribute) for metric enumeration; they do not add nodes here.
        """
        if "trace" in trace and measurements is None:
            doc = trace
            trace = doc["trace"]
            measurements = doc.get("measurements") or {}
            common_metrics = doc.get("common_metrics") or common_metrics
        measurements = measurements or {}
        model = cls(name=name)
        for key, spec in trace.items():
            parts = key.split(".")
            comp = parts[-1]
            kind = ComponentKind.REQUEST if len(parts) <= 2 and parts[0] == "request" else ComponentKind.SERVICE
            model.add_component(comp, kind, str(spec.get("service_description", "")).strip())
            for resource, description in (spec.get("resources") or {}).items():
                model.add_component(resource, ComponentKind.RESOURCE, str(description))
                model.add_interaction(comp, resource, InteractionKind.USES)
        for key, spec in trace.items():
            comp = key.split(".")[-1]
            for callee in spec.get("callees") or []:
                model.add_interaction(comp, callee, InteractionKind.INVOKES)
        for component in list(model.components.values()):
            described = measurements.get(component.template) or measurements.get(component.name) or {}
            excluded = described.get("to_exclude") or {}
            for level, entries in described.items():
                if level == "to_exclude" or not isinstance(entries, Mapping):
                    continue
                for metric, description in entries.items():
                    if metric in (excluded.get(level) or []):
                        continue
                    model.add_metric(component.name, metric, str(description), level=level)
        model.common_metrics = dict(common_metrics or {})
        return model

    # -- persistence -----------------------------------------------------------------------------
    def to_dict(self) -> JSONObject:
        return {
            "rcakit_system": FORMAT_VERSION,
            "name": self.name,
            "components": [{**asdict(c), "kind": c.kind.value} for c in self.components.values()],
            "metrics": [asdict(m) for m in self.metrics.values()],
            "interactions": [{"source": i.source, "target": i.target, "kind": i.kind.value} for i in self.interactions],
            "common_metrics": self.common_metrics,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> SystemModel:
        if data.get("rcakit_system") != FORMAT_VERSION:
            raise DataError(f"system model format {data.get('rcakit_system')!r} is not supported",
                            hint=f"This rcakit reads version {FORMAT_VERSION}")
        model = cls(name=data.get("name", "system"))
        for c in data.get("components", []):
            model.components[c["name"]] = Component(c["name"], ComponentKind(c["kind"]), c.get("description", ""),
                                                    c.get("template", ""))
        for m in data.get("metrics", []):
            info = MetricInfo(m["entity"], m["name"], m.get("description", ""), m.get("observed", True), m.get("level"))
            model.metrics[info.node] = info
        for i in data.get("interactions", []):
            model.interactions.append(Interaction(i["source"], i["target"], InteractionKind(i["kind"])))
        model.common_metrics = dict(data.get("common_metrics") or {})
        return model

    def save(self, path: str | Path) -> Path:
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> SystemModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg} at line {exc.lineno}", source=str(path)) from exc
        return cls.from_dict(data)

    def __repr__(self) -> str:
        n_unobs = len(self.unobserved_nodes())
        return (f"SystemModel({self.name!r}: {len(self.components)} components, {len(self.metrics)} metrics "
                f"({n_unobs} unobserved), {len(self.interactions)} interactions)")

    def _repr_html_(self) -> str:
        import html

        kinds: dict[str, int] = {}
        for comp in self.components.values():
            kinds[comp.kind.value] = kinds.get(comp.kind.value, 0) + 1
        return (f"<b>SystemModel</b> {html.escape(self.name)}: "
                + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
                + f"; {len(self.metrics)} metrics ({len(self.unobserved_nodes())} unobserved); "
                f"{len(self.interactions)} interactions")
