"""Child process of :func:`rcakit.graph.data.discover`: jobs on stdin, results on stdout, in JSON and raw floats.

A fresh interpreter (not a fork) so that the parent's running thread pools cannot hang the child,
and so that scripts need no ``if __name__ == "__main__"`` guard as multiprocessing would ask. It
stays up between jobs (importing causal-learn and scikit-learn takes seconds); the parent kills it
when a job runs out of time and starts another one for the next job.

Framing: an 8-byte big-endian length, then the frame. A job frame is an 8-byte length, a JSON header
(method, shape, alpha, the required and forbidden index pairs, deadline, seed) and the matrix as raw
float64 bytes; a result frame is JSON. No pickle: decoding a frame can only build numbers, strings and
lists, whatever the data held (``tests/hardening/test_unsafe_calls.py`` keeps rcakit free of pickle).
"""

from __future__ import annotations

import json
import struct
import sys
from typing import IO, TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rcakit.graph._learners import _Job, _Learned

__all__ = ["decode_job", "decode_result", "encode_job", "encode_result", "read_frame", "write_frame"]


def read_frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack(">Q", head)
    return bytes(stream.read(size))


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(struct.pack(">Q", len(payload)) + payload)
    stream.flush()


def encode_job(method: str, x: np.ndarray, alpha: float, required: list[tuple[int, int]],
               forbidden: list[tuple[int, int]], deadline: float | None, seed: int = 0) -> bytes:
    matrix = np.ascontiguousarray(x, dtype=np.float64)
    head = json.dumps({"method": str(method), "shape": list(matrix.shape), "alpha": float(alpha),
                       "required": [[int(i), int(j)] for i, j in required],
                       "forbidden": [[int(i), int(j)] for i, j in forbidden],
                       "deadline": None if deadline is None else float(deadline), "seed": int(seed)}).encode()
    return struct.pack(">Q", len(head)) + head + matrix.tobytes()


def decode_job(frame: bytes) -> _Job:
    (size,) = struct.unpack(">Q", frame[:8])
    head = json.loads(frame[8:8 + size])
    rows, cols = (int(n) for n in head["shape"])
    x = np.frombuffer(frame[8 + size:], dtype=np.float64, count=rows * cols).reshape(rows, cols).copy()
    pairs = [[(int(i), int(j)) for i, j in head[key]] for key in ("required", "forbidden")]
    deadline = None if head["deadline"] is None else float(head["deadline"])
    return str(head["method"]), x, float(head["alpha"]), pairs[0], pairs[1], deadline, int(head["seed"])


def encode_result(status: str, payload: _Learned | str) -> bytes:
    return json.dumps({"status": status, "payload": payload}).encode()


def decode_result(frame: bytes) -> tuple[str, _Learned | str]:
    """(status, payload): the learned edges when the status is ``"ok"``, else the error message."""
    data = json.loads(frame)
    payload = data["payload"]
    if data["status"] == "ok":
        payload = {"directed": [(int(i), int(j)) for i, j in payload["directed"]],
                   "undirected": [(int(i), int(j)) for i, j in payload["undirected"]],
                   "weights": {str(k): float(v) for k, v in payload["weights"].items()}}
    return str(data["status"]), payload


def _main() -> int:
    from rcakit.graph._learners import _learn

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        frame = read_frame(stdin)
        if frame is None:
            return 0
        try:
            out = encode_result("ok", _learn(*decode_job(frame)))
        except Exception as exc:  # reported by the parent as a DataError
            out = encode_result("error", f"{type(exc).__name__}: {exc}")
        write_frame(stdout, out)


if __name__ == "__main__":
    raise SystemExit(_main())
