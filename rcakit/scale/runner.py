"""``TaskRunner``: run functions here and now, or on a Dask cluster and collect them later (the bench hook)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, cast

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["Pending", "TaskRunner"]

_T = TypeVar("_T")


def _captured(fn: Callable[..., _T], args: tuple[object, ...], kwargs: dict[str, object]) -> tuple[str, _T]:
    """Run ``fn`` on a worker with its printed output captured (printed by the client in order)."""
    from rcakit._progress import set_progress

    set_progress(False)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        value = fn(*args, **kwargs)
    return buffer.getvalue(), value


class Pending(Generic[_T]):
    """A submitted call; :meth:`result` waits for it and prints what it printed on the worker.

    Without a cluster the call runs when its result is asked for, so a serial run prints each
    result as soon as it is computed, as a plain loop would.
    """

    def __init__(self, future: Future[tuple[str, _T]] | None = None,
                 call: tuple[Callable[..., _T], tuple[object, ...], dict[str, object]] | None = None) -> None:
        self._future, self._call = future, call
        self._done = False
        self._value: _T | None = None

    def result(self) -> _T:
        if self._future is None:
            if not self._done and self._call is not None:
                fn, args, kwargs = self._call
                self._value, self._done, self._call = fn(*args, **kwargs), True, None
            return cast(_T, self._value)  # None only for a Pending made with neither future nor call
        text, value = self._future.result()
        if text:
            print(text, end="", flush=True)
        return value


class TaskRunner:
    """Runs calls at once in this process (``dask=None``), or submits them to a Dask cluster.

    ``dask``: None (serial), ``"local"`` (a LocalCluster of ``n_workers`` processes started here and
    closed by :meth:`close`), a scheduler address, or a ``distributed.Client``. ``submit(fn, ...)``
    returns a :class:`Pending`; on a cluster the calls run side by side, and ``result()`` gives them
    back in the order the caller asks, with their printed output; without one, each call runs when
    its ``result()`` is asked for. Functions and arguments must be
    picklable (module-level functions, paths rather than loaded data).
    """

    def __init__(self, dask: str | Client | None = None, *, n_workers: int = 2) -> None:
        self._stack = contextlib.ExitStack()
        self.client: Client | None = None
        if dask is None:
            return
        from rcakit.scale._dask import open_client

        if isinstance(dask, str):
            address = None if dask == "local" else dask
            self.client = self._stack.enter_context(open_client(address=address, n_workers=n_workers))
        else:
            self.client = self._stack.enter_context(open_client(dask))

    @property
    def serial(self) -> bool:
        return self.client is None

    def submit(self, fn: Callable[..., _T], *args: object, **kwargs: object) -> Pending[_T]:
        if self.client is None:
            return Pending(call=(fn, args, kwargs))
        return Pending(self.client.submit(_captured, fn, args, kwargs, pure=False))

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> TaskRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
