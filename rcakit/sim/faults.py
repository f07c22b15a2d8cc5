"""Faults to inject into a simulation: each has a target, a start, a duration and a magnitude.

``start`` and ``duration`` are seconds from the start of the simulation (or duration strings such as
``"10min"``). What ``magnitude`` means depends on the fault:

=================  ==================================  =========================================
fault              target                              magnitude
=================  ==================================  =========================================
WorkloadSpike      ``Client``                          factor on the request rate (3.0 = 3x)
NetworkSlowdown    the link between ``src`` and        factor on the link's delay (20.0 = 20x)
                   ``dst`` (``Router-Queue_0``)
BatchSizeMisconfig ``Batcher_<w>``                     the misconfigured max batch size
GpuThrottle        ``GPU_<g>``                         slowdown factor of the GPU clock (2.5 =
                                                       executions take 2.5x as long; the power
                                                       cap drops by the same factor)
ErrorBurst         ``ModelInference_<g>``              probability that a batch crashes the
                                                       instance (its requests fail, and it
                                                       restarts for ``restart`` seconds)
=================  ==================================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rcakit.errors import DataError
from rcakit.sim.topology import Topology
from rcakit.telemetry.window import parse_duration

if TYPE_CHECKING:
    from rcakit._types import DurationLike, JSONObject

__all__ = ["BatchSizeMisconfig", "ErrorBurst", "Fault", "GpuThrottle", "NetworkSlowdown", "WorkloadSpike"]


def _seconds(value: object, what: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise DataError(f"{what} must not be negative, got {value!r}")
        return float(value)
    if isinstance(value, str | timedelta):
        return parse_duration(value).total_seconds()
    raise DataError(f"{what} must be seconds or a duration such as '5min', got {value!r}")


@dataclass(frozen=True)
class Fault:
    """Base class: a fault on ``target`` during ``[start, start + duration)`` with a ``magnitude``."""

    fault_type: ClassVar[str] = "fault"
    target: str = ""
    start: Any = 0.0      # seconds or a duration string; a float of seconds after __post_init__
    duration: Any = 600.0
    magnitude: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _seconds(self.start, f"{type(self).__name__}.start"))
        object.__setattr__(self, "duration", _seconds(self.duration, f"{type(self).__name__}.duration"))
        if self.duration <= 0:
            raise DataError(f"{type(self).__name__}.duration must be positive, got {self.duration!r}")
        if not isinstance(self.magnitude, int | float) or self.magnitude <= 0:
            raise DataError(f"{type(self).__name__}.magnitude must be a positive number, got {self.magnitude!r}")

    @property
    def end(self) -> float:
        return float(self.start) + float(self.duration)

    def active(self, t: float) -> bool:
        inside: bool = self.start <= t < self.end
        return inside

    def validate(self, topology: Topology) -> None:
        """Raise a DataError when the target does not exist in ``topology``."""
        if self.target not in topology.entities():
            raise DataError(f"{type(self).__name__} targets {self.target!r}, which is not in topology "
                            f"{topology.name!r}", hint=f"Use one of {', '.join(self._candidates(topology))}")

    def _candidates(self, topology: Topology) -> list[str]:
        return topology.entities()

    def root_cause_nodes(self, topology: Topology) -> tuple[str, ...]:
        """The metric nodes where the fault enters the system (the truth for localization)."""
        raise NotImplementedError

    def describe(self) -> str:
        return (f"{self.fault_type} on {self.target} x{self.magnitude:g} from {self.start:g} s "
                f"for {self.duration:g} s")

    def to_dict(self) -> JSONObject:
        return {"fault_type": self.fault_type, "target": self.target, "start": self.start,
                "duration": self.duration, "magnitude": self.magnitude}


@dataclass(frozen=True)
class WorkloadSpike(Fault):
    """The clients send ``magnitude`` times as many requests."""

    fault_type: ClassVar[str] = "workload_spike"
    target: str = "Client"
    magnitude: float = 2.0

    def validate(self, topology: Topology) -> None:
        if self.target != "Client":
            raise DataError(f"WorkloadSpike targets the Client, got {self.target!r}", hint="Leave target unset")

    def root_cause_nodes(self, topology: Topology) -> tuple[str, ...]:
        return ("Client:request_rate",)

    def describe(self) -> str:
        return f"workload spike: {self.magnitude:g}x the request rate from {self.start:g} s for {self.duration:g} s"


@dataclass(frozen=True, init=False)
class NetworkSlowdown(Fault):
    """The network link between ``src`` and ``dst`` becomes ``magnitude`` times slower."""

    fault_type: ClassVar[str] = "network_slowdown"

    def __init__(self, src: str, dst: str, *, start: DurationLike = 0.0, duration: DurationLike = 600.0,
                 magnitude: float = 20.0) -> None:
        object.__setattr__(self, "target", _link_name(src, dst))
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "magnitude", magnitude)
        self.__post_init__()

    def _candidates(self, topology: Topology) -> list[str]:
        return [_link_name(a, b) for a, b in topology.links()]

    def validate(self, topology: Topology) -> None:
        if self.target not in self._candidates(topology):
            raise DataError(f"NetworkSlowdown: there is no network link {self.target!r} in topology "
                            f"{topology.name!r}",
                            hint="Links are " + ", ".join(f"({a!r}, {b!r})" for a, b in topology.links()))

    def root_cause_nodes(self, topology: Topology) -> tuple[str, ...]:
        return (f"{self.target}:latency",)

    def describe(self) -> str:
        return (f"network slowdown: link {self.target} {self.magnitude:g}x slower from {self.start:g} s "
                f"for {self.duration:g} s")


@dataclass(frozen=True)
class BatchSizeMisconfig(Fault):
    """The batcher's max batch size is set to ``magnitude`` (a bad deploy)."""

    fault_type: ClassVar[str] = "batch_size_misconfig"
    target: str = "Batcher_0"
    magnitude: float = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if int(self.magnitude) != self.magnitude:
            raise DataError(f"BatchSizeMisconfig.magnitude is the new max batch size, a whole number; "
                            f"got {self.magnitude!r}")

    def _candidates(self, topology: Topology) -> list[str]:
        return [f"Batcher_{w}" for w in range(topology.workers)]

    def validate(self, topology: Topology) -> None:
        if self.target not in self._candidates(topology):
            super().validate(topology)
            raise DataError(f"BatchSizeMisconfig targets a Batcher_<w>, got {self.target!r}",
                            hint=f"Use one of {', '.join(self._candidates(topology))}")

    def root_cause_nodes(self, topology: Topology) -> tuple[str, ...]:
        return (f"{self.target}:max_batch_size",)

    def describe(self) -> str:
        return (f"batch-size misconfiguration: {self.target} max_batch_size set to {int(self.magnitude)} "
                f"from {self.start:g} s for {self.duration:g} s")


