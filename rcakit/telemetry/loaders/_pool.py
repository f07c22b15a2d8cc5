"""Run independent reads on a thread pool: results in input order, the failing task's own error, and
an interrupt (Ctrl-C, a notebook's stop button) that does not wait for the reads still running.

polars and NumPy release the GIL while they parse, decompress, sort and hash, so reading several
files at once uses several cores even though the Python between those calls runs one at a time.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from rcakit._progress import CancelToken

__all__ = ["default_workers", "run_parallel"]

T = TypeVar("T")
R = TypeVar("R")

# How often the waiting thread wakes up to look at the cancel token; a KeyboardInterrupt reaches it
# at once (lock waits are interruptible), the token within this many seconds.
_POLL_SECONDS = 0.1


_POOLS: dict[str, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(name: str) -> ThreadPoolExecutor:
    """One lasting pool per kind of task (tables, files of a table): its threads are reused from call
    to call (a new thread starts with a cold allocator arena: at 0.1 M rows that cost more than the
    threads saved), and a table's task waiting for its files never waits on its own pool."""
    with _POOLS_LOCK:
        pool = _POOLS.get(name)
        if pool is None:
            pool = _POOLS[name] = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1),
                                                     thread_name_prefix=name)
        return pool


def default_workers(tasks: int) -> int:
    """One thread per task, at most one per CPU (and at least one)."""
    return max(1, min(tasks, os.cpu_count() or 1))


def run_parallel(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    cancel: CancelToken | None = None,
    name: str = "rcakit-read",
) -> list[R]:
    """``[fn(item) for item in items]`` on up to ``workers`` threads (of a lasting pool named ``name``,
    one thread per CPU), results in the order of ``items``.

    The first task to fail raises its own exception (not a pool wrapper); the tasks not started yet
    are cancelled. A ``KeyboardInterrupt`` (or ``cancel``) while waiting cancels the tasks not started
    and returns at once: tasks already inside a polars call finish in the background, their results
    dropped. With one item or ``workers=1`` everything runs in the calling thread, in order.
    """
    todo = list(items)
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1 (or None for one per CPU), got {workers}")
    threads = default_workers(len(todo)) if workers is None else min(workers, max(1, len(todo)))
    if threads <= 1:
        out = []
        for item in todo:
            if cancel is not None:
                cancel.raise_if_cancelled()
            out.append(fn(item))
        return out

    def run(item: T) -> R:
        if cancel is not None:
            cancel.raise_if_cancelled()
        return fn(item)

    pool = _pool(name)
    futures: dict[Future[R], int] = {}
    filled: dict[int, R] = {}
    try:
        queue = iter(enumerate(todo))
        for index, item in itertools.islice(queue, threads):
            futures[pool.submit(run, item)] = index
        pending: set[Future[R]] = set(futures)
        while pending:
            done, pending = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_EXCEPTION)
            for future in done:
                error = future.exception()
                if error is not None:
                    raise error
                filled[futures.pop(future)] = future.result()
                for index, item in itertools.islice(queue, 1):  # keep ``threads`` tasks in flight
                    future = pool.submit(run, item)
                    futures[future] = index
                    pending.add(future)
            if cancel is not None:
                cancel.raise_if_cancelled()
        return [filled[i] for i in range(len(todo))]
    finally:
        # Normal return: every task is done. Error or interrupt: the tasks not submitted never are,
        # and the running ones are not waited for (their results are dropped).
        for future in futures:
            future.cancel()
