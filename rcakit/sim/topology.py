"""``Topology``: the shape and the timing parameters of a simulated model-serving system.

A client sends requests to a router, which load-balances them round robin over ``workers``. Each
worker has one queue and one batcher in front of ``gpus_per_worker`` inference instances, one per
GPU. Entities are named as in the Atlas paper: ``Client``, ``Client-Router``, ``Router``,
``Router-Queue_<w>``, ``Queue_<w>``, ``Batcher_<w>``, ``ModelInference_<g>``, ``GPU_<g>``,
``ModelInference_<g>-Client``; GPUs are numbered globally (worker 1 of L holds GPUs 4..7).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rcakit.errors import DataError

__all__ = ["Topology"]


@dataclass(frozen=True)
class Topology:
    """Sizes and timings of the simulated system (times in seconds).

    ``exec_base + exec_per_item * b`` is the execution time of a batch of ``b`` requests on a GPU at
    full clock; the batcher sends a batch when ``max_batch_size`` requests wait or the oldest has
    waited ``batch_window``, whichever comes first, to the first free GPU of its worker. Even in
    normal operation a batch crashes its inference instance with ``crash_probability`` (its
    requests fail and the instance restarts for ``restart_time`` seconds): the background error
    rate of a real service, which an :class:`~rcakit.sim.ErrorBurst` raises.
    """

    workers: int = 1
    gpus_per_worker: int = 1
    max_batch_size: int = 16
    batch_window: float = 0.02
    exec_base: float = 0.015
    exec_per_item: float = 0.002
    router_time: float = 0.0005
    link_delays: dict[str, float] = field(default_factory=lambda: {
        "Client-Router": 0.002, "Router-Queue": 0.001, "ModelInference-Client": 0.002})
    gpu_power_watts: float = 300.0
    crash_probability: float = 0.002
    restart_time: float = 0.25
    name: str = ""

    def __post_init__(self) -> None:
        for attr in ("workers", "gpus_per_worker", "max_batch_size"):
            value = getattr(self, attr)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DataError(f"Topology.{attr} must be a positive integer, got {value!r}")
        for attr in ("batch_window", "exec_base", "exec_per_item", "router_time", "gpu_power_watts",
                     "restart_time"):
            value = getattr(self, attr)
            if not isinstance(value, int | float) or value < 0:
                raise DataError(f"Topology.{attr} must be a non-negative number of seconds, got {value!r}")
        if not isinstance(self.crash_probability, int | float) or not 0 <= self.crash_probability < 1:
            raise DataError(f"Topology.crash_probability must be in [0, 1), got {self.crash_probability!r}")
        expected = {"Client-Router", "Router-Queue", "ModelInference-Client"}
        if set(self.link_delays) != expected:
            raise DataError(f"Topology.link_delays must have exactly the keys {sorted(expected)}, "
                            f"got {sorted(self.link_delays)}")
        if not self.name:
            object.__setattr__(self, "name", f"{self.workers}x{self.gpus_per_worker}")

    # -- the sizes of the Atlas paper ----------------------------------------------------------
    @classmethod
    def small(cls, **kwargs: object) -> Topology:
        """ModelServingS: one worker with one GPU."""
        return cls(workers=1, gpus_per_worker=1, name="S", **kwargs)  # type: ignore[arg-type]

    @classmethod
    def medium(cls, **kwargs: object) -> Topology:
        """ModelServingM: one worker with four GPUs."""
        return cls(workers=1, gpus_per_worker=4, name="M", **kwargs)  # type: ignore[arg-type]

    @classmethod
    def large(cls, **kwargs: object) -> Topology:
        """ModelServingL: two workers with four GPUs each."""
        return cls(workers=2, gpus_per_worker=4, name="L", **kwargs)  # type: ignore[arg-type]

    @classmethod
    def of(cls, workers: int, gpus_per_worker: int, **kwargs: object) -> Topology:
        """Any size: ``Topology.of(3, 2)`` is three workers with two GPUs each."""
        return cls(workers=workers, gpus_per_worker=gpus_per_worker, **kwargs)  # type: ignore[arg-type]

    # -- names ---------------------------------------------------------------------------------
    @property
    def n_gpus(self) -> int:
        return self.workers * self.gpus_per_worker

    def gpus_of(self, worker: int) -> range:
        """Global GPU numbers of one worker."""
        return range(worker * self.gpus_per_worker, (worker + 1) * self.gpus_per_worker)

    def worker_of(self, gpu: int) -> int:
        return gpu // self.gpus_per_worker

    def entities(self) -> list[str]:
        """Every component and network link, in request-path order."""
        names = ["Client", "Client-Router", "Router"]
        for w in range(self.workers):
            names += [f"Router-Queue_{w}", f"Queue_{w}", f"Batcher_{w}"]
            for g in self.gpus_of(w):
                names += [f"ModelInference_{g}", f"GPU_{g}", f"ModelInference_{g}-Client"]
        return names

    def links(self) -> list[tuple[str, str]]:
        """The network links as (source, destination) pairs."""
        pairs = [("Client", "Router")]
        pairs += [("Router", f"Queue_{w}") for w in range(self.workers)]
        pairs += [(f"ModelInference_{g}", "Client") for g in range(self.n_gpus)]
        return pairs

    def default_rate(self) -> float:
        """A request rate (per second) that keeps GPUs about half busy with batches of 2-3."""
        return 60.0 * self.n_gpus
