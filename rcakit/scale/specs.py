"""``IncidentSpec``: how a worker builds one incident itself (from a folder, a store window or a function).

A batch never ships telemetry through the scheduler: each task carries a small recipe, and the
worker that runs it reads the incident's rows itself (from a shared disk or an object store).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rcakit._types import JSONObject, JSONValue
from rcakit.telemetry import GroundTruth, Incident

if TYPE_CHECKING:
    from rcakit.telemetry.loaders.lazy import TelemetryStore
    from rcakit.telemetry.window import WindowLike

__all__ = ["IncidentSpec", "incident_from_store"]


@dataclass(frozen=True)
class IncidentSpec:
    """A picklable recipe for one incident: ``loader(**kwargs)`` returns it, on whichever worker runs it.

    ``loader`` is a module-level function or its ``"module:function"`` name. Build specs with
    :meth:`folder` (a folder written by ``Incident.save``), :meth:`store` (one window of a
    :class:`~rcakit.telemetry.loaders.lazy.TelemetryStore`) or :meth:`call` (any function, e.g. a
    simulator). ``name`` names the incident in results, errors and the results folder.
    """

    name: str
    loader: str | Callable[..., Incident]
    kwargs: Mapping[str, object] = field(default_factory=dict)  # the loader's keywords, checked by it

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"an IncidentSpec needs a non-empty name, got {self.name!r}")
        if isinstance(self.loader, str) and ":" not in self.loader:
            raise ValueError(f"loader must be a function or 'module:function', got {self.loader!r}")

    @classmethod
    def folder(cls, path: str | Path, *, name: str | None = None) -> IncidentSpec:
        """An incident folder (``Incident.save``); the worker reads it with ``load_incident``."""
        return cls(name or Path(path).name, "rcakit.telemetry.incident_io:load_incident", {"folder": str(path)})

    @classmethod
    def store(cls, store: TelemetryStore | str | Path, *, name: str, baseline: WindowLike, window: WindowLike, alarm: str | None = None,
              entities: Iterable[str] | None = None, truth: GroundTruth | Mapping[str, JSONValue] | None = None,
              description: str = "", meta: Mapping[str, JSONValue] | None = None) -> IncidentSpec:
        """One incident read lazily from ``store`` (a TelemetryStore or a store folder path): the rows of
        ``baseline`` and ``window`` (each a (start, end) pair) and ``entities`` (all when None)."""
        truth_dict = truth.to_dict() if isinstance(truth, GroundTruth) else (dict(truth) if truth else None)
        return cls(name, "rcakit.scale.specs:incident_from_store", {
            "store": store if not isinstance(store, str | Path) else str(store), "baseline": _pair(baseline),
            "window": _pair(window), "alarm": alarm, "entities": None if entities is None else list(entities),
            "truth": truth_dict, "name": name, "description": description, "meta": dict(meta or {}),
        })

    @classmethod
    def call(cls, loader: str | Callable[..., Incident], *, name: str, **kwargs: object) -> IncidentSpec:
        """``loader(**kwargs)`` on the worker, e.g. ``IncidentSpec.call(rcakit.sim.make_incident,
        name="gpu-1", topology=Topology.small(), fault=GpuThrottle("GPU_0"), seed=1)``."""
        return cls(name, loader, kwargs)

    def load(self) -> Incident:
        """Build the incident (this runs on the worker)."""
        loader = _resolve(self.loader)
        incident = loader(**dict(self.kwargs))
        if not isinstance(incident, Incident):
            raise TypeError(f"the loader of incident {self.name!r} returned a {type(incident).__name__}, "
                            "not an Incident")
        return incident

    @property
    def key(self) -> str:
        """A short fingerprint of the recipe: a results file is reused only for the same recipe."""
        loader = self.loader if isinstance(self.loader, str) else f"{self.loader.__module__}:{self.loader.__qualname__}"
        text = json.dumps({"name": self.name, "loader": loader, "kwargs": self.kwargs}, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def filename(self) -> str:
        """The incident's results file name: the name made safe for a file system."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.name).strip("._") or "incident"
        if safe != self.name:
            safe += "-" + hashlib.sha256(self.name.encode()).hexdigest()[:8]
        return safe + ".json"


def _pair(value: WindowLike) -> tuple[str, str]:
    from rcakit.telemetry.window import TimeWindow

    window = TimeWindow.of(value)
    return window.start.isoformat(), window.end.isoformat()


def _resolve(loader: str | Callable[..., Incident]) -> Callable[..., Incident]:
    if not isinstance(loader, str):
        return loader
    module, _, attr = loader.partition(":")
    function = getattr(importlib.import_module(module), attr, None)
    if function is None or not callable(function):
        raise ValueError(f"no function {attr!r} in module {module!r} (loader {loader!r})")
    return function  # type: ignore[no-any-return]


def incident_from_store(*, store: TelemetryStore | str | Path, baseline: tuple[str, str], window: tuple[str, str], alarm: str | None,
                        entities: list[str] | None, truth: JSONObject | None, name: str, description: str = "",
                        meta: JSONObject | None = None) -> Incident:
    """An Incident whose telemetry is read lazily from the store: the rows from the baseline's start to
    the window's end (one read), of ``entities``."""
    from rcakit.telemetry.loaders.lazy import TelemetryStore
    from rcakit.telemetry.window import TimeWindow

    opened = store if isinstance(store, TelemetryStore) else TelemetryStore.open(store)
    base, win = TimeWindow.of(baseline), TimeWindow.of(window)
    span = TimeWindow(min(base.start, win.start), max(base.end, win.end))
    telemetry = opened.incident(span, entities)
    return Incident(telemetry, base, win, alarm=alarm, truth=GroundTruth.from_dict(truth) if truth else None,
                    name=name, description=description, meta=dict(meta or {}))
