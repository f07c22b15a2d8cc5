"""The Dask client: imported lazily, a LocalCluster by default, any scheduler address a user passes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

from rcakit.errors import MissingDependencyError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["open_client", "require_distributed"]


def require_distributed() -> ModuleType:
    """The ``distributed`` module, or an ImportError that names the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError(
            "rcakit.scale runs on dask.distributed, which is not installed: pip install rcakit[dask]"
        ) from exc
    return distributed


@contextlib.contextmanager
def open_client(client: Client | None = None, *, address: str | None = None, n_workers: int = 2, threads_per_worker: int = 1,
                memory_limit: str | float | None = "auto", show_link: bool = True) -> Iterator[Client]:
    """A ``distributed.Client``: ``client`` itself when given, else one connected to ``address`` (a
    scheduler such as ``tcp://10.0.0.5:8786``), else a new LocalCluster of ``n_workers`` processes
    with ``threads_per_worker`` threads each. Whatever this opened is closed on exit; a client or
    cluster the caller passed is left running. Prints the dashboard link (where the tasks, the
    workers' memory and their logs can be watched) unless ``show_link=False``.
    """
    distributed = require_distributed()
    if client is not None:
        if show_link:
            _show_link(client)
        yield client
        return
    if address is not None:
        owned = distributed.Client(address)
        cluster = None
    else:
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                           processes=True, memory_limit=memory_limit, dashboard_address=":0")
        owned = distributed.Client(cluster)
    try:
        if show_link:
            _show_link(owned)
        yield owned
    finally:
        owned.close()
        if cluster is not None:
            cluster.close()


def _show_link(client: Client) -> None:
    link = getattr(client, "dashboard_link", None)
    workers = len(client.scheduler_info().get("workers", {}))
    print(f"Dask: {workers} workers; dashboard {link or '(not available)'}", flush=True)
