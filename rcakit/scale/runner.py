"""``TaskRunner``: run functions here and now, or on a Dask cluster and collect them later (the bench hook)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any

__all__ = ["Pending", "TaskRunner"]


def _captured(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, Any]:
    """Run ``fn`` on a worker with its printed output captured (printed by the client in order)."""
    from rcakit._progress import set_progress

    set_progress(False)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        value = fn(*args, **kwargs)
    return buffer.getvalue(), value


class Pending:
    """A submitted call; :meth:`result` waits for it and prints what it printed on the worker.

    Without a cluster the call runs when its result is asked for, so a serial run prints each
    result as soon as it is computed, as a plain loop would.
    """

    def __init__(self, future: Any = None, call: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None = None
                 ) -> None:
        self._future, self._call = future, call
        self._done, self._value = False, None

    def result(self) -> Any:
        if self._future is None:
            if not self._done and self._call is not None:
                fn, args, kwargs = self._call
                self._value, self._done, self._call = fn(*args, **kwargs), True, None
            return self._value
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

    def __init__(self, dask: Any = None, *, n_workers: int = 2) -> None:
        self._stack = contextlib.ExitStack()
        self.client: Any = None
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

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Pending:
        if self.client is None:
            return Pending(call=(fn, args, kwargs))
        return Pending(self.client.submit(_captured, fn, args, kwargs, pure=False))

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> TaskRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
