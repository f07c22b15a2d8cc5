"""Parent links of spans: the fast search near each span gives what a plain dictionary walk gives.

The loaders look for a span's parent among the rows near it first (exports write a trace's spans
together) and join the rest; these tests compare every link, orphan count, repeat count and root
spelling with a reference written the slow, obvious way, for rows in every order an export has.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from rcakit.errors import DataError
from rcakit.telemetry import LoadReport
from rcakit.telemetry.loaders._spans import _parent_rows, check_span_tree

ROOT_SPELLINGS = ["root", " 0 ", "", "null", "0000000000000000", "None"]


def _forest(seed: int, traces: int = 300) -> pl.DataFrame:
    """Traces of random shape; a few orphans, spelled roots and span ids reused across traces."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str | None, int]] = []
    for t in range(traces):
        size = int(rng.integers(1, 40))
        ids = [f"s{t % 7}-{i}" if rng.random() < 0.1 else f"{t}-{i}-{rng.integers(10**9)}" for i in range(size)]
        ids = list(dict.fromkeys(ids))  # unique within the trace
        for i, span in enumerate(ids):
            parent: str | None = None if i == 0 else ids[int(rng.integers(0, i))]
            if i == 0 and rng.random() < 0.3:
                parent = str(rng.choice(ROOT_SPELLINGS))
            elif i and rng.random() < 0.02:
                parent = f"lost-{t}-{i}"  # its parent was not exported
            rows.append((f"trace-{t}", span, parent, i))
    return pl.DataFrame(rows, schema=["trace_id", "span_id", "parent_id", "depth_order"], orient="row")


def _arrange(frame: pl.DataFrame, layout: str, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    if layout == "parents first":
        return frame
    if layout == "children first":  # as spans are exported when they end
        return frame.reverse()
    if layout == "shuffled":
        return frame.sample(fraction=1.0, shuffle=True, seed=seed)
    # Traces interleaved in blocks, as several exporters writing to one file.
    block = pl.Series(rng.integers(0, 8, frame.height))
    return frame.with_columns(block.alias("b")).sort("b", maintain_order=True).drop("b")


def _reference(frame: pl.DataFrame) -> tuple[list[int], list[bool], int, int]:
    """Parent row (-1 when none), spelled-root flags, orphans and repeats, the slow way."""
    first: dict[tuple[str, str], int] = {}
    repeats = 0
    for row, key in enumerate(zip(frame["trace_id"], frame["span_id"], strict=True)):
        if key in first:
            repeats += 1
        first.setdefault(key, row)
    parents, spelled, orphans = [], [], 0
    for trace, parent in zip(frame["trace_id"], frame["parent_id"], strict=True):
        row = first.get((trace, parent), -1) if parent is not None else -1
        is_root = parent is not None and row < 0 and parent.strip() in {"root", "0", "", "null", "None",
                                                                          "0000000000000000"}
        orphans += parent is not None and row < 0 and not is_root
        parents.append(row)
        spelled.append(is_root)
    return parents, spelled, orphans, repeats


@pytest.mark.parametrize("layout", ["parents first", "children first", "shuffled", "interleaved"])
@pytest.mark.parametrize("repeat_some", [False, True])
def test_links_orphans_and_roots_equal_a_plain_walk(layout: str, repeat_some: bool) -> None:
    frame = _arrange(_forest(seed=1), layout, seed=2)
    if repeat_some:  # a retrying exporter wrote some spans twice: links go to the first of them
        frame = pl.concat([frame, frame.gather(np.arange(0, frame.height, 50))])
    parents, spelled, orphans, repeats = _reference(frame)
    report = LoadReport()
    out, parent_row = _parent_rows(frame, source="x", report=report)
    assert parent_row.tolist() == parents
    assert out.get_column("parent_id").is_null().to_list() == [
        p is None or s for p, s in zip(frame["parent_id"], spelled, strict=True)]
    assert sum(spelled) > 0 and orphans > 0
    assert (report.find("orphan")[0].rows if report.find("orphan") else 0) == orphans
    assert (report.find("repeats")[0].rows if report.find("repeats") else 0) == repeats
    assert (repeats > 0) == repeat_some


def test_the_same_span_id_in_two_traces_is_not_a_link() -> None:
    frame = pl.DataFrame({"trace_id": ["a", "b", "b"], "span_id": ["x", "y", "z"], "parent_id": [None, "x", "y"]})
    report = LoadReport()
    _, parent_row = _parent_rows(frame, source="x", report=report)
    assert parent_row.tolist() == [-1, -1, 1]
    assert report.find("orphan")[0].rows == 1


@pytest.mark.parametrize("layout", ["parents first", "children first", "shuffled"])
def test_a_cycle_is_found_in_any_row_order(layout: str) -> None:
    frame = _arrange(_forest(seed=3, traces=50), layout, seed=4)
    # Close a loop in the largest trace: its root's parent becomes its last span.
    big = frame.group_by("trace_id").len().sort("len", descending=True).get_column("trace_id")[0]
    spans = frame.filter(pl.col("trace_id") == big).sort("depth_order")
    root, last = spans.get_column("span_id")[0], spans.get_column("span_id")[-1]
    looped = frame.with_columns(
        pl.when((pl.col("trace_id") == big) & (pl.col("span_id") == root)).then(pl.lit(last))
        .otherwise(pl.col("parent_id")).alias("parent_id"))
    check_span_tree(frame, source="x", report=LoadReport())
    with pytest.raises(DataError, match=f"cycle in trace '{big}'"):
        check_span_tree(looped, source="x", report=LoadReport())
