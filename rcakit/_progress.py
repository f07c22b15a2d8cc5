"""Progress reporting and cooperative cancellation for long work.

Progress bars can be switched off globally (``rcakit.set_progress(False)`` or the environment
variable ``RCAKIT_PROGRESS=0``) so that tested notebooks have stable outputs, as DoWhy does.
Long loops call ``token.raise_if_cancelled()`` between steps; a widget's Cancel button sets the
token, and Ctrl-C / the notebook's interrupt raises KeyboardInterrupt as usual.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["CancelToken", "Cancelled", "progress", "progress_enabled", "set_progress"]

T = TypeVar("T")

_enabled: bool | None = None


def set_progress(enabled: bool) -> None:
    """Turn progress bars on or off for the whole process."""
    global _enabled
    _enabled = bool(enabled)


def progress_enabled() -> bool:
    if _enabled is not None:
        return _enabled
    return os.environ.get("RCAKIT_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
    """Iterate with a tqdm bar when progress is enabled, plainly otherwise."""
    if not progress_enabled():
        yield from iterable
        return
    from tqdm.auto import tqdm

    yield from tqdm(iterable, total=total, desc=desc, leave=False)


class Cancelled(Exception):
    """Raised inside long work when its CancelToken was set."""


class CancelToken:
    """A thread-safe flag that a UI sets and a worker polls."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("the run was cancelled")
