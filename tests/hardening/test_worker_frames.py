"""The structure-learning child speaks JSON and raw floats, not pickle, and gives what the parent would compute."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rcakit.graph._worker import decode_job, decode_result, encode_job, encode_result
from rcakit.graph.data import discover


def test_job_and_result_frames_round_trip() -> None:
    x = np.random.default_rng(0).normal(size=(7, 3))
    job = decode_job(encode_job("pc", x, 0.05, [(0, 1)], [(2, 0)], None, 4))
    assert job[0] == "pc" and np.array_equal(job[1], x) and job[2:] == (0.05, [(0, 1)], [(2, 0)], None, 4)
    status, payload = decode_result(encode_result("ok", {"directed": [(0, 1)], "undirected": [], "weights": {"0,1": 0.5}}))
    assert status == "ok" and payload == {"directed": [(0, 1)], "undirected": [], "weights": {"0,1": 0.5}}
    assert decode_result(encode_result("error", "ValueError: x")) == ("error", "ValueError: x")


def test_the_child_process_learns_what_this_process_learns() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=400)
    b = 2 * a + rng.normal(size=400)
    c = -b + rng.normal(size=400)
    data = pd.DataFrame({"x:a": a, "x:b": b, "x:c": c})
    here = discover(data, method="pc", max_seconds=None, seed=3)
    child = discover(data, method="pc", max_seconds=120, seed=3)
    assert not child.timed_out
    assert sorted(child.graph.edges) == sorted(here.graph.edges) and child.undirected == here.undirected
