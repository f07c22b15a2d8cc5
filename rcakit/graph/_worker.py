"""Child process of :func:`rcakit.graph.data.discover`: pickled jobs on stdin, pickled results on stdout.

A fresh interpreter (not a fork) so that the parent's running thread pools cannot hang the child,
and so that scripts need no ``if __name__ == "__main__"`` guard as multiprocessing would ask. It
stays up between jobs (importing causal-learn and scikit-learn takes seconds); the parent kills it
when a job runs out of time and starts another one for the next job.
Framing: an 8-byte big-endian length, then the pickle.

Why pickle is safe here: both ends are rcakit's own code. The parent starts this module with its own
interpreter (``sys.executable -m rcakit.graph._worker``) and talks to it over the two anonymous pipes of
that ``Popen`` only, which no other process holds; nothing is read from a file, a socket or an
environment variable. The parent pickles the job it built itself (a method name, a float matrix, index
pairs, numbers) and unpickles only what this child wrote back (lists of index pairs and floats). Data
values travel as array contents and strings inside those objects: pickling them cannot create opcodes,
so telemetry cannot smuggle code through the frames. ``tests/hardening/test_unsafe_calls.py`` keeps
this the only pickle in rcakit.
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import Any

__all__: list[str] = []


def read_frame(stream: Any) -> bytes | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack(">Q", head)
    return bytes(stream.read(size))


def write_frame(stream: Any, payload: bytes) -> None:
    stream.write(struct.pack(">Q", len(payload)) + payload)
    stream.flush()


def _main() -> int:
    from rcakit.graph.data import _learn

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        frame = read_frame(stdin)
        if frame is None:
            return 0
        try:
            out: tuple[str, Any] = ("ok", _learn(*pickle.loads(frame)))
        except Exception as exc:  # reported by the parent as a DataError
            out = ("error", f"{type(exc).__name__}: {exc}")
        write_frame(stdout, pickle.dumps(out))


if __name__ == "__main__":
    raise SystemExit(_main())