@dataclass(frozen=True)
class GpuThrottle(Fault):
    """The GPU's clock (and power cap) drops: executions take ``magnitude`` times as long."""

    fault_type: ClassVar[str] = "gpu_throttle"
    target: str = "GPU_0"
    magnitude: float = 2.5

    def _candidates(self, topology: Topology) -> list[str]:
        return [f"GPU_{g}" for g in range(topology.n_gpus)]

    def validate(self, topology: Topology) -> None:
        if self.target not in self._candidates(topology):
            raise DataError(f"GpuThrottle targets a GPU_<g>, got {self.target!r}",
                            hint=f"Use one of {', '.join(self._candidates(topology))}")

    def root_cause_nodes(self, topology: Topology) -> tuple[str, ...]:
        return (f"{self.target}:power",)

    def describe(self) -> str:
        return (f"GPU throttling: {self.target} runs {self.magnitude:g}x slower from {self.start:g} s "
                f"for {self.duration:g} s")


@dataclass(frozen=True)
class ErrorBurst(Fault):
    """Batches on the inference instance crash with probability ``magnitude``.

    A crashed batch fails all its requests (error spans, error logs, HTTP 500 at the client) part-way
    through its execution, and the instance restarts for ``restart`` seconds before it takes the next
    batch, so the crash also costs capacity: queues and latency grow.
    """

    fault_type: ClassVar[str] = "error_burst"
    target: str = "ModelInference_0"
    magnitude: float = 0.05
    restart: float = 0.25

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.magnitude > 1:
            raise DataError(f"ErrorBurst.magnitude is a probability per batch (0..1], got {self.magnitude!r}")
        object.__setattr__(self, "restart", _seconds(self.restart, "ErrorBurst.restart"))

    def _candidates(self, topology: Topology) -> list[str]:
        return [f"ModelInference_{g}" for g in range(topology.n_gpus)]

    def validate(self, topology: Topology) -> None:
        if self.target not in self._candidates(topology):
            raise DataError(f"ErrorBurst targets a ModelInference_<g>, got {self.target!r}",
                            hint=f"Use one of {', '.join(self._candidates(topology))}")

    def root_cause_nodes(self, topology: Topology) -> tuple[str, ...]:
        return (f"{self.target}:error_rate",)

    def describe(self) -> str:
        return (f"error burst: {self.target} crashes on {self.magnitude:.0%} of batches (restart "
                f"{self.restart:g} s) from {self.start:g} s for {self.duration:g} s")

    def to_dict(self) -> JSONObject:
        return {**super().to_dict(), "restart": self.restart}


def _link_name(src: str, dst: str) -> str:
    """The entity of the link from ``src`` to ``dst``: ``Router-Queue_0``, ``ModelInference_3-Client``."""
    for name, what in ((src, "src"), (dst, "dst")):
        if not isinstance(name, str) or not name or "-" in name or ":" in name:
            raise DataError(f"NetworkSlowdown.{what} must be a component name such as 'Router' or 'Queue_0', "
                            f"got {name!r}")
    return f"{src}-{dst}"
